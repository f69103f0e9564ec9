"""
Strategies that listen to the registry and hold a target exposure.

:class:`TargetExposureStrategy` is the shared base of the MetaStrategy (the exposure comes from
the learned model) and the vote baselines (it comes from a vote): it loads the registry, runs
the registered strategies on first use, and turns the ``target_exposure`` column its subclass
computes into Freqtrade entries and exits: long above 0, short below 0, flat at 0.
"""

from __future__ import annotations

import logging
from typing import Any

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from meta_strategy.futures import ConfiguredLeverage
from meta_strategy.registry import Registry, load_configured_registry
from meta_strategy.signals import SignalEngine


logger = logging.getLogger(__name__)

EXPOSURE_TAG = "target_exposure"
"""Column of the analysed dataframe, and key of a trade's custom data, holding the exposure."""


class TargetExposureStrategy(ConfiguredLeverage, IStrategy):
    """
    Base class: subclasses set ``dataframe["target_exposure"]`` (-1 .. 1) in
    ``populate_indicators``; ``entry_tag_prefix`` names their entries; ``extra_warmup`` adds
    candles of their own features to the registry's longest lookback.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}
    stoploss = -0.99
    use_exit_signal = True
    startup_candle_count = 1000
    entry_tag_prefix = "target"
    extra_warmup = 0

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.registry: Registry = load_configured_registry(config, self.timeframe)
        self.startup_candle_count = self.registry.max_lookback_hours + self.extra_warmup
        self._signal_engine: SignalEngine | None = None

    def signal_engine(self) -> SignalEngine:
        """:return: the registered strategies, loaded on first use"""
        if self._signal_engine is None:
            self._signal_engine = SignalEngine(self.registry, self.config)
        return self._signal_engine

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        target = dataframe[EXPOSURE_TAG]
        prefix = self.entry_tag_prefix
        dataframe.loc[target > 0, ["enter_long", "enter_tag"]] = (1, f"{prefix}_long")
        dataframe.loc[target < 0, ["enter_short", "enter_tag"]] = (1, f"{prefix}_short")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        target = dataframe[EXPOSURE_TAG]
        dataframe.loc[target <= 0, "exit_long"] = 1
        dataframe.loc[target >= 0, "exit_short"] = 1
        return dataframe
