"""
Triple Supertrend: three Supertrends must agree to open a position.

Reference: freqtrade-strategies ``futures/FSupertrendStrategy.py`` (@juankysoriano). Long entries
need the three "buy" Supertrends (multiplier, period) = (4, 8), (7, 9), (1, 8) to point up, short
entries the three "sell" Supertrends (1, 16), (3, 18), (6, 18) to point down. A long exits when
the second sell Supertrend turns down, a short when the second buy Supertrend turns up. The
reference futures version never set ``can_short``, so its shorts never fired; here they do.
"""

import logging

from freqtrade.strategy import IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.signals.indicators import supertrend
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class SupertrendStrategy(RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 0.1, "30": 0.75, "60": 0.05, "120": 0.025}
    stoploss = -0.265
    trailing_stop = True
    trailing_stop_positive = 0.05
    trailing_stop_positive_offset = 0.1
    trailing_only_offset_is_reached = False
    # Supertrend's bands (simple average of the true range, as `technical`) settle quickly.
    startup_candle_count = 200

    buy_m1 = IntParameter(1, 7, default=4, space="buy")
    buy_m2 = IntParameter(1, 7, default=7, space="buy")
    buy_m3 = IntParameter(1, 7, default=1, space="buy")
    buy_p1 = IntParameter(7, 21, default=8, space="buy")
    buy_p2 = IntParameter(7, 21, default=9, space="buy")
    buy_p3 = IntParameter(7, 21, default=8, space="buy")

    sell_m1 = IntParameter(1, 7, default=1, space="sell")
    sell_m2 = IntParameter(1, 7, default=3, space="sell")
    sell_m3 = IntParameter(1, 7, default=6, space="sell")
    sell_p1 = IntParameter(7, 21, default=16, space="sell")
    sell_p2 = IntParameter(7, 21, default=18, space="sell")
    sell_p3 = IntParameter(7, 21, default=18, space="sell")

    def _supertrends(self) -> dict[str, tuple[IntParameter, IntParameter]]:
        return {
            "buy_1": (self.buy_m1, self.buy_p1),
            "buy_2": (self.buy_m2, self.buy_p2),
            "buy_3": (self.buy_m3, self.buy_p3),
            "sell_1": (self.sell_m1, self.sell_p1),
            "sell_2": (self.sell_m2, self.sell_p2),
            "sell_3": (self.sell_m3, self.sell_p3),
        }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Supertrend directions for every (multiplier, period) hyperopt may ask for."""
        directions = {}
        for multiplier_param, period_param in self._supertrends().values():
            for multiplier in multiplier_param.range:
                for period in period_param.range:
                    key = f"st_dir_{multiplier}_{period}"
                    if key not in directions:
                        directions[key] = supertrend(dataframe, multiplier, period)["direction"]
        for key, values in directions.items():
            dataframe[key] = values
        return dataframe

    def _direction(self, dataframe: DataFrame, name: str) -> Series:
        multiplier, period = self._supertrends()[name]
        return dataframe[f"st_dir_{multiplier.value}_{period.value}"]

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        traded = dataframe["volume"] > 0
        all_up = (
            (self._direction(dataframe, "buy_1") == 1)
            & (self._direction(dataframe, "buy_2") == 1)
            & (self._direction(dataframe, "buy_3") == 1)
        )
        all_down = (
            (self._direction(dataframe, "sell_1") == -1)
            & (self._direction(dataframe, "sell_2") == -1)
            & (self._direction(dataframe, "sell_3") == -1)
        )
        dataframe.loc[all_up & traded, ["enter_long", "enter_tag"]] = (1, "3x_supertrend_up")
        dataframe.loc[all_down & traded, ["enter_short", "enter_tag"]] = (1, "3x_supertrend_down")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[self._direction(dataframe, "sell_2") == -1, "exit_long"] = 1
        dataframe.loc[self._direction(dataframe, "buy_2") == 1, "exit_short"] = 1
        return dataframe

    def signal_strength(self, dataframe: DataFrame) -> Series:
        """
        Conviction for the meta layer: the mean direction of the six Supertrends, from -1 (all
        down) to +1 (all up).
        """
        return sum(self._direction(dataframe, name) for name in self._supertrends()) / 6.0
