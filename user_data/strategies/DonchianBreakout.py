"""
Donchian breakout ensemble: several Turtle-style channel breakout systems, from days to months.

Each system (one per lookback) goes long when the close breaks above the highest high of its
lookback, short when it breaks below the lowest low, and exits on the opposite channel of half
the lookback, or one lookback after its last breakout
(:func:`~meta_strategy.signals.indicators.donchian_ensemble`). The strategy holds
the ensemble's majority: long when at least ``entry_share`` of the systems are long (net of the
short ones), short on the mirror, and exits once the net share is no longer on its side.

Lookbacks are in *days*, geometrically spaced from ``min_days`` to ``max_days`` (5 to 60 by
default), and become candles of whatever timeframe the strategy runs at: the registry runs it at
1d (``donchian_1d``), and Freqtrade can backtest it alone at 1h (the same channels, breakouts
seen hourly). Zarattini, Pagani & Barbon (2025, "Catching crypto trends: a tactical approach for
Bitcoin and altcoins") report a Sharpe ratio above 1.5 after fees for such an ensemble.
"""

import logging

import numpy as np
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.data.timeframes import days_to_candles
from meta_strategy.signals.indicators import donchian_ensemble
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)

SYSTEMS = 5
"""Breakout systems in the ensemble."""


class DonchianBreakout(RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}  # breakouts ride the trend; the channels exit
    stoploss = -0.3

    min_days = IntParameter(3, 10, default=5, space="buy")
    max_days = IntParameter(30, 90, default=60, space="buy")
    entry_share = DecimalParameter(0.2, 1.0, default=0.6, decimals=1, space="buy")

    # At 1h, twice the longest channel the hyperopt range allows (90 days): a system's position
    # depends on its last 2 N candles (its channel, and its time stop).
    startup_candle_count = 2 * 90 * 24 + 1

    def startup_candles(self) -> int:
        """:return: twice the longest channel, in candles of the timeframe in use"""
        return 2 * self.candles(self.max_days.value) + 1

    def candles(self, days: float) -> int:
        """:return: ``days`` in candles of the strategy's timeframe (at least 1)"""
        return days_to_candles(days, self.timeframe)

    def lookbacks(self) -> list[int]:
        """:return: the systems' entry channels in candles, geometrically spaced"""
        days = np.geomspace(self.min_days.value, self.max_days.value, SYSTEMS)
        return sorted({self.candles(d) for d in days})

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["donchian_share"] = donchian_ensemble(dataframe, self.lookbacks())
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        traded = dataframe["volume"] > 0
        share = dataframe["donchian_share"]
        threshold = self.entry_share.value - 1e-9
        dataframe.loc[(share >= threshold) & traded, ["enter_long", "enter_tag"]] = (
            1,
            "donchian_majority_up",
        )
        dataframe.loc[(share <= -threshold) & traded, ["enter_short", "enter_tag"]] = (
            1,
            "donchian_majority_down",
        )
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["donchian_share"] <= 0, "exit_long"] = 1
        dataframe.loc[dataframe["donchian_share"] >= 0, "exit_short"] = 1
        return dataframe

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """Conviction for the meta layer: the ensemble's net share of long systems, -1 to +1."""
        return dataframe["donchian_share"]
