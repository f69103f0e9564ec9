"""
``bitbot compare`` (``make backtest``), ``bitbot bias-check``, ``bitbot tune``
(``make hyperopt``), ``bitbot report`` (``make report``), ``bitbot sweep``, ``bitbot confirm``
(``make confirm``) and ``bitbot paired``.
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
        "compare", help="Backtest the registry's strategies side by side on the resolved data"
    )
    p_cmp.set_defaults(handler=run_compare)
    p_cmp.add_argument("--strategies", nargs="+", default=None)
    p_cmp.add_argument("--timerange", default=None)
    p_cmp.add_argument(
        "--no-meta", action="store_true", help="skip the MetaStrategy walk-forward comparison"
    )
    p_cmp.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a config file merged over the data's configs for every run (repeatable), e.g. "
        "bitbot.sizing for volatility-targeted sizing",
    )
    p_cmp.add_argument("freqtrade_args", nargs=argparse.REMAINDER)

    p_bias = sub.add_parser(
        "bias-check", help="lookahead-analysis + recursive-analysis of the registry's strategies"
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
    p_sweep = sub.add_parser(
        "sweep",
        help="The table of every meta-learner configuration tried over a period (mean ± spread "
        "over seeds, from the saved reports), beside the best rule and baseline",
    )
    p_sweep.set_defaults(handler=run_sweep)
    p_sweep.add_argument(
        "--period", choices=("validation", "test", "fresh", "custom"), default="validation"
    )
    p_sweep.add_argument("--reports-dir", default=str(REPORTS_DIR), help="parent folder")
    p_confirm = sub.add_parser(
        "confirm",
        help="Run the designs fixed for a confirmation period's one look (each once, whatever "
        "the others show), then the sweep of the period and issue 14's floors on each",
    )
    p_confirm.set_defaults(handler=run_confirm)
    p_confirm.add_argument(
        "--plan", help="the plan file (default: user_data/confirmations/fresh.json)"
    )
    p_confirm.add_argument(
        "--jobs", type=positive_int, default=2, help="backtests at a time (cores)"
    )
    p_confirm.add_argument(
        "--dry-run", action="store_true", help="say what would run, and run nothing"
    )
    p_confirm.add_argument("--reports-dir", default=str(REPORTS_DIR), help="parent folder")
    p_paired = sub.add_parser(
        "paired",
        help="A saved report's meta-learner configurations against each baseline on the same "
        "days: the Sharpe difference with its paired bootstrap interval (runs nothing)",
    )
    p_paired.set_defaults(handler=run_paired)
    p_paired.add_argument(
        "report", nargs="+", help="report name(s) (--name of bitbot report) or folder(s)"
    )
    p_paired.add_argument("--reports-dir", default=str(REPORTS_DIR), help="parent folder")


def positive_int(text: str) -> int:
    """:return: the integer; argparse says why when it is not one of at least 1"""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _add_report_parser(sub: Any) -> None:
    p_report = sub.add_parser(
        "report",
        help="Walk-forward research report: the shipped meta-learner (config.freqai.json, 3 "
        "seeds) against buy-and-hold, flat, the POC strategies, the votes and the stacker over "
        "the validation or test period (HTML, JSON, CSV)",
    )
    p_report.set_defaults(handler=run_report)
    p_report.add_argument(
        "--quick",
        action="store_true",
        help="CI variant: last 30 days, every algorithm once, tiny agents (plumbing only)",
    )
    p_report.add_argument(
        "--period",
        default="validation",
        help="validation (2021-01-01..2023-12-31: choose designs here), test (2024-01-01.."
        "2025-11-16: confirm once) or fresh (every candle after 2025-11-16: confirm a design "
        "frozen before them, once); default validation",
    )
    p_report.add_argument("--timerange", help="another out-of-sample period (not the protocol's)")
    p_report.add_argument(
        "--algorithms",
        nargs="+",
        help="RL algorithms, the first as the headline (default: the shipped one; 'all': all five)",
    )
    p_report.add_argument(
        "--seeds", nargs="+", type=int, help="seeds (default: shipped seed +0..2)"
    )
    p_report.add_argument(
        "--extra-seeds", nargs="+", type=int, help="seeds of the algorithms after the first"
    )
    p_report.add_argument("--window-days", type=int, help="days traded per model (shipped: 30)")
    p_report.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a config file merged into every run (repeatable), e.g. bitbot.sizing",
    )
    p_report.add_argument(
        "--meta-overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a config file merged into the meta-learner's runs only (repeatable), e.g. a "
        "decision clock or an action mode; each variant is its own configuration in the ledger",
    )
    p_report.add_argument(
        "--deployed-overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a config file merged into the as-deployed runs only (repeatable), e.g. a risk "
        "setting; they trade the models already trained, so nothing retrains",
    )
    p_report.add_argument(
        "--as-deployed",
        choices=("first", "all"),
        default="first",
        help="as-deployed runs (risk controls on) for the first seed (default), or for every "
        "seed and for the rule strategies and votes too",
    )
    p_report.add_argument("--train-days", type=int, help="days each model trains on (shipped)")
    p_report.add_argument("--train-cycles", type=int, help="RL passes over each window (shipped)")
    p_report.add_argument(
        "--jobs", type=positive_int, default=2, help="backtests at a time (cores)"
    )
    p_report.add_argument(
        "--name", help="report folder name (default: the period, custom, or quick with --quick)"
    )
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
        overlays=ns.overlay,
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


def run_sweep(ns: argparse.Namespace) -> int:
    """``bitbot sweep``"""
    from meta_strategy.research.report.sweep import format_sweep, sweep_table

    print(format_sweep(sweep_table(Path(ns.reports_dir), ns.period)))
    return 0


def run_confirm(ns: argparse.Namespace) -> int:
    """``bitbot confirm``"""
    from meta_strategy.research.report.build import build_report
    from meta_strategy.research.report.confirmation import (
        CONFIRMATION_PLAN,
        ConfirmationPlanError,
        format_floors,
        load_confirmation_plan,
        run_confirmation,
    )
    from meta_strategy.research.report.plan import ReportSettingsError
    from meta_strategy.research.report.runs import RunError
    from meta_strategy.research.report.sweep import format_sweep, sweep_table

    reports_dir = Path(ns.reports_dir)
    try:
        plan = load_confirmation_plan(Path(ns.plan) if ns.plan else CONFIRMATION_PLAN)
        run_confirmation(
            plan,
            reports_dir,
            lambda settings: build_report(settings, jobs=ns.jobs, reports_dir=reports_dir),
            jobs=ns.jobs,
            dry_run=ns.dry_run,
        )
    except (ConfirmationPlanError, ReportSettingsError, RunError, ValueError, OSError) as e:
        print(f"bitbot: confirm: {e}", file=sys.stderr)
        return 2
    if not ns.dry_run:
        print(format_sweep(sweep_table(reports_dir, plan.period)))
        print(format_floors(plan, reports_dir))
    return 0


def report_folder(reports_dir: Path, report: str) -> Path:
    """
    :param report: a report's name (``--name`` of ``bitbot report``), or its folder
    :return: the folder under ``reports_dir`` of that name, or the folder given when it is one
        (``user_data/reports/val-x`` as well as ``val-x``)
    """
    given = Path(report)
    if given.is_dir() and not (reports_dir / report).is_dir():
        return given
    return reports_dir / report


def run_paired(ns: argparse.Namespace) -> int:
    """``bitbot paired``"""
    from meta_strategy.research.report.paired import format_paired, saved_paired_comparisons
    from meta_strategy.research.report.saved import SavedReportError

    code = 0
    for name in ns.report:
        folder = report_folder(Path(ns.reports_dir), name)
        try:
            print(format_paired(folder, saved_paired_comparisons(folder)))
        except SavedReportError as e:
            print(f"bitbot paired: {e}", file=sys.stderr)
            code = 2
    return code


def run_report(ns: argparse.Namespace) -> int:
    """``bitbot report``"""
    from dataclasses import replace

    from meta_strategy.data.choice import resolve_backtest_data, trailing_timerange
    from meta_strategy.research.report.build import build_report
    from meta_strategy.research.report.plan import ReportSettings, ReportSettingsError
    from meta_strategy.research.report.runs import RunError
    from meta_strategy.rl.algorithms import ALGORITHMS

    try:
        if ns.quick:
            timerange = ns.timerange or trailing_timerange(resolve_backtest_data(), 30)
            settings = ReportSettings.quick_settings(timerange)
        else:
            settings = ReportSettings.for_period(ns.period)
            if ns.timerange:
                settings = replace(settings, name="custom", timerange=ns.timerange)
        algorithms = ns.algorithms
        if algorithms == ["all"]:  # the headline algorithm first, then the others
            algorithms = [settings.algorithms[0]]
            algorithms += [a for a in ALGORITHMS if a not in algorithms]
        overrides = {
            k: v
            for k, v in (
                ("name", ns.name),
                ("algorithms", tuple(algorithms) if algorithms else None),
                ("seeds", tuple(ns.seeds) if ns.seeds else None),
                ("extra_seeds", tuple(ns.extra_seeds) if ns.extra_seeds else None),
                ("backtest_period_days", ns.window_days),
                ("train_period_days", ns.train_days),
                ("train_cycles", ns.train_cycles),
                ("overlays", tuple(ns.overlay) or None),
                ("meta_overlays", tuple(ns.meta_overlay) or None),
                ("deployed_overlays", tuple(ns.deployed_overlay) or None),
                ("deployed_all_seeds", ns.as_deployed == "all" or None),
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
