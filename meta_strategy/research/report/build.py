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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.data.candles import load_candles, load_funding
from meta_strategy.data.choice import (
    SYNTHETIC_NOTICE,
    DataChoice,
    ensure_data,
    resolve_backtest_data,
)
from meta_strategy.data.files import candle_file
from meta_strategy.data.timeframes import parse_timerange
from meta_strategy.paths import (
    FREQAI_OVERLAY,
    MODELS_ROOT,
    REPORT_RESULTS,
    REPORTS_DIR,
    SIGNAL_STRATEGIES,
)
from meta_strategy.research.report.analysis import (
    RunFigures,
    add_deflated_sharpe,
    curve_metrics,
    daily_regimes,
    winners,
)
from meta_strategy.research.report.confirmation import long_enough
from meta_strategy.research.report.equity import (
    EquityCurve,
    buy_and_hold_curve,
    equity_from_trades,
    flat_curve,
    liquidate,
    period_candles,
)
from meta_strategy.research.report.html import render_html
from meta_strategy.research.report.paired import position_direction
from meta_strategy.research.report.plan import (
    RULES_AS_DEPLOYED,
    VOL_TARGET,
    VOL_TARGETED,
    VOL_TARGETED_SUFFIX,
    ReportSettings,
    build_plan,
    shipped_digest,
)
from meta_strategy.research.report.recording import try_record_models
from meta_strategy.research.report.runs import (
    RunResult,
    check_same_period,
    merged_cost_per_fill,
    run_plan,
)
from meta_strategy.research.report.startup import required_history_days
from meta_strategy.research.report.training import read_training_curves
from meta_strategy.research.report.trials import record_trials, trials_in, trials_of
from meta_strategy.research.report.verdict import Judgement, judge, summary_lines
from meta_strategy.rl.costs import CostModel


logger = logging.getLogger(__name__)

LABELS = {
    "VolatilitySystem": "Volatility System",
    "SupertrendStrategy": "Triple Supertrend",
    "OTTStrategy": "OTT",
    "BbandRsi": "BbandRsi",
    "EqualVoteStrategy": "Equal-weight vote",
    "PortfolioStrategy": "Equal-weight portfolio",
    "PerformanceVoteStrategy": "Performance-weighted vote",
    "FollowTheLeaderStrategy": "Follow the leader",
    "WinnersPortfolioStrategy": "Portfolio of the trailing winners",
    "StackerStrategy": "LightGBM stacker (24 h, cost band)",
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
    :param history_days: days of data needed before the start (start-up candles and the
        training window: :func:`~meta_strategy.research.report.startup.required_history_days`)
    :return: e.g. ``20210101-20251116``
    """
    start, end = parse_timerange(timerange)
    if start is None:
        raise ValueError(f"the report needs a start date, got timerange {timerange!r}")
    end = min(end, last_candle.normalize()) if end is not None else last_candle.normalize()
    earliest = first_candle.ceil("D") + pd.Timedelta(days=history_days)
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
            f"the data ({last_candle:%Y-%m-%d}); download newer candles first "
            "(bitbot download-data)"
        )
    return f"{start:%Y%m%d}-{end:%Y%m%d}"


def _curve_of(stats: dict, candles: pd.DataFrame) -> tuple:
    start = pd.Timestamp(stats["backtest_start"], tz="UTC")
    end = pd.Timestamp(stats["backtest_end"], tz="UTC")
    window = period_candles(candles, start, end)
    curve = equity_from_trades(stats["trades"], window, float(stats["starting_balance"]))
    return curve, stats["trades"], window


def _group_of(result: RunResult, strategy: str) -> str:
    if result.spec.models_of is not None or result.spec.name == RULES_AS_DEPLOYED:
        return "deployed"
    if result.spec.kind == "rl":
        return "meta"
    if result.spec.name == VOL_TARGETED:
        return "baseline"
    return "strategy" if strategy in SIGNAL_STRATEGIES else "baseline"


def _label_of(result: RunResult, strategy: str) -> str:
    if result.spec.models_of is not None:
        return f"Meta {result.spec.algorithm} seed {result.spec.seed} as deployed (risk on)"
    if result.spec.name == RULES_AS_DEPLOYED:
        return f"{LABELS.get(strategy, strategy)} as deployed (risk on)"
    if result.spec.name == VOL_TARGETED:
        target = VOL_TARGET["target_volatility"]
        return f"{LABELS.get(strategy, strategy)}, {target:.0%} volatility target"
    if result.spec.kind == "rl":
        return f"Meta {result.spec.algorithm} seed {result.spec.seed}"
    return LABELS.get(strategy, strategy)


def analyse(
    results: list[RunResult],
    candles: pd.DataFrame,
    funding: pd.DataFrame,
    fee: float,
    maintenance_margin: float,
    trials: int,
    log: Callable[[str], None] = print,
) -> tuple[list[RunFigures], dict[str, EquityCurve], dict[str, pd.Series], float]:
    """
    :param maintenance_margin: liquidation threshold applied to every curve
        (:func:`~meta_strategy.research.report.equity.liquidate`)
    :param trials: configurations recorded for the period (the deflated Sharpe's N)
    :return: figures of every run plus buy-and-hold and flat, their curves, their daily
        returns and the variance of the runs' daily Sharpe ratios
    """
    check_same_period(results)
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
            if result.spec.name == RULES_AS_DEPLOYED:
                name = f"{strategy}-as-deployed"
            elif result.spec.name == VOL_TARGETED:
                name = f"{strategy}{VOL_TARGETED_SUFFIX}"
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
    hold = buy_and_hold_curve(window, rates, start_value, fee)
    for name, curve in (
        ("buy_and_hold", liquidate(hold, window, maintenance_margin)),
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
    daily_returns = {n: c.daily_returns() for n, c in curves.items()}
    variance = add_deflated_sharpe(figures, daily_returns, trials)
    log(f"  figures of {len(figures)} runs ({trials} configurations recorded for the period)")
    return figures, curves, daily_returns, variance


def _ledger(
    reports_dir: Path, results: list[RunResult], period: str, timerange: str
) -> dict[str, Any]:
    """
    Record the report's configurations in the ledger.

    :return: the period, how many configurations were recorded for it (at least those here),
        for the test period and for the fresh period
    """
    here = trials_of(results, period, timerange)
    ledger = record_trials(reports_dir, here)
    return {
        "period": period,
        "configurations_here": len({t.configuration for t in here}),
        "configurations_recorded": max(trials_in(period, ledger), 1),
        "test_period_configurations": trials_in("test", ledger),
        "fresh_period_configurations": trials_in("fresh", ledger),
        "file": str(Path(reports_dir) / "configurations.jsonl"),
    }


def _judge(
    results: list[RunResult],
    candles: pd.DataFrame,
    funding: pd.DataFrame,
    fee: float,
    ledger: dict[str, Any],
    shipped_algorithm: str,
    log: Callable[[str], None],
    variant: bool = False,
) -> tuple[list[RunFigures], dict[str, EquityCurve], Judgement]:
    """:return: every run's figures and curve, and the verdict from the means over seeds"""
    trials = ledger["configurations_recorded"]
    figures, curves, daily_returns, variance = analyse(
        results, candles, funding, fee, maintenance_margin(), trials, log=log
    )
    judgement = judge(
        figures,
        daily_returns,
        {r.spec.name: r.configuration for r in results},
        shipped_algorithm,
        trials,
        variance,
        ledger["period"],
        variant,
        {name: position_direction(curve.position) for name, curve in curves.items()},
    )
    return figures, curves, judgement


def maintenance_margin(freqai_overlay: str = FREQAI_OVERLAY) -> float:
    """
    :return: the training environment's maintenance margin
        (``freqai.rl_config.costs.maintenance_margin``), for the report's liquidation rule
    """
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


def _report_json(
    settings: ReportSettings,
    choice: DataChoice,
    fee: float,
    figures: list[RunFigures],
    ledger: dict[str, Any],
    judgement: Judgement,
    results: list[RunResult],
    timings: tuple[float, float],
) -> dict[str, Any]:
    """:return: the report's ``results.json``, less what writing adds (models, write time)"""
    runs_s, analysis_s = timings
    trials = ledger["configurations_recorded"]
    return {
        "report": settings.name,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": choice.description,
        "synthetic": choice.synthetic,
        "pair": choice.pair,
        "period": settings.timerange,
        "period_name": ledger["period"],
        "settings": {
            **{k: v for k, v in settings.__dict__.items() if k != "name"},
            "fee_per_fill_incl_slippage": fee,
            "configs": list(choice.configs),
        },
        "differences_from_shipped": settings.differences_from_shipped(),
        "shipped_digest": shipped_digest(),
        "configurations_tried": trials,
        "ledger": ledger,
        "verdict": judgement.verdict,
        "configurations": [c.to_dict() for c in judgement.configurations],
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
        "winners": {
            "by_year": winners(figures, "by_year", settings.algorithms[0]),
            "by_regime": winners(figures, "by_regime", settings.algorithms[0]),
        },
        "timings_s": {
            "runs": round(runs_s, 1),
            "analysis": round(analysis_s, 1),
            "per_run": {r.spec.name: r.wall_s for r in results},
            "reused": [r.spec.name for r in results if r.reused],
        },
        "environment": {"python": platform.python_version(), "machine": platform.machine()},
    }


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
    started = time.perf_counter()
    for noisy in ("freqtrade", "tensorboard"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    choice = resolve_backtest_data()
    log(f"bitbot report: {choice.description}")
    ensure_data(choice)
    candles = load_candles(candle_file(choice.datadir, choice.pair, "1h"))
    funding = load_funding(candle_file(choice.datadir, choice.pair, "1h", "funding_rate"))
    first, last = candles["date"].iloc[0], candles["date"].iloc[-1]
    history_days = required_history_days(build_plan(settings, choice.configs))
    period_name = settings.period
    period = close_timerange(settings.timerange, first, last, history_days, log=log)
    settings = replace(settings, timerange=long_enough(period_name, period))
    folder = reports_dir / settings.name
    folder.mkdir(parents=True, exist_ok=True)
    plan = build_plan(settings, choice.configs)
    fee = merged_cost_per_fill(choice.configs)
    log(
        f"bitbot report: {len(plan)} backtests over {settings.timerange} ({period_name} period, "
        f"{jobs} at a time), fee + slippage {fee:.4%} per fill -> {folder}"
    )
    for difference in settings.differences_from_shipped():
        log(f"bitbot report: NOT the shipped bot: {difference}")
    t_runs = time.perf_counter()
    results = run_plan(
        plan, settings, choice.datadir, choice.pair, folder, jobs=jobs, rerun=rerun, log=log
    )
    runs_s = time.perf_counter() - t_runs
    t_analysis = time.perf_counter()
    ledger = _ledger(reports_dir, results, period_name, settings.timerange)
    variant = not settings.meta_is_shipped()
    figures, curves, judgement = _judge(
        results, candles, funding, fee, ledger, settings.algorithms[0], log, variant
    )
    trained = [f for f in figures if f.group == "meta" and f.identifier]
    training = {f.name: read_training_curves(MODELS_ROOT, f.identifier) for f in trained}
    series = curves_frame(curves)
    analysis_s = time.perf_counter() - t_analysis
    results_json = _report_json(
        settings, choice, fee, figures, ledger, judgement, results, (runs_s, analysis_s)
    )
    t_write = time.perf_counter()
    write_tables(folder, figures, series)
    html = folder / "report.html"
    html.write_text(render_html(results_json, series, training))
    recorded = try_record_models(
        figures, curves, settings, choice.pair, registry_path, log, judgement.evidence_by_run
    )
    results_json["models_recorded"] = recorded
    results_json["timings_s"]["write"] = round(time.perf_counter() - t_write, 1)
    results_json["timings_s"]["total"] = round(time.perf_counter() - started, 1)
    (folder / REPORT_RESULTS).write_text(
        json.dumps(results_json, indent=1, default=_json_default, allow_nan=False)
    )
    for line in summary_lines(figures, judgement, settings.differences_from_shipped()):
        log(line)
    log(f"bitbot report: wrote {html}, results.json and CSV tables; {recorded} models recorded")
    if choice.synthetic:
        log(SYNTHETIC_NOTICE)
    return ReportOutput(folder, html, results_json)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (Path, pd.Timestamp)):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
