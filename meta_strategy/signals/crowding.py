"""
The contrarian rule of the crowding strategies (``FundingExtremes``, ``PerpSpotBasis``): a score
of how crowded one side of the perpetual is (a z-score, positive when longs crowd) decides.

* enter short at ``score >= entry_z`` (longs crowded), long at ``score <= -entry_z`` (shorts
  crowded), on candles that traded;
* exit a long once ``score >= -exit_z``, a short once ``score <= exit_z``: back to normal;
* conviction for the meta layer: ``-tanh(score / entry_z)``, positive when shorts crowd.

:class:`CrowdingContrarian` holds these rules for a strategy class; the strategy computes its
score in ``populate_indicators`` and names its column.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from pandas import DataFrame, Series

from meta_strategy.data.timeframes import days_to_candles


logger = logging.getLogger(__name__)


def crowding_entries(dataframe: DataFrame, score: str, entry_z: float) -> DataFrame:
    """
    :param dataframe: the strategy's candles (``volume`` and the ``score`` column)
    :param score: the crowding score's column, positive when longs crowd
    :param entry_z: the score that enters against the crowd
    :return: ``dataframe`` with ``enter_long`` / ``enter_short`` and their tags set
    """
    traded = dataframe["volume"] > 0
    value = dataframe[score]
    dataframe.loc[(value <= -entry_z) & traded, ["enter_long", "enter_tag"]] = (
        1,
        "shorts_crowded",
    )
    dataframe.loc[(value >= entry_z) & traded, ["enter_short", "enter_tag"]] = (
        1,
        "longs_crowded",
    )
    return dataframe


def crowding_exits(dataframe: DataFrame, score: str, exit_z: float) -> DataFrame:
    """
    :param dataframe: the strategy's candles with the ``score`` column
    :param score: the crowding score's column
    :param exit_z: the score inside which the crowd has gone
    :return: ``dataframe`` with ``exit_long`` / ``exit_short`` set
    """
    dataframe.loc[dataframe[score] >= -exit_z, "exit_long"] = 1
    dataframe.loc[dataframe[score] <= exit_z, "exit_short"] = 1
    return dataframe


def crowding_strength(score: Series, entry_z: float) -> Series:
    """:return: ``-tanh(score / entry_z)``: positive when shorts crowd (a long's conviction)"""
    return -np.tanh(score / entry_z)


class CrowdingContrarian:
    """
    Mixin of a crowding strategy (before ``IStrategy`` in its bases): entries, exits and
    conviction from its score column, and its warm-up from the score's window. The strategy
    declares ``zscore_days``, ``entry_z`` and ``exit_z`` (hyperopt parameters) and
    ``score_column``.
    """

    score_column: ClassVar[str]
    """The crowding score's column, positive when longs crowd (set by the strategy)."""
    timeframe: str
    zscore_days: Any
    entry_z: Any
    exit_z: Any

    def startup_candles(self) -> int:
        """:return: the score's window as set and a day, in candles of the timeframe in use"""
        return self.candles(self.zscore_days.value + 1)

    def candles(self, days: float) -> int:
        """:return: ``days`` in candles of the strategy's timeframe (at least 2: a z-score)"""
        return max(2, days_to_candles(days, self.timeframe))

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return crowding_entries(dataframe, self.score_column, self.entry_z.value)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return crowding_exits(dataframe, self.score_column, self.exit_z.value)

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """Conviction for the meta layer: -tanh(score / entry_z), positive when shorts crowd."""
        return crowding_strength(dataframe[self.score_column], self.entry_z.value)
