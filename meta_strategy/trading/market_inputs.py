"""
What a registry-listening strategy reads besides its candles: the pair's funding rates and,
when a registered strategy needs it, the pair's reference price (spot or index,
:mod:`meta_strategy.data.reference`), fetched through Freqtrade's data provider and aligned to
the candles.
"""

from __future__ import annotations

import logging
from typing import Any

from freqtrade.enums import RunMode
from pandas import DataFrame, Series

from meta_strategy.data.candles import align_funding
from meta_strategy.data.reference import (
    ReferencePriceError,
    align_reference,
    missing_reference_message,
    reference_market_of,
)
from meta_strategy.signals.engine import SignalEngine
from meta_strategy.signals.registry import Registry


logger = logging.getLogger(__name__)


class MarketInputs:
    """
    Mixin of :class:`~meta_strategy.trading.exposure.TargetExposureStrategy`: its registered
    strategies (``registry``, run by a :class:`SignalEngine` loaded on first use), the
    informative pairs it asks Freqtrade for, and the funding and reference prices read from
    them.
    """

    config: dict[str, Any]
    timeframe: str
    dp: Any
    registry: Registry
    _signal_engine: SignalEngine | None

    def signal_engine(self) -> SignalEngine:
        """:return: the registered strategies, loaded on first use"""
        if self._signal_engine is None:
            self._signal_engine = SignalEngine(self.registry, self.config)
        return self._signal_engine

    def informative_pairs(self) -> list[tuple[str, str, str]]:
        """Funding rates of the traded pairs (for the features, the environment and the
        strategies that read them); their reference prices when a strategy reads those."""
        pairs = self.dp.current_whitelist()
        wanted = [(pair, self.timeframe, "funding_rate") for pair in pairs]
        if self.signal_engine().reads_reference_price:
            for pair in pairs:
                ref_pair, candle_type = reference_market_of(self.config, pair)
                wanted.append((ref_pair, self.timeframe, candle_type))
        return wanted

    def funding_rates(self, dataframe: DataFrame, pair: str) -> Series | None:
        """
        :return: the funding rate charged at each candle's open (0 where no event), aligned
            by date; zeros with a warning when there are none; None without a data provider
        """
        if getattr(self, "dp", None) is None:
            return None
        funding = self.dp.get_pair_dataframe(pair, self.timeframe, candle_type="funding_rate")
        if funding.empty:
            logger.warning("No funding rates for %s: funding features and costs are zero.", pair)
            return Series(0.0, index=dataframe.index)
        aligned = align_funding(dataframe["date"], funding)
        logger.info(
            "Funding rates for %s: %d events over %d candles.",
            pair,
            int((aligned != 0).sum()),
            len(aligned),
        )
        return aligned

    def reference_prices(self, dataframe: DataFrame, pair: str) -> Series | None:
        """
        :return: the reference price's close per candle when a registered strategy reads it
            (None otherwise, and without a data provider)
        :raises ReferencePriceError: a registered strategy reads it and there is none (names
            the file, or the exchange in dry-run / live)
        """
        if getattr(self, "dp", None) is None or not self.signal_engine().reads_reference_price:
            return None
        ref_pair, candle_type = reference_market_of(self.config, pair)
        reference = self.dp.get_pair_dataframe(ref_pair, self.timeframe, candle_type=candle_type)
        if reference.empty:
            live = self.dp.runmode in (RunMode.LIVE, RunMode.DRY_RUN)
            reader = f"The strategy registry ({type(self).__name__})"
            raise ReferencePriceError(
                missing_reference_message(self.config, pair, self.timeframe, live, reader)
            )
        return align_reference(dataframe["date"], reference)

    def registry_signals(
        self, dataframe: DataFrame, pair: str, funding: Series | None = None
    ) -> DataFrame:
        """
        :param funding: :meth:`funding_rates` when the caller has it already
        :return: the registered strategies' signals (:meth:`SignalEngine.compute`)
        """
        if funding is None:
            funding = self.funding_rates(dataframe, pair)
        reference = self.reference_prices(dataframe, pair)
        return self.signal_engine().compute(dataframe, pair, funding, reference)
