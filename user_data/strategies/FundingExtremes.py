"""
Funding extremes: lean against a crowded perpetual.

A perpetual's funding rate is what longs pay shorts (or the reverse) to keep its price at the
index; an extreme rate means one side is crowded and pays to stay. The strategy takes the rate
in force (the last funding event's), scores it against its own trailing ``zscore_days``, and goes
short when the score reaches ``entry_z`` (longs crowded), long at ``-entry_z`` (shorts crowded),
and exits once the score is back inside ``exit_z``. Contrarian funding signals for BTC
perpetuals: e.g. He, Manela, Ross & von Wachter (2024, "Fundamentals of perpetual futures")
on funding as the price of leverage demand.

Data: the pair's funding-rate candles (``informative_pairs``, Freqtrade's ``funding_rate``
candle type; ``bitbot download-data`` and the shared data have them). In the registry the signal
engine hands them over as the ``funding_rate`` column. Without them the strategy stops with an
error that names the pair. The registry runs it at 1h (``funding_extremes``).
"""

import logging

import numpy as np
import pandas as pd
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.data.candles import align_funding
from meta_strategy.signals.crowding import CrowdingContrarian
from meta_strategy.signals.scaling import rolling_zscore
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class FundingExtremes(
    CrowdingContrarian, RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy
):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}  # the score's return to normal exits
    stoploss = -0.15
    score_column = "funding_z"

    zscore_days = IntParameter(7, 60, default=30, space="buy")
    entry_z = DecimalParameter(1.0, 3.5, default=2.0, decimals=1, space="buy")
    exit_z = DecimalParameter(0.0, 1.0, default=0.5, decimals=1, space="sell")

    # At 1h, the score's window at the top of its hyperopt range (60 days) and a day for the
    # first funding event.
    startup_candle_count = 61 * 24

    def informative_pairs(self) -> list[tuple[str, str, str]]:
        return [(pair, self.timeframe, "funding_rate") for pair in self.dp.current_whitelist()]

    def _funding(self, dataframe: DataFrame, pair: str) -> Series:
        if "funding_rate" in dataframe:  # handed over by the signal engine
            return dataframe["funding_rate"].astype(float)
        funding = pd.DataFrame()
        if getattr(self, "dp", None) is not None:
            funding = self.dp.get_pair_dataframe(pair, self.timeframe, candle_type="funding_rate")
        if funding.empty:
            raise ValueError(
                f"FundingExtremes needs funding-rate candles of {pair} ({self.timeframe}, "
                "candle type funding_rate); download them with the pair's futures data"
            )
        return align_funding(dataframe["date"], funding)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        charged = self._funding(dataframe, metadata["pair"])
        # the rate in force: the last event's (0 is "no event" in Freqtrade's candles)
        dataframe["funding_in_force"] = charged.replace(0.0, np.nan).ffill()
        window = self.candles(self.zscore_days.value)
        scores = rolling_zscore(dataframe[["funding_in_force"]], window, clip=10.0)
        dataframe["funding_z"] = scores["funding_in_force"]
        return dataframe
