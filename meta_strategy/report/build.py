"""
``bitbot report``: run (or reuse) every backtest of the plan, compute the figures, and write
``results.json``, CSV tables and a self-contained HTML report under ``user_data/reports/<name>``;
record every trained meta-model in the model registry.
"""

from __future__ import annotations

import csv
import json
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.data import candle_file, load_candles, load_funding, parse_timerange
from meta_strategy.report.analysis import (
    RunFigures,
    add_deflated_sharpe,
    algorithm_summary,
    curve_metrics,
    daily_regimes,
    winners,
)
from meta_strategy.report.equity import (
    EquityCurve,
    buy_and_hold_curve,
    equity_from_trades,
    flat_curve,
    liquidate,
    period_candles,
)
from meta_strategy.report.plan import ReportSettings, build_plan
from meta_strategy.report.runs import MODELS_DIR, RunResult, merged_fee, run_plan
from meta_strategy.runner import FREQAI_OVERLAY, POC_STRATEGIES


logger = logging.getLogger(__name__)

REPORTS_DIR = Path("user_data/reports")
WARMUP_DAYS = 60  # indicator start-up before a training window (VolatilitySystem: 1000 hours)
LABELS = {
    "VolatilitySystem": "Volatility System",
    "SupertrendStrategy": "Triple Supertrend",
    "OTTStrategy": "OTT",
    "BbandRsi": "BbandRsi",
    "EqualVoteStrategy": "Equal-weight vote",
    "PerformanceVoteStrategy": "Performance-weighted vote",
    "StackerStrategy": "LightGBM stacker",
    "buy_and_hold": "Buy-and-hold perp",
    "flat": "Flat",
}


@dataclass(frozen=True)
class ReportOutput:
    """Where a report was written, and its figures."""

    folder: Path
    html: Path
    results: dict[str, Any]


def close_timerange(
    timerange: str,
    first_candle: pd.Timestamp,
    last_candle: pd.Timestamp,
    history_days: int,
    log: Callable[[str], None] = print,
) -> str:
    """
    The report's period as a closed timerange within what the data allows: FreqAI refuses
    open-ended timeranges (an open end becomes the last whole day of the data), and the first
    model needs ``history_days`` of data before the period starts (a later start is said).

    :param timerange: e.g. ``20210101-``
    :param first_candle: the first candle of the data
    :param last_candle: the last candle of the data
    :param history_days: days of data needed before the start (training window and warm-up)
    :return: e.g. ``20210101-20251116``
    """
    start, end = parse_timerange(timerange)
    if start is None:
        raise ValueError(f"the report needs a start date, got timerange {timerange!r}")
    end = min(end, last_candle.normalize()) if end is not None else last_candle.normalize()
    earliest = first_candle.normalize() + pd.Timedelta(days=history_days)
    if start < earliest:
        log(
            f"bitbot report: the data starts {first_candle:%Y-%m-%d}; the first model needs "
            f"{history_days} days before the period, so it starts {earliest:%Y-%m-%d}, "
            f"not {start:%Y-%m-%d}"
        )
        start = earliest
    if end <= start:
        raise ValueError(
            f"timerange {timerange!r} leaves no period between {start:%Y-%m-%d} and the end of "
            f"the data ({last_candle:%Y-%m-%d})"
        )
    return f"{start:%Y%m%d}-{end:%Y%m%d}"


def _curve_of(stats: dict, candles: pd.DataFrame) -> tuple:
    start = pd.Timestamp(stats["backtest_start"], tz="UTC")
    end = pd.Timestamp(stats["backtest_end"], tz="UTC")
    window = period_candles(candles, start, end)
    curve = equity_from_trades(stats["trades"], window, float(stats["starting_balance"]))
    return curve, stats["trades"], window


def _group_of(result: RunResult, strategy: str) -> str:
    if result.spec.kind == "rl":
        return "meta"
    return "strategy" if strategy in POC_STRATEGIES else "baseline"


def _label_of(result: RunResult, strategy: str) -> str:
    if result.spec.kind == "rl":
        return f"Meta {result.spec.algorithm} seed {result.spec.seed}"
    return LABELS.get(strategy, strategy)


def analyse(
    results: list[RunResult],
    candles: pd.DataFrame,
    funding: pd.DataFrame,
    fee: float,
    maintenance_margin: float,
    log: Callable[[str], None] = print,
) -> tuple[list[RunFigures], dict[str, EquityCurve], int]:
    """
    :param maintenance_margin: liquidation threshold applied to every curve
        (:func:`~meta_strategy.report.equity.liquidate`)
    :return: figures of every run plus buy-and-hold and flat, their curves and the number of
        configurations tried
    """
    regimes = daily_regimes(candles)
    figures: list[RunFigures] = []
    curves: dict[str, EquityCurve] = {}
    window = None
    for result in results:
        all_stats = result.stats()["strategy"]
        for strategy in result.spec.strategies:
            curve, trades, window = _curve_of(all_stats[strategy], candles)
            curve = liquidate(curve, window, maintenance_margin)
            name = result.spec.name if result.spec.kind == "rl" else strategy
            metrics, by_year, by_regime = curve_metrics(curve, trades, regimes)
            figures.append(
                RunFigures(
                    name=name,
                    group=_group_of(result, strategy),
                    label=_label_of(result, strategy),
                    algorithm=result.spec.algorithm,
                    seed=result.spec.seed,
                    metrics=metrics,
                    by_year=by_year,
                    by_regime=by_regime,
                    wall_s=result.wall_s,
                    identifier=result.identifier,
                )
            )
            curves[name] = curve
    if window is None:
        raise ValueError("the report has no runs")
    start_value = next(iter(curves.values())).start_value
    rates = funding.set_index("date")["funding_rate"]
    for name, curve in (
        (
            "buy_and_hold",
            liquidate(
                buy_and_hold_curve(window, rates, start_value, fee), window, maintenance_margin
            ),
        ),
        ("flat", flat_curve(window, start_value)),
    ):
        metrics, by_year, by_regime = curve_metrics(curve, None, regimes)
        figures.append(
            RunFigures(
                name,
                "baseline",
                LABELS[name],
                metrics=metrics,
                by_year=by_year,
                by_regime=by_regime,
            )
        )
        curves[name] = curve
    trials = add_deflated_sharpe(figures, {n: c.daily_returns() for n, c in curves.items()})
    log(f"  figures of {len(figures)} runs ({trials} configurations tried)")
    return figures, curves, trials


def maintenance_margin(freqai_overlay: str = FREQAI_OVERLAY) -> float:
    """
    :return: the training environment's maintenance margin
        (``freqai.rl_config.costs.maintenance_margin``), for the report's liquidation rule
    """
    from meta_strategy.env import CostModel

    rl_config = json.loads(Path(freqai_overlay).read_text()).get("freqai", {}).get("rl_config", {})
    return float(rl_config.get("costs", {}).get("maintenance_margin", CostModel.maintenance_margin))


def curves_frame(curves: dict[str, EquityCurve]) -> dict[str, Any]:
    """:return: daily series for the charts: equity (start = 1), drawdown, exposure, price"""
    out: dict[str, Any] = {"equity": {}, "drawdown": {}, "exposure": {}}
    for name, curve in curves.items():
        daily = curve.daily() / curve.start_value
        out["equity"][name] = [round(float(v), 6) for v in daily]
        out["drawdown"][name] = [round(float(v), 6) for v in daily / daily.cummax() - 1.0]
        exposure = curve.exposure.resample("1D").mean().reindex(daily.index).fillna(0.0)
        out["exposure"][name] = [round(float(v), 4) for v in exposure]
        out["dates"] = [d.strftime("%Y-%m-%d") for d in daily.index]
        out["price"] = [
            round(float(v), 2)
            for v in curve.close.resample("1D").last().reindex(daily.index).bfill()
        ]
    return out


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_tables(folder: Path, figures: list[RunFigures], curves: dict[str, Any]) -> None:
    """Write ``runs.csv``, ``by_year.csv``, ``by_regime.csv`` and ``daily_equity.csv``."""
    base = ("name", "label", "group", "algorithm", "seed")
    _write_csv(
        folder / "runs.csv",
        [{**{k: getattr(f, k) for k in base}, **f.metrics} for f in figures],
    )
    for breakdown in ("by_year", "by_regime"):
        rows = [
            {**{k: getattr(f, k) for k in base}, breakdown[3:]: group, **values}
            for f in figures
            for group, values in getattr(f, breakdown).items()
        ]
        _write_csv(folder / f"{breakdown}.csv", rows)
    daily = pd.DataFrame(curves["equity"], index=curves["dates"])
    daily.index.name = "date"
    daily.to_csv(folder / "daily_equity.csv")


def record_models(
    figures: list[RunFigures],
    curves: dict[str, EquityCurve],
    settings: ReportSettings,
    report_name: str,
    pair: str,
    registry_path: Path | None = None,
    models_root: Path = MODELS_DIR,
) -> int:
    """
    Record every trained window model of the meta-learner runs in the model registry, with its
    own out-of-sample window figures and the figures of its whole walk-forward run.

    :return: number of models recorded
    """
    from meta_strategy.models import DEFAULT_REGISTRY, ModelRecord, ModelRegistry, discover_windows

    registry = ModelRegistry(registry_path or DEFAULT_REGISTRY)
    hold = next(f for f in figures if f.name == "buy_and_hold")
    count = 0
    for run in figures:
        if run.group != "meta" or not run.identifier:
            continue
        curve = curves[run.name]
        for window in discover_windows(models_root, run.identifier):
            oos_start = pd.Timestamp(window.trained_timestamp, unit="s", tz="UTC")
            oos_end = oos_start + pd.Timedelta(days=settings.backtest_period_days)
            train_days = timedelta(days=settings.train_period_days)
            index = curve.equity.index
            equity = curve.equity[(index >= oos_start) & (index < oos_end)]
            before = curve.equity[curve.equity.index < oos_start]
            base = float(before.iloc[-1]) if len(before) else curve.start_value
            window_return = float(equity.iloc[-1] / base - 1.0) if len(equity) else None
            registry.record(
                ModelRecord(
                    id=None,
                    identifier=run.identifier,
                    algorithm=run.algorithm or "",
                    seed=int(run.seed or 0),
                    config_hash=run.identifier.rsplit("-", 1)[-1],
                    pair=pair,
                    train_start=f"{oos_start - train_days:%Y-%m-%d}",
                    train_end=f"{oos_start:%Y-%m-%d}",
                    oos_start=f"{oos_start:%Y-%m-%d}",
                    oos_end=f"{min(oos_end, index[-1]):%Y-%m-%d}",
                    model_path=str(window.model_path),
                    window_metrics={"return": window_return},
                    run_metrics={
                        **{
                            k: run.metrics.get(k)
                            for k in (
                                "total_return",
                                "sharpe",
                                "sharpe_ci_low",
                                "sharpe_ci_high",
                                "max_drawdown",
                                "deflated_sharpe",
                            )
                        },
                        "buy_and_hold_sharpe": hold.metrics["sharpe"],
                        "period": f"{index[0]:%Y-%m-%d}..{index[-1]:%Y-%m-%d}",
                    },
                    report=report_name,
                    created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                )
            )
            count += 1
    return count


def build_report(
    settings: ReportSettings,
    *,
    jobs: int = 1,
    rerun: bool = False,
    reports_dir: Path = REPORTS_DIR,
    registry_path: Path | None = None,
    log: Callable[[str], None] = print,
) -> ReportOutput:
    """
    Run (or reuse) the plan's backtests on the resolved data and write the report.

    :param settings: what to run
    :param jobs: backtests run at a time
    :param rerun: rerun backtests even when saved results match
    :param reports_dir: parent folder of the report folder
    :param registry_path: model registry (default ``user_data/models.sqlite``)
    :param log: progress printer
    :return: where it was written, and the figures
    """
    from meta_strategy.report.html import render_html
    from meta_strategy.report.training import read_training_curves
    from meta_strategy.runner import SYNTHETIC_NOTICE, ensure_data, resolve_backtest_data

    started = time.perf_counter()
    for noisy in ("freqtrade", "tensorboard"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    choice = resolve_backtest_data()
    log(f"bitbot report: {choice.description}")
    ensure_data(choice)
    candles = load_candles(candle_file(choice.datadir, choice.pair, "1h"))
    funding = load_funding(candle_file(choice.datadir, choice.pair, "1h", "funding_rate"))
    period = close_timerange(
        settings.timerange,
        candles["date"].iloc[0],
        candles["date"].iloc[-1],
        settings.train_period_days + WARMUP_DAYS,
        log=log,
    )
    settings = replace(settings, timerange=period)
    folder = reports_dir / settings.name
    folder.mkdir(parents=True, exist_ok=True)
    plan = build_plan(settings, choice.configs)
    fee = merged_fee(choice.configs) + settings.slippage_bps / 10_000
    log(
        f"bitbot report: {len(plan)} backtests over {settings.timerange} "
        f"({jobs} at a time), fee + slippage {fee:.4%} per fill -> {folder}"
    )
    t_runs = time.perf_counter()
    results = run_plan(
        plan, settings, choice.datadir, choice.pair, folder, jobs=jobs, rerun=rerun, log=log
    )
    runs_s = time.perf_counter() - t_runs
    t_analysis = time.perf_counter()
    margin = maintenance_margin()
    figures, curves, trials = analyse(results, candles, funding, fee, margin, log=log)
    training = {
        f.name: read_training_curves(MODELS_DIR, f.identifier)
        for f in figures
        if f.group == "meta" and f.identifier
    }
    series = curves_frame(curves)
    analysis_s = time.perf_counter() - t_analysis
    results_json: dict[str, Any] = {
        "report": settings.name,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": choice.description,
        "synthetic": choice.synthetic,
        "pair": choice.pair,
        "period": settings.timerange,
        "settings": {
            **{k: v for k, v in settings.__dict__.items() if k != "name"},
            "fee_per_fill_incl_slippage": fee,
            "configs": list(choice.configs),
        },
        "configurations_tried": trials,
        "conventions": {
            "sharpe": "daily returns of hourly mark-to-market equity, mean/std x sqrt(365), "
            "no risk-free rate; 95% interval by stationary bootstrap (5-day mean blocks)",
            "deflated_sharpe": f"Bailey & Lopez de Prado (2014), {trials} configurations tried",
            "regime": "60-day trailing log return / (daily volatility x sqrt(60)): bull > 1, "
            "bear < -1, else sideways; trailing data only; a day's return counts in the regime "
            "known at the day's start (the previous day's label)",
            "costs": "the same fee + slippage per fill, funding from the data, leverage from "
            "config, for every run",
        },
        "runs": [f.to_dict() for f in figures],
        "algorithms": algorithm_summary(figures),
        "winners": {
            "by_year": winners(figures, "by_year"),
            "by_regime": winners(figures, "by_regime"),
        },
        "timings_s": {
            "runs": round(runs_s, 1),
            "analysis": round(analysis_s, 1),
            "per_run": {r.spec.name: r.wall_s for r in results},
            "reused": [r.spec.name for r in results if r.reused],
        },
        "environment": {"python": platform.python_version(), "machine": platform.machine()},
    }
    t_write = time.perf_counter()
    write_tables(folder, figures, series)
    html = folder / "report.html"
    html.write_text(render_html(results_json, series, training))
    try:
        recorded = record_models(
            figures, curves, settings, settings.name, choice.pair, registry_path
        )
    except Exception as e:  # the report stands without the registry; say why
        log(f"bitbot report: could not record the models in the registry: {e}")
        recorded = 0
    results_json["models_recorded"] = recorded
    results_json["timings_s"]["write"] = round(time.perf_counter() - t_write, 1)
    results_json["timings_s"]["total"] = round(time.perf_counter() - started, 1)
    (folder / "results.json").write_text(
        json.dumps(results_json, indent=1, default=_json_default, allow_nan=False)
    )
    for line in summary_lines(figures):
        log(line)
    log(f"bitbot report: wrote {html}, results.json and CSV tables; {recorded} models recorded")
    if choice.synthetic:
        log(SYNTHETIC_NOTICE)
    return ReportOutput(folder, html, results_json)


def summary_lines(figures: list[RunFigures]) -> list[str]:
    """:return: the comparison as a text table (meta-learner runs first, then baselines)"""
    order = {"meta": 0, "baseline": 1, "strategy": 2}
    lines = [
        f"{'run':<28}{'return':>10}{'Sharpe':>8}  {'95% CI':<16}{'DSR':>6}{'max DD':>9}"
        f"{'trades':>8}{'BTC x':>7}"
    ]
    for f in sorted(figures, key=lambda f: (order.get(f.group, 3), f.name)):
        m = f.metrics
        ci = f"[{m['sharpe_ci_low']:.2f}, {m['sharpe_ci_high']:.2f}]"
        dsr = "-" if m.get("deflated_sharpe") is None else f"{m['deflated_sharpe']:.2f}"
        lines.append(
            f"{f.label:<28}{m['total_return']:>+10.2%}{m['sharpe']:>8.2f}  {ci:<16}{dsr:>6}"
            f"{m['max_drawdown']:>9.2%}{m['trades']:>8}{m['btc_multiple']:>7.2f}"
            + (f"  liquidated {m['liquidated_at'][:10]}" if m.get("liquidated_at") else "")
        )
    return lines


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (Path, pd.Timestamp)):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
