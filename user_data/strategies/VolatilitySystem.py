"""
Volatility System: ATR breakout on a higher timeframe, stop-and-reverse.

Reference: freqtrade-strategies ``futures/VolatilitySystem.py`` (after the TradingView
"Volatility System" script): the 1h candles are resampled to 3h; a long opens when the 3h close
rises by more than 2 x ATR(14) of the previous 3h candle, a short on the mirror move, and each
signal closes the opposite position. The first entry uses half the stake; one add-on of the same
size follows on a fresh signal in the same direction (position adjustment).

Here the higher timeframe uses closed candles only (see ``meta_strategy.data.timeframes``), and the
signal fires once, on the base candle at which the 3h candle closes.
"""

import logging
from datetime import datetime
from typing import Any

import numpy as np
from freqtrade.persistence import Trade
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.data.timeframes import htf_label, merge_closed, resample_ohlcv
from meta_strategy.signals.indicators import atr
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class VolatilitySystem(RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}
    stoploss = -1
    use_exit_signal = True
    exit_profit_only = False
    position_adjustment_enable = True
    max_entry_position_adjustment = 1
    # Wilder's ATR forgets its seed at (1 - 1/period) per higher-timeframe candle: 1000 base
    # candles leave < 2e-5 of it for every setting in the hyperopt range (4h, ATR 21).
    startup_candle_count = 1000

    resample_hours = IntParameter(2, 4, default=3, space="buy")
    atr_period = IntParameter(7, 21, default=14, space="buy")
    atr_multiplier = DecimalParameter(1.0, 3.0, default=2.0, decimals=1, space="buy")

    plot_config = {
        "main_plot": {},
        "subplots": {
            "Volatility system": {"atr": {"color": "white"}, "abs_close_change": {"color": "red"}}
        },
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Merge the closed higher-timeframe ATR band and close change onto the base candles."""
        htf = htf_label(self.resample_hours.value)
        resampled = resample_ohlcv(dataframe, htf, self.timeframe)
        resampled["atr"] = atr(resampled, self.atr_period.value) * self.atr_multiplier.value
        resampled["close_change"] = resampled["close"].diff()
        resampled["abs_close_change"] = resampled["close_change"].abs()
        resampled["breakout"] = 0
        previous_atr = resampled["atr"].shift(1)
        resampled.loc[resampled["close_change"] > previous_atr, "breakout"] = 1
        resampled.loc[-resampled["close_change"] > previous_atr, "breakout"] = -1
        dataframe = merge_closed(
            dataframe,
            resampled,
            self.timeframe,
            htf,
            columns=["atr", "close_change", "abs_close_change", "breakout"],
        )
        dataframe["atr"] = dataframe[f"atr_{htf}"]
        dataframe["close_change"] = dataframe[f"close_change_{htf}"]
        dataframe["abs_close_change"] = dataframe[f"abs_close_change_{htf}"]
        # One signal per higher-timeframe candle, on the base candle where it closes.
        dataframe["breakout"] = dataframe[f"breakout_{htf}"].where(dataframe[f"fresh_{htf}"], 0)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["breakout"] == 1, ["enter_long", "enter_tag"]] = (1, "atr_up")
        dataframe.loc[dataframe["breakout"] == -1, ["enter_short", "enter_tag"]] = (1, "atr_down")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Stop and reverse: a signal in one direction closes the other."""
        dataframe.loc[dataframe["breakout"] == -1, "exit_long"] = 1
        dataframe.loc[dataframe["breakout"] == 1, "exit_short"] = 1
        return dataframe

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """
        Conviction for the meta layer: tanh(close change / ATR band) of the last closed
        higher-timeframe candle; beyond +-1 band the breakout fires.
        """
        return np.tanh(dataframe["close_change"] / dataframe["atr"])

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """Half the stake on the first entry (times the volatility scale of ``bitbot.sizing``);
        the add-on brings the other half."""
        return proposed_stake / 2 * self.volatility_scale(pair)

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> float | None:
        """One add-on of the first entry's size, on a fresh signal in the trade's direction;
        none while safe mode or a risk limit blocks entries."""
        if trade.nr_of_successful_entries >= 2 or trade.has_open_orders:
            return None
        if self.adding_blocked():
            return None
        dataframe, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        if dataframe.empty:
            return None
        last = dataframe.iloc[-1]
        wanted = -1 if trade.is_short else 1
        if last["breakout"] == wanted and last["date"] > trade.open_date_utc:
            return trade.stake_amount
        return None
