"""
The figures of a research report: for every run (and buy-and-hold and flat) the headline
metrics, per calendar year and per market regime, with bootstrap confidence intervals of the
Sharpe ratio and the deflated Sharpe ratio over all configurations tried; then, per year and per
regime, who won.

Conventions: Sharpe, Sortino and their intervals use daily returns of the hourly mark-to-market
equity (see :mod:`meta_strategy.research.report.equity`), annualised with sqrt(365); maximum
drawdown and exposure use the hourly curve; CAGR counts calendar days (365.25 per year);
Calmar = CAGR / max drawdown. Fees and funding are fractions of the starting balance (funding
> 0: paid). Regimes: bull / bear / sideways by :func:`meta_strategy.research.metrics.
classify_regimes` on the perpetual's daily close, and beside them the four market regimes of
:mod:`meta_strategy.signals.regimes` (ranging, trending, volatile, trending-volatile) at each
day's last candle; a day's return counts in the regime known at the start of that day.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.research.metrics import (
    bootstrap_sharpe_ci,
    btc_multiple,
    cagr,
    classify_regimes,
    deflated_sharpe_ratio,
    drawdown_duration,
    max_drawdown,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
)
from meta_strategy.research.report.equity import EquityCurve
from meta_strategy.signals.regimes import REGIMES, market_regimes


logger = logging.getLogger(__name__)

DAYS = 365
BOOTSTRAP_BLOCK_DAYS = 5
BOOTSTRAP_SAMPLES = 2000
REGIME_NAMES = {
    "trend": ("bull", "bear", "sideways", "unknown"),
    "market": (*REGIMES, "unknown"),
}
"""The labels of each regime classification, in report order."""


@dataclass
class RunFigures:
    """Everything the report says about one run."""

    name: str
    group: str  # "meta", "deployed" (the shipped meta run, risk on), "baseline" or "strategy"
    label: str  # what a trader calls it
    algorithm: str | None = None
    seed: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    by_year: dict[str, dict[str, float]] = field(default_factory=dict)
    by_regime: dict[str, dict[str, float]] = field(default_factory=dict)
    wall_s: float | None = None
    identifier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON-ready figures"""
        return asdict(self)


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _group_figures(daily_returns: pd.Series, seed: int) -> dict[str, float]:
    values = daily_returns.to_numpy(dtype=float)
    low, high = bootstrap_sharpe_ci(
        values, DAYS, block=BOOTSTRAP_BLOCK_DAYS, samples=BOOTSTRAP_SAMPLES, seed=seed
    )
    return {
        "return": float(np.prod(1.0 + values) - 1.0),
        "sharpe": sharpe_ratio(values, DAYS),
        "sharpe_ci_low": low,
        "sharpe_ci_high": high,
        "days": len(values),
    }


def curve_metrics(
    curve: EquityCurve, trades: list[dict] | None, regimes: pd.Series | pd.DataFrame
) -> tuple[dict[str, float], dict[str, dict], dict[str, dict]]:
    """
    :param curve: the run's hourly equity
    :param trades: its Freqtrade trades (None for buy-and-hold and flat)
    :param regimes: regime labels per day (:func:`daily_regimes`; a Series is the ``trend``
        column alone)
    :return: headline metrics, per-year figures, per-regime figures
    """
    equity = curve.equity
    returns = curve.daily_returns()
    start, end = curve.start_value, float(equity.iloc[-1])
    days = (equity.index[-1] - equity.index[0]).total_seconds() / 86400 + 1 / 24
    max_dd = max_drawdown(np.r_[start, equity.to_numpy()])
    growth = cagr(start, end, days)
    low, high = bootstrap_sharpe_ci(
        returns.to_numpy(), DAYS, block=BOOTSTRAP_BLOCK_DAYS, samples=BOOTSTRAP_SAMPLES, seed=0
    )
    if trades is not None and curve.liquidated_at is not None:  # nothing trades after that
        cutoff = curve.liquidated_at
        trades = [t for t in trades if pd.Timestamp(t["open_date"]) < cutoff]
    profits = np.array([t["profit_abs"] for t in trades]) if trades is not None else None
    exposure = curve.exposure
    metrics = {
        "total_return": end / start - 1.0,
        "cagr": growth,
        "sharpe": sharpe_ratio(returns.to_numpy(), DAYS),
        "sharpe_ci_low": low,
        "sharpe_ci_high": high,
        "sortino": sortino_ratio(returns.to_numpy(), DAYS),
        "calmar": growth / max_dd if max_dd > 0 else 0.0,
        "max_drawdown": max_dd,
        "max_drawdown_days": drawdown_duration(
            pd.concat([pd.Series([start], index=[equity.index[0] - pd.Timedelta(hours=1)]), equity])
        ).total_seconds()
        / 86400,
        "profit_factor": profit_factor(profits) if profits is not None else None,
        "win_rate": float(np.mean(profits > 0)) if profits is not None and len(profits) else None,
        "trades": len(profits) if profits is not None else (1 if curve.position.any() else 0),
        "time_in_market": float(np.mean(curve.position.to_numpy() != 0.0)),
        "mean_abs_exposure": float(exposure.abs().mean()),
        "fees_paid": float(curve.fees.iloc[-1]) / start,
        "funding_paid": float(curve.funding.iloc[-1]) / start,
        "btc_multiple": btc_multiple(start, end, curve.start_price, float(curve.close.iloc[-1])),
        "liquidated_at": None if curve.liquidated_at is None else str(curve.liquidated_at),
    }
    if trades is not None:
        metrics["long_trades"] = sum(1 for t in trades if not t["is_short"])
        metrics["short_trades"] = sum(1 for t in trades if t["is_short"])
    years = returns.index.year.astype(str)
    by_year = {y: _group_figures(returns[years == y], seed=int(y)) for y in sorted(set(years))}
    # A day's return goes to the regime known at that day's start (the previous day's label),
    # in each classification: bull / bear / sideways, and the four market regimes.
    by_regime = {}
    table = regimes.to_frame("trend") if isinstance(regimes, pd.Series) else regimes
    for column, names in REGIME_NAMES.items():
        if column not in table:
            continue
        labels = table[column].shift(1).reindex(returns.index).fillna("unknown")
        for i, r in enumerate(names):
            if (labels == r).any() and r not in by_regime:
                by_regime[r] = _group_figures(returns[labels == r], seed=i)
    metrics = {k: _finite(v) if isinstance(v, float) else v for k, v in metrics.items()}
    return metrics, by_year, by_regime


def daily_regimes(candles: pd.DataFrame) -> pd.DataFrame:
    """
    :param candles: 1h candles reaching back at least the regime windows before the period
    :return: per day, ``trend`` (bull / bear / sideways by
        :func:`~meta_strategy.research.metrics.classify_regimes` on the daily close) and
        ``market`` (ranging / trending / volatile / trending_volatile at the day's last candle,
        :func:`~meta_strategy.signals.regimes.market_regimes`)
    """
    by_date = candles.set_index("date")
    daily_close = by_date["close"].resample("1D").last().dropna()
    codes = pd.Series(market_regimes(candles)["regime"].to_numpy(), index=by_date.index)
    market = codes.resample("1D").last().map(dict(enumerate(REGIMES)))
    return pd.DataFrame({"trend": classify_regimes(daily_close), "market": market})


def add_deflated_sharpe(
    runs: list[RunFigures], daily_returns: dict[str, pd.Series], trials: int
) -> float:
    """
    Deflated Sharpe ratio of every run, with ``trials`` configurations tried (every
    configuration recorded for the period, :mod:`~meta_strategy.research.report.trials`, and
    at least the runs here) and the variance of the daily Sharpe ratios of the runs here.

    :return: that variance
    """
    tried = [r.name for r in runs if r.name != "flat"]
    per_bar = []
    for name in tried:
        values = daily_returns[name].to_numpy(dtype=float)
        std = values.std(ddof=1)
        per_bar.append(values.mean() / std if std > 0 else 0.0)
    variance = float(np.var(per_bar, ddof=1)) if len(per_bar) > 1 else 0.0
    for run in runs:
        run.metrics["deflated_sharpe"] = (
            deflated_sharpe_ratio(daily_returns[run.name].to_numpy(), trials, variance)
            if run.name != "flat"
            else None
        )
    return variance


def winners(
    runs: list[RunFigures], breakdown: str, shipped_algorithm: str | None = None
) -> dict[str, dict[str, Any]]:
    """
    Who won each year (``breakdown="by_year"``) or regime (``"by_regime"``): the run with the
    highest Sharpe, its interval, the best meta-learner run (labelled a best-of-N pick),
    the shipped configuration's mean over seeds and buy-and-hold beside it, and whether that
    mean Sharpe was above buy-and-hold's. Nothing is left out: the full tables hold every run.

    :param shipped_algorithm: the algorithm whose seeds make the mean (None: every meta run)
    :return: ``{group: {...}}``
    """
    groups = sorted({g for r in runs for g in getattr(r, breakdown)})
    out = {}
    for g in groups:
        present = [r for r in runs if g in getattr(r, breakdown) and r.name != "flat"]
        if not present:
            continue

        def sharpe(r: RunFigures, g: str = g) -> float:
            return getattr(r, breakdown)[g]["sharpe"]

        best = max(present, key=sharpe)
        meta = [r for r in present if r.group == "meta"]
        shipped = [r for r in meta if shipped_algorithm in (None, r.algorithm)]
        hold = next((r for r in present if r.name == "buy_and_hold"), None)
        entry: dict[str, Any] = {
            "winner": best.label,
            "winner_group": best.group,
            **{
                k: getattr(best, breakdown)[g][k]
                for k in ("return", "sharpe", "sharpe_ci_low", "sharpe_ci_high", "days")
            },
        }
        if meta:
            best_meta = max(meta, key=sharpe)
            entry["best_meta"] = best_meta.label
            entry["best_meta_of"] = len(meta)
            entry["best_meta_sharpe"] = sharpe(best_meta)
            entry["best_meta_ci"] = [
                getattr(best_meta, breakdown)[g]["sharpe_ci_low"],
                getattr(best_meta, breakdown)[g]["sharpe_ci_high"],
            ]
        if shipped:
            entry["meta_mean_return"] = float(
                np.mean([getattr(r, breakdown)[g]["return"] for r in shipped])
            )
            entry["meta_mean_sharpe"] = float(np.mean([sharpe(r) for r in shipped]))
        if hold is not None:
            entry["buy_and_hold_sharpe"] = sharpe(hold)
            entry["buy_and_hold_return"] = getattr(hold, breakdown)[g]["return"]
            if shipped:
                entry["meta_beat_buy_and_hold"] = bool(entry["meta_mean_sharpe"] > sharpe(hold))
        out[g] = entry
    return out
