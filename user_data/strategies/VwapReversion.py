"""
VWAP reversion: fade stretches away from the rolling VWAP, in the direction of the trend.

The rolling VWAP of the last ``vwap_window`` candles is where the recent volume traded; a close
more than ``band_atr`` ATRs(14) below it is a stretch down, above it a stretch up. Long on a
stretch down while the close is above its ``trend_period``-candle simple average (buy the dip
of an uptrend), short on a stretch up below it (sell the rally of a downtrend); the trade exits
when the close returns to the VWAP. The registry runs it at 1h (``vwap_reversion``).

The rule is the intraday desk's VWAP reversion (price reverts to where volume traded, e.g.
Berkowitz, Logue & Noser 1988 on VWAP as the fair execution price) with bands in ATRs so they
widen with volatility, and a trend filter so it does not fade a trend.
"""

import logging

import numpy as np
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.signals.indicators import atr, rolling_vwap
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class VwapReversion(RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}  # the return to the VWAP exits
    stoploss = -0.1

    vwap_window = IntParameter(12, 96, default=48, space="buy")
    band_atr = DecimalParameter(1.0, 4.0, default=2.0, decimals=1, space="buy")
    trend_period = IntParameter(100, 400, default=200, space="buy")

    # The trend filter at the top of its hyperopt range; Wilder's ATR(14) forgets its seed
    # within 200 candles ((13 / 14) ** 186 < 1e-5).
    startup_candle_count = 400

    def startup_candles(self) -> int:
        """:return: the trend filter or the VWAP window as set, at least 200 candles"""
        return max(200, self.trend_period.value, self.vwap_window.value)

    plot_config = {
        "main_plot": {
            "vwap": {"color": "orange"},
            "vwap_lower": {"color": "grey"},
            "vwap_upper": {"color": "grey"},
            "trend_filter": {"color": "blue"},
        },
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["vwap"] = rolling_vwap(dataframe, self.vwap_window.value)
        band = atr(dataframe, 14) * self.band_atr.value
        dataframe["vwap_band"] = band
        dataframe["vwap_lower"] = dataframe["vwap"] - band
        dataframe["vwap_upper"] = dataframe["vwap"] + band
        dataframe["trend_filter"] = dataframe["close"].rolling(self.trend_period.value).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        traded = dataframe["volume"] > 0
        close = dataframe["close"]
        dip = (close < dataframe["vwap_lower"]) & (close > dataframe["trend_filter"])
        rally = (close > dataframe["vwap_upper"]) & (close < dataframe["trend_filter"])
        dataframe.loc[dip & traded, ["enter_long", "enter_tag"]] = (1, "vwap_dip_in_uptrend")
        dataframe.loc[rally & traded, ["enter_short", "enter_tag"]] = (1, "vwap_rally_in_downtrend")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] >= dataframe["vwap"], "exit_long"] = 1
        dataframe.loc[dataframe["close"] <= dataframe["vwap"], "exit_short"] = 1
        return dataframe

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """
        Conviction for the meta layer: how far the close is stretched from the VWAP, in bands,
        as tanh; positive below the VWAP (a long reversion), negative above.
        """
        return np.tanh((dataframe["vwap"] - dataframe["close"]) / dataframe["vwap_band"])
