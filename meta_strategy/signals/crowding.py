"""
The contrarian rule of the crowding strategies (``FundingExtremes``, ``PerpSpotBasis``): a score
of how crowded one side of the perpetual is (a z-score, positive when longs crowd) decides.

* enter short at ``score >= entry_z`` (longs crowded), long at ``score <= -entry_z`` (shorts
  crowded), on candles that traded;
* exit a long once ``score >= -exit_z``, a short once ``score <= exit_z``: back to normal;
* conviction for the meta layer: ``-tanh(score / entry_z)``, positive when shorts crowd.
"""

from __future__ import annotations

import logging

import numpy as np
from pandas import DataFrame, Series


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
