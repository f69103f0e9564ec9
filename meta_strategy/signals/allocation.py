"""
What an allocator looks at before trusting a signal: each registered strategy's recent track
record (:mod:`~meta_strategy.signals.track_record`) and the market regime
(:mod:`~meta_strategy.signals.regimes`), as the meta layer's features.
"""

from __future__ import annotations

import logging

from pandas import DataFrame, Series

from meta_strategy.signals.regimes import REGIMES, RegimeSettings, market_regimes
from meta_strategy.signals.registry import Registry
from meta_strategy.signals.track_record import track_records, warmup_candles


logger = logging.getLogger(__name__)


def allocation_warmup(candles_per_day: int, regimes: RegimeSettings | None = None) -> int:
    """
    :return: candles, beyond the registry's longest lookback, before every allocation feature
        is known
    """
    return max(warmup_candles(candles_per_day), (regimes or RegimeSettings()).warmup)


def allocation_features(
    candles: DataFrame,
    signals: DataFrame,
    registry: Registry,
    funding: Series,
    fee: float,
    candles_per_day: int,
    open_trade: bool = False,
) -> DataFrame:
    """
    :param candles: base candles (uses ``close``)
    :param signals: the signal engine's output for them (``<prefix>_direction`` per entry)
    :param registry: the registry the signals come from
    :param funding: funding rate charged at each candle's open (0 where none)
    :param fee: cost of one fill
    :param candles_per_day: candles in a day at the base timeframe
    :param open_trade: add each entry's open trade's return (``%-track_<entry>_open_trade``)
    :return: features on ``candles.index``: ``%-track_<entry>_<record>`` per enabled entry,
        ``%-regime_efficiency``, ``%-regime_volatility_pct`` and ``%-regime_<name>`` (0 / 1)
    """
    out = {}
    for entry in registry.enabled:
        records = track_records(
            signals[f"{entry.feature_prefix}_direction"],
            candles["close"],
            funding,
            fee,
            candles_per_day,
            open_trade,
        )
        for column in records.columns:
            out[f"%-track_{entry.name}_{column}"] = records[column]
    regimes = market_regimes(candles)
    out["%-regime_efficiency"] = regimes["efficiency"]
    out["%-regime_volatility_pct"] = regimes["volatility_percentile"]
    for name in REGIMES:
        out[f"%-regime_{name}"] = regimes[f"regime_{name}"]
    return DataFrame(out, index=candles.index)
