"""
The history a report's runs need before its period starts.

Freqtrade loads, before a backtest's first candle, each strategy's ``startup_candle_count`` and,
when FreqAI is on, the training window too (``DataProvider.get_required_startup``: the larger
of the start-up and FreqAI's ``indicator_periods_candles``, plus ``train_period_days``). When the
data holds less, Freqtrade trims the start-up off the data it has and starts that backtest later
by itself, run by run, and runs meant to trade the same days do not. The report
asks each strategy for its start-up the way Freqtrade loads it (the run's configs and overlay:
the MetaStrategy's depends on its registry and sizing) and starts every run on the first day all
of them can.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from collections.abc import Sequence
from typing import Any

from freqtrade.exchange import timeframe_to_seconds

from meta_strategy.paths import USER_DATA
from meta_strategy.research.report.plan import RunSpec


logger = logging.getLogger(__name__)

DAY_SECONDS = 86_400


def run_config(run: RunSpec) -> dict[str, Any]:
    """
    :param run: a planned backtest
    :return: its configuration as Freqtrade merges it (config files in order, the overlay last)
    """
    from freqtrade.configuration.load_config import load_from_files
    from freqtrade.misc import deep_merge_dicts

    return deep_merge_dicts(copy.deepcopy(run.overlay), load_from_files(list(run.configs)))


def strategy_startup_candles(config: dict[str, Any], strategy: str) -> tuple[int, str]:
    """
    :param config: a run's configuration
    :param strategy: one of its strategy classes
    :return: the strategy's ``startup_candle_count`` as Freqtrade loads it with that
        configuration, and its timeframe
    """
    from freqtrade.resolvers import StrategyResolver

    cfg = copy.deepcopy(config)
    cfg["strategy"] = strategy
    cfg.setdefault("user_data_dir", USER_DATA)
    loaded = StrategyResolver.load_strategy(cfg)
    return int(loaded.startup_candle_count), str(loaded.timeframe)


def history_days(config: dict[str, Any], startup_candles: int, timeframe: str) -> float:
    """
    :param config: a run's configuration
    :param startup_candles: a strategy's start-up
    :param timeframe: its timeframe
    :return: the days of data Freqtrade loads before the run's first candle for it
    """
    candles = float(startup_candles)
    seconds = timeframe_to_seconds(timeframe)
    freqai = config.get("freqai", {})
    if freqai.get("enabled", False):
        periods = freqai.get("feature_parameters", {}).get("indicator_periods_candles") or [0]
        candles = max(candles, max(periods)) + freqai["train_period_days"] * DAY_SECONDS / seconds
    return candles * seconds / DAY_SECONDS


def required_history_days(plan: Sequence[RunSpec]) -> int:
    """
    :param plan: the report's backtests
    :return: whole days of data every run needs before the period starts (the largest need)
    """
    needed = 0.0
    seen: dict[str, tuple[int, str]] = {}
    for run in plan:
        config = run_config(run)
        for strategy in run.strategies:
            key = json.dumps([strategy, config], sort_keys=True, default=str)
            if key not in seen:
                seen[key] = strategy_startup_candles(config, strategy)
            candles, timeframe = seen[key]
            days = history_days(config, candles, timeframe)
            logger.debug(
                "%s / %s: %d start-up candles, %.1f days", run.name, strategy, candles, days
            )
            needed = max(needed, days)
    return math.ceil(needed)
