"""
Moving-average trend: a fast / slow EMA crossover, traded only with the longer trend.

Long when the fast EMA is above the slow one and the close above the trend filter (a simple
moving average of ``trend_period`` candles), short on the mirror; a long exits when the fast EMA
crosses below the slow one, a short when it crosses above. Periods are in candles of the
strategy's timeframe: the registry runs it at 4h and 1d (``ma_trend_4h``, ``ma_trend_1d``), and
Freqtrade can backtest it alone at 1h.

The classic rule of moving-average trend following (e.g. Brock, Lakonishok & LeBaron 1992 for
the crossover, Faber 2007 for the long-term filter); the filter is a simple average so that its
value does not depend on how much history came before (an EMA's seed would).
"""

import logging

import numpy as np
from freqtrade.strategy import IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.signals.indicators import atr, ema
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class MovingAverageTrend(RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}  # trend following: the crossover exits, not a profit target
    stoploss = -0.25

    fast_period = IntParameter(5, 20, default=12, space="buy")
    slow_period = IntParameter(21, 60, default=36, space="buy")
    trend_period = IntParameter(50, 200, default=100, space="buy")

    # Five slow periods at the top of the hyperopt range (60): ta-lib seeds the EMA after one
    # period, and four more leave the seed a weight of (1 - 2 / (n + 1)) ** (4 n), about
    # e^-8 < 4e-4; the trend filter needs at most 200.
    startup_candle_count = 5 * 60

    def startup_candles(self) -> int:
        """:return: five slow periods or the trend filter, whichever is longer, as set"""
        return max(5 * self.slow_period.value, self.trend_period.value)

    plot_config = {
        "main_plot": {
            "ema_fast": {"color": "orange"},
            "ema_slow": {"color": "blue"},
            "trend_filter": {"color": "grey"},
        },
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["ema_fast"] = ema(dataframe["close"], self.fast_period.value)
        dataframe["ema_slow"] = ema(dataframe["close"], self.slow_period.value)
        dataframe["trend_filter"] = dataframe["close"].rolling(self.trend_period.value).mean()
        dataframe["atr"] = atr(dataframe, 14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        traded = dataframe["volume"] > 0
        up = (dataframe["ema_fast"] > dataframe["ema_slow"]) & (
            dataframe["close"] > dataframe["trend_filter"]
        )
        down = (dataframe["ema_fast"] < dataframe["ema_slow"]) & (
            dataframe["close"] < dataframe["trend_filter"]
        )
        dataframe.loc[up & traded, ["enter_long", "enter_tag"]] = (1, "ema_up_with_trend")
        dataframe.loc[down & traded, ["enter_short", "enter_tag"]] = (1, "ema_down_with_trend")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["ema_fast"] < dataframe["ema_slow"], "exit_long"] = 1
        dataframe.loc[dataframe["ema_fast"] > dataframe["ema_slow"], "exit_short"] = 1
        return dataframe

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """
        Conviction for the meta layer: tanh of the EMA spread in ATRs(14), positive when the
        fast EMA is above the slow one.
        """
        return np.tanh((dataframe["ema_fast"] - dataframe["ema_slow"]) / dataframe["atr"])
