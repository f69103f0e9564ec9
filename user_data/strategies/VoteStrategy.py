"""
Vote baselines for the meta layer (no learning): the registered strategies' directions
(``user_data/strategies_registry.json``) combined by an equal-weight vote, or by a vote weighted
with each strategy's trailing performance (``meta_strategy.votes``). They trade the same pair
with the same costs as the MetaStrategy, so the learned layer can be judged against them.
"""

import logging
from typing import Any

from freqtrade.strategy import IntParameter, IStrategy
from pandas import DataFrame

from meta_strategy.futures import ConfiguredLeverage
from meta_strategy.registry import load_configured_registry
from meta_strategy.signals import SignalEngine
from meta_strategy.votes import equal_vote, performance_weighted_vote


logger = logging.getLogger(__name__)


class EqualVoteStrategy(ConfiguredLeverage, IStrategy):
    """Holds the sign of the sum of the registered strategies' directions."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}
    stoploss = -0.99
    use_exit_signal = True
    startup_candle_count = 1000

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.registry = load_configured_registry(config, self.timeframe)
        self.startup_candle_count = self.registry.max_lookback_hours
        self._engine: SignalEngine | None = None

    def directions(self, dataframe: DataFrame, pair: str) -> DataFrame:
        """:return: the registered strategies' directions, one column per entry"""
        if self._engine is None:
            self._engine = SignalEngine(self.registry, self.config)
        signals = self._engine.compute(dataframe, pair)
        return signals[[c for c in signals.columns if c.endswith("_direction")]]

    def vote(self, directions: DataFrame, dataframe: DataFrame) -> Any:
        """:return: the voted direction per candle"""
        return equal_vote(directions)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["vote"] = self.vote(self.directions(dataframe, metadata["pair"]), dataframe)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["vote"] > 0, ["enter_long", "enter_tag"]] = (1, "vote_long")
        dataframe.loc[dataframe["vote"] < 0, ["enter_short", "enter_tag"]] = (1, "vote_short")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["vote"] <= 0, "exit_long"] = 1
        dataframe.loc[dataframe["vote"] >= 0, "exit_short"] = 1
        return dataframe


class PerformanceVoteStrategy(EqualVoteStrategy):
    """Directions weighted by each strategy's trailing earnings (losers get no vote)."""

    vote_window = IntParameter(168, 2160, default=720, space="buy")

    def vote(self, directions: DataFrame, dataframe: DataFrame) -> Any:
        return performance_weighted_vote(directions, dataframe["close"], self.vote_window.value)
