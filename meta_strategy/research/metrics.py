"""
Performance figures of an equity curve, and the buy-and-hold baseline of a perpetual.

Besides the headline :class:`Performance`, the functions below serve the research report:
:func:`sharpe_ratio` for any bar size, :func:`cagr`, :func:`drawdown_duration`,
:func:`profit_factor`, :func:`btc_multiple`, :func:`bootstrap_sharpe_ci` (a stationary-block
bootstrap), :func:`sharpe_difference` (one run against another on the same bars, paired) and
:func:`deflated_sharpe_ratio` (Bailey & Lopez de Prado, 2014).

Conventions (stated because every tool differs): returns are simple daily returns of the
account equity at each UTC day's close; Sharpe = mean / standard deviation (ddof 1) x sqrt(365);
Sortino = mean / downside deviation (root mean square of the negative returns, over all days)
x sqrt(365); maximum drawdown = largest fall from a running peak, as a fraction of the peak.
No risk-free rate. Crypto trades every day, hence 365.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from meta_strategy.data.candles import load_candles, load_funding
from meta_strategy.data.files import candle_file
from meta_strategy.paths import FEE
from meta_strategy.research.report.equity import (
    EquityCurve,
    buy_and_hold_curve,
    equity_from_trades,
    period_candles,
)


logger = logging.getLogger(__name__)

DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Performance:
    """Headline figures of one equity curve."""

    total_return: float
    sharpe: float
    sortino: float
    max_drawdown: float

    def row(self) -> str:
        """:return: the figures as one line"""
        return (
            f"return {self.total_return:+8.2%}  Sharpe {self.sharpe:6.2f}  "
            f"Sortino {self.sortino:6.2f}  max drawdown {self.max_drawdown:7.2%}"
        )


def performance(daily_equity: pd.Series) -> Performance:
    """
    :param daily_equity: account equity at each day's close, in order, starting value first
    :return: the figures
    """
    values = daily_equity.to_numpy(dtype=float)
    returns = values[1:] / values[:-1] - 1.0
    return Performance(
        total_return=values[-1] / values[0] - 1.0,
        sharpe=sharpe_ratio(returns, DAYS_PER_YEAR),
        sortino=sortino_ratio(returns, DAYS_PER_YEAR),
        max_drawdown=max_drawdown(values),
    )


def max_drawdown(equity: npt.ArrayLike) -> float:
    """
    :param equity: account equity in time order (starting value first)
    :return: the largest fall from a running peak, as a fraction of the peak (0 when none)
    """
    values = np.asarray(equity, dtype=float)
    peaks = np.maximum.accumulate(values)
    return float(np.max(1.0 - values / peaks))


def buy_and_hold_equity(
    candles: pd.DataFrame, funding: pd.DataFrame, start: str, end: str, fee: float = FEE
) -> tuple[pd.Series, float]:
    """
    Daily equity of 1x long the perpetual from ``start`` to ``end``: the hourly
    :func:`~meta_strategy.research.report.equity.buy_and_hold_curve` (bought at the first
    candle's open, funding paid on the notional at each event, entry and exit fees), marked at
    each day's last close.

    :param candles: 1h candles (``date``, ``open``, ``close``)
    :param funding: funding events (``date``, ``funding_rate``)
    :param start: first day (inclusive), e.g. ``"2024-11-17"``
    :param end: last day (exclusive)
    :param fee: fee per side
    :return: daily equity (starting at 1) and the funding paid (as a fraction of start equity)
    """
    window = candles[(candles["date"] >= start) & (candles["date"] < end)].reset_index(drop=True)
    curve = buy_and_hold_curve(window, funding.set_index("date")["funding_rate"], 1.0, fee)
    daily = curve.equity.resample("1D").last()
    start_day = daily.index[0] - pd.Timedelta(days=1)
    return pd.concat([pd.Series([1.0], index=[start_day]), daily]), float(curve.funding.iloc[-1])


def strategy_curves(stats: dict, candles: pd.DataFrame) -> dict[str, EquityCurve]:
    """
    :param stats: Freqtrade backtest statistics (``load_backtest_stats``)
    :param candles: the pair's 1h candles covering the backtest
    :return: each strategy's hourly mark-to-market equity
        (:func:`~meta_strategy.research.report.equity.equity_from_trades`, the research
        report's convention)
    """
    curves = {}
    for name, s in stats["strategy"].items():
        window = period_candles(
            candles,
            pd.Timestamp(s["backtest_start"], tz="UTC"),
            pd.Timestamp(s["backtest_end"], tz="UTC"),
        )
        curves[name] = equity_from_trades(s["trades"], window, float(s["starting_balance"]))
    return curves


def strategy_summaries(stats: dict, candles: pd.DataFrame) -> list[str]:
    """
    :param stats: Freqtrade backtest statistics (``load_backtest_stats``)
    :param candles: the pair's 1h candles covering the backtest
    :return: one line per strategy: trades, performance of the hourly mark-to-market equity
        (:func:`strategy_curves`), fees and funding paid (as fractions of the starting balance)
    """
    rows = []
    for name, curve in strategy_curves(stats, candles).items():
        trades = stats["strategy"][name]["trades"]
        start = curve.start_value
        shorts = sum(1 for t in trades if t["is_short"])
        rows.append(
            f"{name:<18} trades {len(trades):>4} ({len(trades) - shorts} long, {shorts} short)  "
            f"{performance(curve.daily()).row()}  fees paid {curve.fees.iloc[-1] / start:6.2%}  "
            f"funding paid {curve.funding.iloc[-1] / start:+7.3%}"
        )
    return rows


def buy_and_hold_summary(datadir: Path, pair: str, start: str, end: str, fee: float) -> str:
    """
    :param datadir: Freqtrade data directory with the pair's 1h futures and funding files
    :param pair: e.g. ``BTC/USDT:USDT``
    :param start: first day
    :param end: last day (exclusive)
    :param fee: fee per side
    :return: one line in the format of :func:`strategy_summaries`
    """
    candles = load_candles(candle_file(datadir, pair, "1h"))
    funding = load_funding(candle_file(datadir, pair, "1h", "funding_rate"))
    equity, paid = buy_and_hold_equity(candles, funding, start, end, fee=fee)
    return (
        f"{'buy-and-hold perp':<18} trades    1 (1 long, 0 short)  "
        f"{performance(equity).row()}  fees paid {2 * fee:6.2%}  funding paid {paid:+7.3%}"
    )


EULER_GAMMA = 0.5772156649015329
PERIODS_PER_YEAR = {"1h": 24 * 365, "4h": 6 * 365, "1d": 365}


def sharpe_ratio(returns: np.ndarray, periods_per_year: float) -> float:
    """
    Annualised Sharpe ratio: mean / standard deviation (ddof 1) x sqrt(periods per year).

    :param returns: simple returns per bar
    :param periods_per_year: bars per year (8760 for 1h, 365 for 1d: crypto trades every day)
    :return: the ratio (0 when the returns do not vary)
    """
    returns = np.asarray(returns, dtype=float)
    if len(returns) < 2:
        return 0.0
    std = returns.std(ddof=1)
    return float(returns.mean() / std * math.sqrt(periods_per_year)) if std > 0 else 0.0


def sortino_ratio(returns: np.ndarray, periods_per_year: float) -> float:
    """
    Annualised Sortino ratio: mean / downside deviation x sqrt(periods per year), the downside
    deviation being the root mean square of the negative returns over all bars.

    :param returns: simple returns per bar
    :param periods_per_year: bars per year
    :return: the ratio (0 without losses or returns)
    """
    returns = np.asarray(returns, dtype=float)
    if len(returns) == 0:
        return 0.0
    downside = math.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))
    return float(returns.mean() / downside * math.sqrt(periods_per_year)) if downside > 0 else 0.0


def cagr(start_value: float, end_value: float, days: float) -> float:
    """
    :return: compound annual growth rate over ``days`` calendar days (365.25 per year)
    """
    if start_value <= 0 or days <= 0:
        raise ValueError("cagr: start value and days must be positive")
    if end_value <= 0:
        return -1.0
    return (end_value / start_value) ** (365.25 / days) - 1.0


def drawdown_duration(equity: pd.Series) -> pd.Timedelta:
    """
    :param equity: equity indexed by time
    :return: the longest time from a peak to the moment equity is back at it (or to the end
        of the series, if it never is)
    """
    values = equity.to_numpy(dtype=float)
    times = equity.index
    longest = pd.Timedelta(0)
    peak_time = times[0]
    peak = values[0]
    underwater = False
    for t, v in zip(times, values, strict=True):
        if v >= peak:
            if underwater:  # back at the peak: the drawdown lasted from peak_time to t
                longest = max(longest, t - peak_time)
                underwater = False
            peak, peak_time = v, t
        else:
            underwater = True
    if underwater:
        longest = max(longest, times[-1] - peak_time)
    return longest


def profit_factor(profits: np.ndarray) -> float:
    """:return: gross profit / gross loss of the trades (inf without losses, 0 without gains)"""
    profits = np.asarray(profits, dtype=float)
    gains = profits[profits > 0].sum()
    losses = -profits[profits < 0].sum()
    if losses == 0:
        return math.inf if gains > 0 else 0.0
    return float(gains / losses)


def btc_multiple(equity_start: float, equity_end: float, btc_start: float, btc_end: float) -> float:
    """
    How many BTC the account is worth at the end per BTC at the start.

    :param equity_start: account value at the start, in the quote currency (after funding etc.)
    :param equity_end: account value at the end
    :param btc_start: BTC price at the start
    :param btc_end: BTC price at the end
    :return: (equity_end / btc_end) / (equity_start / btc_start)
    """
    return (equity_end / btc_end) / (equity_start / btc_start)


def stationary_bootstrap_indices(
    n: int, block: int, samples: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """
    Indices of the stationary bootstrap (Politis & Romano, 1994): each resampled series is glued
    from blocks of geometric length with mean ``block`` bars, starting at random bars and wrapping
    at the end, which keeps the autocorrelation of returns.

    :param n: length of the series
    :param block: mean block length in bars
    :param samples: how many resampled series
    :param rng: random generator (the draws are reproducible from its seed)
    :return: one index array of length ``n`` per sample
    """
    p_new = 1.0 / block
    for _ in range(samples):
        starts = rng.integers(0, n, n)
        new_block = rng.random(n) < p_new
        new_block[0] = True
        # Position in the series: jump to a random start on a new block, else continue (wrap).
        block_ids = np.cumsum(new_block) - 1
        block_starts = starts[new_block]
        offsets = np.arange(n) - np.flatnonzero(new_block)[block_ids]
        yield (block_starts[block_ids] + offsets) % n


def percentile_interval(stats: np.ndarray, level: float) -> tuple[float, float]:
    """:return: the central ``level`` interval of bootstrap statistics (percentile method)"""
    alpha = (1.0 - level) / 2.0
    return (float(np.quantile(stats, alpha)), float(np.quantile(stats, 1.0 - alpha)))


def bootstrap_sharpe_ci(
    returns: np.ndarray,
    periods_per_year: float,
    *,
    block: int = 24,
    samples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """
    Confidence interval of the annualised Sharpe ratio by the stationary bootstrap
    (:func:`stationary_bootstrap_indices`). Percentile interval.

    :param returns: simple returns per bar
    :param periods_per_year: bars per year
    :param block: mean block length in bars
    :param samples: bootstrap samples
    :param level: confidence level
    :param seed: random seed (the interval is reproducible)
    :return: (low, high)
    """
    returns = np.asarray(returns, dtype=float)
    n = len(returns)
    if n < 2:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    stats = np.array(
        [
            sharpe_ratio(returns[idx], periods_per_year)
            for idx in stationary_bootstrap_indices(n, block, samples, rng)
        ]
    )
    return percentile_interval(stats, level)


@dataclass(frozen=True)
class SharpeDifference:
    """Sharpe ratio of one run minus another's over the same bars, with its paired interval."""

    difference: float
    ci_low: float
    ci_high: float
    share_not_above: float
    """Share of the bootstrap samples where the difference is 0 or less: about the one-sided
    p-value of "the first run's Sharpe is above the second's"."""

    @property
    def verdict(self) -> str:
        """:return: ``above`` or ``below`` when the interval excludes 0, else ``undecided``"""
        return interval_verdict(self.ci_low, self.ci_high)


def interval_verdict(low: float, high: float) -> str:
    """:return: ``above`` / ``below`` when the interval of a difference excludes 0, else
    ``undecided``"""
    return "above" if low > 0 else "below" if high < 0 else "undecided"


def sharpe_difference(
    returns: np.ndarray,
    other: np.ndarray,
    periods_per_year: float,
    *,
    block: int = 24,
    samples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> SharpeDifference:
    """
    Sharpe(returns) - Sharpe(other) with a *paired* stationary-bootstrap interval: both series
    are resampled on the same bars, so the market moves they share cancel out. Two runs on the
    same market are strongly correlated, and their separate intervals (about +-1 Sharpe over
    three years) say little about which is better; the paired one does (Ledoit & Wolf, 2008,
    "Robust performance hypothesis testing with the Sharpe ratio", whose studentised version
    this simplifies to a percentile interval).

    :param returns: simple returns per bar of the run judged
    :param other: simple returns per bar of the run it is compared with, on the same bars
    :param periods_per_year: bars per year
    :param block: mean block length in bars
    :param samples: bootstrap samples
    :param level: confidence level
    :param seed: random seed (the interval is reproducible)
    :return: the difference, its interval and the share of samples at or below 0
    :raises ValueError: the two series differ in length
    """
    a = np.asarray(returns, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(
            f"paired Sharpe difference needs returns on the same bars; got {len(a)} and {len(b)}"
        )
    difference = sharpe_ratio(a, periods_per_year) - sharpe_ratio(b, periods_per_year)
    if len(a) < 2:
        return SharpeDifference(difference, difference, difference, float(difference <= 0))
    rng = np.random.default_rng(seed)
    stats = np.array(
        [
            sharpe_ratio(a[idx], periods_per_year) - sharpe_ratio(b[idx], periods_per_year)
            for idx in stationary_bootstrap_indices(len(a), block, samples, rng)
        ]
    )
    low, high = percentile_interval(stats, level)
    return SharpeDifference(difference, low, high, share_not_above=float(np.mean(stats <= 0.0)))


def deflated_sharpe_ratio(returns: np.ndarray, trials: int, trial_sharpe_variance: float) -> float:
    """
    Deflated Sharpe ratio (Bailey & Lopez de Prado, 2014, "The Deflated Sharpe Ratio"): the
    probability that the true Sharpe ratio exceeds the best one expected by chance among
    ``trials`` configurations, correcting for skewness and kurtosis of the returns.

    SR0 = sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))),
    DSR = Z((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2)),
    with SR and V per bar (not annualised), g the Euler-Mascheroni constant, kurt the
    (non-excess) kurtosis and T the number of returns.

    :param returns: simple returns per bar of the chosen configuration
    :param trials: number of configurations tried (N >= 1)
    :param trial_sharpe_variance: variance of the per-bar Sharpe ratios across the trials
    :return: DSR in [0, 1]
    """
    from scipy.stats import kurtosis, norm, skew

    returns = np.asarray(returns, dtype=float)
    t = len(returns)
    if t < 3 or returns.std(ddof=1) == 0:
        return 0.0
    sr = returns.mean() / returns.std(ddof=1)
    if trials <= 1:
        sr0 = 0.0
    else:
        sr0 = math.sqrt(trial_sharpe_variance) * (
            (1 - EULER_GAMMA) * norm.ppf(1 - 1 / trials)
            + EULER_GAMMA * norm.ppf(1 - 1 / (trials * math.e))
        )
    g3 = skew(returns)
    g4 = kurtosis(returns, fisher=False)
    denominator = math.sqrt(max(1 - g3 * sr + (g4 - 1) / 4 * sr * sr, 1e-12))
    return float(norm.cdf((sr - sr0) * math.sqrt(t - 1) / denominator))


def classify_regimes(daily_close: pd.Series, window: int = 60, threshold: float = 1.0) -> pd.Series:
    """
    Market regime of each day from trailing data only: the ``window``-day log return in units
    of its own volatility, ``z = ln(P_t / P_{t-w}) / (sigma_daily sqrt(w))`` with sigma the
    standard deviation of the daily log returns over the same window. ``bull`` when
    ``z > threshold``, ``bear`` when ``z < -threshold``, ``sideways`` otherwise; ``unknown``
    before a full window exists. A day's regime uses its close and earlier closes only.

    :param daily_close: daily closes indexed by day
    :param window: trailing days
    :param threshold: z beyond which the market trends
    :return: regime labels, same index
    """
    log_close = np.log(daily_close.astype(float))
    trailing = log_close - log_close.shift(window)
    sigma = log_close.diff().rolling(window).std()
    z = trailing / (sigma * math.sqrt(window))
    labels = pd.Series("sideways", index=daily_close.index, dtype=object)
    labels[z > threshold] = "bull"
    labels[z < -threshold] = "bear"
    labels[z.isna()] = "unknown"
    return labels


def returns_by_group(daily_equity: pd.Series, groups: pd.Series) -> pd.Series:
    """
    Compounded return of the equity curve within each group of days (e.g. each regime, or
    each calendar year): the product of the daily growth factors of the group's days.

    :param daily_equity: equity at each day's close (first value = start)
    :param groups: label of each day, indexed like ``daily_equity`` (the first day has no
        return of its own)
    :return: return per group label
    """
    growth = daily_equity / daily_equity.shift(1)
    frame = pd.DataFrame({"growth": growth, "group": groups}).dropna()
    return frame.groupby("group")["growth"].prod() - 1.0
