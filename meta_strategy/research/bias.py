"""
Bias check: Freqtrade's ``lookahead-analysis`` and ``recursive-analysis`` with a verdict.

Both analyses are Freqtrade's own (``freqtrade.optimize.analysis``); this module runs them the
way ``bitbot lookahead-analysis`` / ``bitbot recursive-analysis`` do, prints Freqtrade's tables,
and turns the results into a pass / fail that tests and CI can use:

* look-ahead: Freqtrade's ``has_bias`` must be False for every strategy (no entry or exit signal
  and no indicator differs between the full backtest and one cut at the signal);
* recursive: at the strategy's own ``startup_candle_count``, every indicator's last value may
  differ from the fully warmed-up value by at most ``RECURSIVE_TOLERANCE`` (relative).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from meta_strategy.data.checks import validate_datadir
from meta_strategy.data.choice import (
    SYNTHETIC_NOTICE,
    ensure_data,
    resolve_backtest_data,
    trailing_timerange,
)
from meta_strategy.data.files import DataError
from meta_strategy.data.markets import install_offline_markets
from meta_strategy.freqtrade_bridge import config_args
from meta_strategy.paths import SIGNAL_STRATEGIES


logger = logging.getLogger(__name__)

RECURSIVE_TOLERANCE = 1e-4
"""Largest relative difference accepted at the strategy's own startup candle count (0.01%)."""


@dataclass
class BiasResult:
    """Outcome of both analyses for one strategy."""

    strategy: str
    signals_checked: int = 0
    lookahead_bias: bool = False
    check_failed: bool = False
    biased_indicators: list[str] = field(default_factory=list)
    false_entries: int = 0
    false_exits: int = 0
    startup_candle_count: int = 0
    recursive_worst: dict[str, float] = field(default_factory=dict)

    @property
    def recursive_ok(self) -> bool:
        """:return: every indicator within tolerance at the strategy's startup count"""
        return all(
            not math.isnan(v) and abs(v) <= RECURSIVE_TOLERANCE
            for v in self.recursive_worst.values()
        )

    @property
    def ok(self) -> bool:
        """:return: no look-ahead and no recursive bias"""
        return (
            not self.lookahead_bias
            and not self.check_failed
            and self.recursive_ok
            and self.signals_checked > 0
        )

    def summary(self) -> str:
        """:return: one line for humans"""
        worst = max((abs(v) for v in self.recursive_worst.values()), default=0.0)
        return (
            f"{self.strategy:<20} signals checked {self.signals_checked:>3}  "
            f"look-ahead bias: {'YES' if self.lookahead_bias else 'no':<3}  "
            f"{'(too few trades to check)  ' if self.check_failed else ''}"
            f"biased columns: {', '.join(self.biased_indicators) or '-'}  "
            f"recursive worst diff at startup {self.startup_candle_count}: {worst:.2e}  "
            f"=> {'PASS' if self.ok else 'FAIL'}"
        )


def _config(argv: list[str]) -> dict[str, Any]:
    from freqtrade.commands import Arguments
    from freqtrade.configuration import setup_utils_configuration
    from freqtrade.enums import RunMode

    args = Arguments(argv).get_parsed_arg()
    return setup_utils_configuration(args, RunMode.UTIL_NO_EXCHANGE)


def _strategy_objects(look_cfg: dict[str, Any], strategies: list[str]) -> dict[str, Any]:
    """
    :return: Freqtrade's strategy object (``StrategyResolver.search_all_objects``) per name
    :raises ValueError: a strategy is not in the strategy path
    """
    from freqtrade.resolvers import StrategyResolver

    objs = {
        o["name"]: o
        for o in StrategyResolver.search_all_objects(look_cfg, enum_failed=False)
        if o["name"] in strategies
    }
    missing = [s for s in strategies if s not in objs]
    if missing:
        raise ValueError(f"Strategies not found in the strategy path: {', '.join(missing)}")
    return objs


def _analyse_strategy(
    name: str, obj: dict[str, Any], look_cfg: dict[str, Any], common: list[str], progress: Any
) -> tuple[BiasResult, Any, Any]:
    """
    Run both analyses of one strategy.

    :return: its result, and Freqtrade's look-ahead and recursive analysis instances
    """
    from freqtrade.optimize.analysis.lookahead_helpers import LookaheadAnalysisSubFunctions
    from freqtrade.optimize.analysis.recursive_helpers import RecursiveAnalysisSubFunctions

    look = LookaheadAnalysisSubFunctions.initialize_single_lookahead_analysis(
        look_cfg, obj, progress
    )
    analysis = look.current_analysis
    result = BiasResult(
        strategy=name,
        signals_checked=analysis.total_signals,
        lookahead_bias=analysis.has_bias,
        # Freqtrade's own verdict: too few trades to check is a failed check, not a pass.
        check_failed=bool(look.failed_bias_check),
        biased_indicators=list(analysis.false_indicators),
        false_entries=analysis.false_entry_signals,
        false_exits=analysis.false_exit_signals,
    )
    rec_cfg = RecursiveAnalysisSubFunctions.calculate_config_overrides(
        _config(["recursive-analysis", *common, "--strategy", name])
    )
    rec = RecursiveAnalysisSubFunctions.initialize_single_recursive_analysis(rec_cfg, obj, progress)
    scc = rec._strat_scc or 0
    result.startup_candle_count = scc
    result.recursive_worst = {
        indicator: float(values.get(scc, 0.0)) for indicator, values in rec.dict_recursive.items()
    }
    return result, look, rec


def run_bias_check(
    strategies: list[str],
    configs: list[str],
    datadir: str,
    timerange: str,
    extra_args: list[str] | None = None,
) -> list[BiasResult]:
    """
    Run look-ahead and recursive analysis for each strategy.

    :param strategies: strategy class names
    :param configs: Freqtrade config files
    :param datadir: data directory
    :param timerange: Freqtrade timerange to analyse (a few months of 1h is plenty)
    :param extra_args: more Freqtrade arguments
    :return: one result per strategy
    """
    from freqtrade.optimize.analysis.lookahead_helpers import LookaheadAnalysisSubFunctions
    from freqtrade.optimize.analysis.recursive_helpers import RecursiveAnalysisSubFunctions
    from freqtrade.util import get_progress_tracker

    install_offline_markets()

    common = [
        *config_args(configs),
        "--datadir",
        datadir,
        "--timerange",
        timerange,
        *(extra_args or []),
    ]
    look_cfg = LookaheadAnalysisSubFunctions.calculate_config_overrides(
        _config(["lookahead-analysis", *common, "--strategy-list", *strategies])
    )
    objs = _strategy_objects(look_cfg, strategies)

    results: list[BiasResult] = []
    look_instances, rec_instances = [], []
    with get_progress_tracker() as progress:
        for name in strategies:
            result, look, rec = _analyse_strategy(name, objs[name], look_cfg, common, progress)
            look_instances.append(look)
            rec_instances.append(rec)
            results.append(result)

    LookaheadAnalysisSubFunctions.text_table_lookahead_analysis_instances(look_cfg, look_instances)
    RecursiveAnalysisSubFunctions.text_table_recursive_analysis_instances(rec_instances)
    return results


def bias_check(strategies: list[str] | None = None, timerange: str | None = None) -> int:
    """
    Look-ahead and recursive analysis of the registry's strategies on the resolved data.

    :param strategies: strategy class names (every class of the registry by default)
    :param timerange: period to analyse (default: the last months of the data)
    :return: exit code, 1 when any strategy shows bias
    """
    choice = resolve_backtest_data()
    print(f"bitbot bias-check: {choice.description}")
    ensure_data(choice)
    try:
        validate_datadir(choice.datadir, [choice.pair], ["1h"], "futures")
    except DataError as e:
        print(f"bitbot: data error: {e}")
        return 2
    results = run_bias_check(
        list(strategies or SIGNAL_STRATEGIES),
        list(choice.configs),
        str(choice.datadir),
        timerange or trailing_timerange(choice, 120),  # four months,
    )
    for result in results:
        print(result.summary())
    if choice.synthetic:
        print(SYNTHETIC_NOTICE)
    return 0 if all(r.ok for r in results) else 1
