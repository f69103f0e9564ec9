"""
Vote baselines for the meta layer (no learning): the registered strategies' directions
(``user_data/strategies_registry.json``) combined by an equal-weight vote, or by a vote weighted
with each strategy's trailing performance (``meta_strategy.signals.votes``). They trade the same
pair with the same costs as the MetaStrategy, so the learned layer can be judged against them.
"""

import logging
from typing import Any

from freqtrade.strategy import IntParameter
from pandas import DataFrame

from meta_strategy.signals.votes import equal_vote, performance_weighted_vote
from meta_strategy.trading.exposure import EXPOSURE_TAG, TargetExposureStrategy


logger = logging.getLogger(__name__)


class EqualVoteStrategy(TargetExposureStrategy):
    """Holds the sign of the sum of the registered strategies' directions."""

    entry_tag_prefix = "vote"

    def directions(self, dataframe: DataFrame, pair: str) -> DataFrame:
        """:return: the registered strategies' directions, one column per entry"""
        signals = self.registry_signals(dataframe, pair)
        return signals[[c for c in signals.columns if c.endswith("_direction")]]

    def vote(self, directions: DataFrame, dataframe: DataFrame) -> Any:
        """:return: the voted direction per candle"""
        return equal_vote(directions)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        directions = self.directions(dataframe, metadata["pair"])
        dataframe["vote"] = self.vote(directions, dataframe)
        dataframe[EXPOSURE_TAG] = dataframe["vote"]
        return dataframe


class PerformanceVoteStrategy(EqualVoteStrategy):
    """Directions weighted by each strategy's trailing earnings (losers get no vote)."""

    vote_window = IntParameter(168, 2160, default=720, space="buy")

    def vote(self, directions: DataFrame, dataframe: DataFrame) -> Any:
        return performance_weighted_vote(directions, dataframe["close"], self.vote_window.value)
