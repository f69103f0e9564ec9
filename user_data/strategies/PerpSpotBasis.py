"""
Perp-spot basis: lean against a crowded perpetual, read from its premium over spot.

When longs crowd a perpetual they pay up for leverage and its price rises above the spot price
it tracks; crowded shorts push it below. The strategy averages the premium
``close / reference - 1`` over ``smoothing`` candles, scores it against its own trailing
``zscore_days``, and goes short when the score reaches ``entry_z`` (longs crowded), long at
``-entry_z`` (shorts crowded), and exits once the score is back inside ``exit_z``. The premium is
what funding charges for (funding is a lagging average of it), so this reads the same crowding
as :class:`FundingExtremes`, hours earlier. On basis as the price of leverage demand and its
reversal: He, Manela, Ross & von Wachter (2024, "Fundamentals of perpetual futures").

Reference price (:mod:`meta_strategy.data.reference`): on Kraken futures the venue's index
(Freqtrade candle type ``index``: Kraken's "spot" price candles of PF_XBTUSD); elsewhere, and in
research on the Binance perpetual, the spot pair (``BTC/USDT``, ``BTC_USDT-1h.feather``).
Standalone it reads them through ``informative_pairs``; in the registry the signal engine hands
them over as the ``reference_close`` column. Missing reference candles are an error naming the
file. The registry runs it at 1h (``perp_spot_basis``).
"""

import logging

from freqtrade.enums import RunMode
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame, Series

from meta_strategy.data.reference import (
    REFERENCE_CLOSE,
    ReferencePriceError,
    align_reference,
    missing_reference_message,
    reference_market_of,
)
from meta_strategy.signals.crowding import CrowdingContrarian
from meta_strategy.signals.indicators import perp_premium
from meta_strategy.signals.scaling import rolling_zscore
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)


class PerpSpotBasis(
    CrowdingContrarian, RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy
):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}  # the score's return to normal exits
    stoploss = -0.15
    score_column = "premium_z"
    reads_reference_price = True
    """The signal engine hands this strategy the reference price (``reference_close``)."""

    smoothing = IntParameter(1, 24, default=8, space="buy")
    zscore_days = IntParameter(7, 60, default=30, space="buy")
    entry_z = DecimalParameter(1.0, 3.5, default=2.0, decimals=1, space="buy")
    exit_z = DecimalParameter(0.0, 1.0, default=0.5, decimals=1, space="sell")

    # At 1h, the score's window at the top of its hyperopt range (60 days) and a day for the
    # premium's average.
    startup_candle_count = 61 * 24

    plot_config = {
        "subplots": {"premium": {"premium": {"color": "orange"}, "premium_z": {"color": "blue"}}}
    }

    def informative_pairs(self) -> list[tuple[str, str, str]]:
        markets = (reference_market_of(self.config, p) for p in self.dp.current_whitelist())
        return [(ref_pair, self.timeframe, candle_type) for ref_pair, candle_type in markets]

    def _reference(self, dataframe: DataFrame, pair: str) -> Series:
        if REFERENCE_CLOSE in dataframe:  # handed over by the signal engine
            return dataframe[REFERENCE_CLOSE].astype(float)
        reference = DataFrame()
        dp = getattr(self, "dp", None)
        if dp is not None:
            ref_pair, candle_type = reference_market_of(self.config, pair)
            reference = dp.get_pair_dataframe(ref_pair, self.timeframe, candle_type=candle_type)
        if reference.empty:
            live = dp is not None and dp.runmode in (RunMode.LIVE, RunMode.DRY_RUN)
            raise ReferencePriceError(
                missing_reference_message(self.config, pair, self.timeframe, live, "PerpSpotBasis")
            )
        return align_reference(dataframe["date"], reference)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        reference = self._reference(dataframe, metadata["pair"])
        dataframe["premium"] = perp_premium(dataframe["close"], reference, self.smoothing.value)
        window = self.candles(self.zscore_days.value)
        scores = rolling_zscore(dataframe[["premium"]], window, clip=10.0)
        dataframe["premium_z"] = scores["premium"]
        return dataframe
