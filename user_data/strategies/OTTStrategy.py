"""
Optimized Trend Tracker (Anıl Özekşi): trade VAR crossing OTT, step aside when ADX runs hot.

Reference: freqtrade-strategies ``futures/FOttStrategy.py``: VAR is a CMO-weighted adaptive
moving average (CMO window 9, length 2), OTT its trailing stop with percent 1.4, shifted two
bars. Long when VAR crosses above OTT, short when it crosses below; both exit when ADX(14) > 60.
The reference computes OTT in O(N^2); ``meta_strategy.signals.indicators.ott`` is one linear pass.
"""

import logging

import numpy as np
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.signals.indicators import adx, ott
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class OTTStrategy(RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 0.1, "30": 0.75, "60": 0.05, "120": 0.025}
    stoploss = -0.265
    trailing_stop = True
    trailing_stop_positive = 0.05
    trailing_stop_positive_offset = 0.1
    trailing_only_offset_is_reached = False
    # VAR starts at 0 and forgets its start geometrically; ADX is Wilder-smoothed.
    startup_candle_count = 300

    ott_length = IntParameter(1, 10, default=2, space="buy")
    ott_percent = DecimalParameter(0.4, 3.0, default=1.4, decimals=1, space="buy")
    cmo_window = IntParameter(5, 20, default=9, space="buy")
    adx_period = IntParameter(7, 28, default=14, space="sell")
    adx_exit = IntParameter(40, 80, default=60, space="sell")

    plot_config = {
        "main_plot": {"var": {"color": "blue"}, "ott": {"color": "orange"}},
        "subplots": {"ADX": {"adx": {"color": "red"}}},
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        lines = ott(
            dataframe,
            length=self.ott_length.value,
            percent=self.ott_percent.value,
            cmo_window=self.cmo_window.value,
        )
        dataframe["var"] = lines["var"]
        dataframe["ott"] = lines["ott"]
        dataframe["adx"] = adx(dataframe, self.adx_period.value)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        above = dataframe["var"] > dataframe["ott"]
        below = dataframe["var"] < dataframe["ott"]
        crossed_up = above & (dataframe["var"].shift(1) <= dataframe["ott"].shift(1))
        crossed_down = below & (dataframe["var"].shift(1) >= dataframe["ott"].shift(1))
        dataframe.loc[crossed_up, ["enter_long", "enter_tag"]] = (1, "var_over_ott")
        dataframe.loc[crossed_down, ["enter_short", "enter_tag"]] = (1, "var_under_ott")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        overheated = dataframe["adx"] > self.adx_exit.value
        dataframe.loc[overheated, ["exit_long", "exit_short"]] = 1
        return dataframe

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """
        Conviction for the meta layer: tanh of VAR's distance from OTT in units of the OTT band
        (``percent`` of OTT); positive when VAR is above.
        """
        band = dataframe["ott"] * self.ott_percent.value / 100.0
        return np.tanh((dataframe["var"] - dataframe["ott"]) / band)
