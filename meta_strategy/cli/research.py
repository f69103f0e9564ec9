"""
``bitbot compare`` (``make backtest``), ``bitbot bias-check``, ``bitbot tune``
(``make hyperopt``) and ``bitbot report`` (``make report``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from meta_strategy.paths import REPORTS_DIR


def add_parsers(sub: Any) -> None:
    """:param sub: the ``bitbot`` subparsers"""
    p_cmp = sub.add_parser(
        "compare", help="Backtest the POC strategies side by side on the resolved data"
    )
    p_cmp.set_defaults(handler=run_compare)
    p_cmp.add_argument("--strategies", nargs="+", default=None)
    p_cmp.add_argument("--timerange", default=None)
    p_cmp.add_argument(
        "--no-meta", action="store_true", help="skip the MetaStrategy walk-forward comparison"
    )
    p_cmp.add_argument("freqtrade_args", nargs=argparse.REMAINDER)

    p_bias = sub.add_parser(
        "bias-check", help="lookahead-analysis + recursive-analysis of the POC strategies"
    )
    p_bias.set_defaults(handler=run_bias_check)
    p_bias.add_argument("--strategies", nargs="+", default=None)
    p_bias.add_argument("--timerange", default=None)

    p_tune = sub.add_parser("tune", help="Hyperopt one strategy on the resolved data")
    p_tune.set_defaults(handler=run_tune)
    p_tune.add_argument("--strategy", required=True)
    p_tune.add_argument("--epochs", type=int, default=30)
    p_tune.add_argument("--spaces", nargs="+", default=["buy", "sell"])
    p_tune.add_argument("--hyperopt-loss", default="CalmarDrawdownLoss")
    p_tune.add_argument("--timerange", default=None)
    p_tune.add_argument(
        "--apply", action="store_true", help="write the best parameters to <Strategy>.json"
    )
    p_tune.add_argument("freqtrade_args", nargs=argparse.REMAINDER)
    _add_report_parser(sub)


def _add_report_parser(sub: Any) -> None:
    p_report = sub.add_parser(
        "report",
        help="Walk-forward research report: the meta-learner per RL algorithm and seed against "
        "buy-and-hold, flat, the POC strategies, the votes and the stacker (HTML, JSON, CSV)",
    )
    p_report.set_defaults(handler=run_report)
    p_report.add_argument(
        "--quick",
        action="store_true",
        help="CI variant: last 30 days, every algorithm once, tiny agents (plumbing only)",
    )
    p_report.add_argument("--timerange", help="out-of-sample period (default: 20210101-)")
    p_report.add_argument("--algorithms", nargs="+", help="RL algorithms (default: all five)")
    p_report.add_argument("--seeds", nargs="+", type=int, help="seeds per algorithm (1 2 3)")
    p_report.add_argument("--window-days", type=int, help="days traded per model (90)")
    p_report.add_argument("--train-cycles", type=int, help="RL passes over each window (3)")
    p_report.add_argument("--jobs", type=int, default=2, help="backtests at a time (cores)")
    p_report.add_argument("--name", help="report folder name (full, or quick with --quick)")
    p_report.add_argument("--reports-dir", default=str(REPORTS_DIR), help="parent folder")
    p_report.add_argument(
        "--registry", help="model registry to record the models in (user_data/models.sqlite)"
    )
    p_report.add_argument(
        "--rerun",
        action="store_true",
        help="rerun the backtests and retrain the models even when saved results match",
    )


def run_compare(ns: argparse.Namespace) -> int:
    """``bitbot compare``"""
    from meta_strategy.research.compare import compare_strategies

    return compare_strategies(
        strategies=ns.strategies,
        timerange=ns.timerange,
        extra_args=ns.freqtrade_args or [],
        meta=not ns.no_meta,
    )


def run_bias_check(ns: argparse.Namespace) -> int:
    """``bitbot bias-check``"""
    from meta_strategy.research.bias import bias_check

    return bias_check(strategies=ns.strategies, timerange=ns.timerange)


def run_tune(ns: argparse.Namespace) -> int:
    """``bitbot tune``"""
    from meta_strategy.research.tune import tune

    return tune(
        ns.strategy,
        ns.epochs,
        ns.spaces,
        ns.hyperopt_loss,
        ns.timerange,
        ns.freqtrade_args or [],
        apply=ns.apply,
    )


def run_report(ns: argparse.Namespace) -> int:
    """``bitbot report``"""
    from dataclasses import replace

    from meta_strategy.data.choice import resolve_backtest_data, trailing_timerange
    from meta_strategy.research.report.build import build_report
    from meta_strategy.research.report.plan import ReportSettings, ReportSettingsError
    from meta_strategy.research.report.runs import RunError

    try:
        if ns.quick:
            timerange = ns.timerange or trailing_timerange(resolve_backtest_data(), 30)
            settings = ReportSettings.quick_settings(timerange)
        else:
            settings = ReportSettings(timerange=ns.timerange or ReportSettings.timerange)
        overrides = {
            k: v
            for k, v in (
                ("name", ns.name),
                ("algorithms", tuple(ns.algorithms) if ns.algorithms else None),
                ("seeds", tuple(ns.seeds) if ns.seeds else None),
                ("backtest_period_days", ns.window_days),
                ("train_cycles", ns.train_cycles),
            )
            if v is not None
        }
        settings = replace(settings, **overrides)
        build_report(
            settings,
            jobs=ns.jobs,
            rerun=ns.rerun,
            reports_dir=Path(ns.reports_dir),
            registry_path=Path(ns.registry) if ns.registry else None,
        )
    except (ReportSettingsError, RunError, ValueError, OSError, RuntimeError) as e:
        print(f"bitbot: report: {e}", file=sys.stderr)
        return 2
    return 0
