"""
BbandRsi: mean reversion on RSI extremes outside the Bollinger Bands.

Reference: freqtrade-strategies ``berlinguyinca/BbandRsi.py`` (Gert Wohlgemuth, after Mynt):
RSI(14) and Bollinger Bands (20, 2) on the typical price; long when RSI < 30 and the close is
below the lower band, exit when RSI > 70. The short side mirrors it: short when RSI > 70 and the
close is above the upper band, exit when RSI < 30.
"""

import logging

from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.signals.indicators import bollinger_bands, rsi, typical_price
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class BbandRsi(RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 0.1}
    stoploss = -0.25
    startup_candle_count = 200

    rsi_period = IntParameter(7, 28, default=14, space="buy")
    bb_window = IntParameter(10, 40, default=20, space="buy")
    bb_stds = DecimalParameter(1.5, 3.0, default=2.0, decimals=1, space="buy")
    rsi_entry = IntParameter(15, 40, default=30, space="buy")
    rsi_exit = IntParameter(60, 85, default=70, space="sell")

    plot_config = {
        "main_plot": {"bb_lowerband": {"color": "grey"}, "bb_upperband": {"color": "grey"}},
        "subplots": {"RSI": {"rsi": {"color": "purple"}}},
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = rsi(dataframe["close"], self.rsi_period.value)
        bands = bollinger_bands(
            typical_price(dataframe), window=self.bb_window.value, stds=self.bb_stds.value
        )
        dataframe["bb_lowerband"] = bands["lower"]
        dataframe["bb_middleband"] = bands["mid"]
        dataframe["bb_upperband"] = bands["upper"]
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        oversold = (dataframe["rsi"] < self.rsi_entry.value) & (
            dataframe["close"] < dataframe["bb_lowerband"]
        )
        overbought = (dataframe["rsi"] > 100 - self.rsi_entry.value) & (
            dataframe["close"] > dataframe["bb_upperband"]
        )
        dataframe.loc[oversold, ["enter_long", "enter_tag"]] = (1, "rsi_oversold_below_band")
        dataframe.loc[overbought, ["enter_short", "enter_tag"]] = (1, "rsi_overbought_above_band")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["rsi"] > self.rsi_exit.value, "exit_long"] = 1
        dataframe.loc[dataframe["rsi"] < 100 - self.rsi_exit.value, "exit_short"] = 1
        return dataframe

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """
        Conviction for the meta layer: (50 - RSI) / 50, positive when oversold (the long side
        of a mean-reversion strategy), negative when overbought.
        """
        return (50.0 - dataframe["rsi"]) / 50.0
