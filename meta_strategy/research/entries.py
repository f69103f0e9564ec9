"""
Every registry entry's own line: what following its direction earned, at the entry's own
timeframe, over a backtest's period.

Freqtrade backtests a strategy class at the timeframe of the data it has (1h here); the meta
layer hears registry *entries* (``supertrend_4h``, ``donchian_1d``, ...), each its class at its
own timeframe on closed candles. This follows each entry's direction as the signal engine gives
it (:mod:`~meta_strategy.signals.track_record`'s net return: fee per fill, funding), so the
lines read beside Freqtrade's: hypothetical, without ROI, stoploss or Freqtrade's order
mechanics.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.data.reference import load_reference_closes
from meta_strategy.research.metrics import performance
from meta_strategy.signals.engine import SignalEngine
from meta_strategy.signals.registry import load_configured_registry
from meta_strategy.signals.track_record import following_returns


logger = logging.getLogger(__name__)


def entry_directions(
    config: dict[str, Any], candles: pd.DataFrame, rates: pd.Series, pair: str, datadir: Path
) -> pd.DataFrame:
    """
    :param config: Freqtrade configuration (``bitbot.registry`` names the registry)
    :param candles: 1h candles (``date``, OHLCV) with the history before the period
    :param rates: the funding rate charged at each candle's open
        (:func:`~meta_strategy.data.candles.align_funding`)
    :param pair: the pair
    :param datadir: the data folder, for the reference price when an entry reads it
    :return: one column per enabled entry: its direction per candle (NaN while unknown)
    """
    registry = load_configured_registry(config, "1h")
    engine = SignalEngine(registry, config)
    reference = None
    if engine.reads_reference_price:
        reference = load_reference_closes(datadir, config, pair, "1h", candles["date"])
    signals = engine.compute(candles, pair, rates, reference)
    return pd.DataFrame(
        {e.name: signals[f"{e.feature_prefix}_direction"] for e in registry.enabled},
        index=candles.index,
    )


def entry_summaries(
    directions: pd.DataFrame,
    candles: pd.DataFrame,
    rates: pd.Series,
    fee: float,
    start: str,
    end: str,
) -> list[str]:
    """
    :param directions: :func:`entry_directions`
    :param candles: the same 1h candles
    :param rates: the same funding rates per candle
    :param fee: cost of one fill
    :param start: first day of the period (inclusive)
    :param end: its end (exclusive)
    :return: one line per entry, in :func:`~meta_strategy.research.metrics.strategy_summaries`'
        format: position changes, performance of the daily equity, fees paid
    """
    inside = ((candles["date"] >= start) & (candles["date"] < end)).to_numpy()
    rows = []
    for name in directions.columns:
        # flat before the period: a position held at its start is opened, and paid for, in it
        direction = directions[name].where(inside, 0.0)
        returns = following_returns(direction, candles["close"], rates, fee)
        returns = returns.where(inside, 0.0).fillna(0.0)
        equity = pd.Series((1.0 + returns).cumprod().to_numpy(), index=candles["date"])[inside]
        daily = equity.resample("1D").last()
        daily = pd.concat([pd.Series([1.0], index=[daily.index[0] - pd.Timedelta(days=1)]), daily])
        held = direction.shift(1).fillna(0.0)
        entered = (held != held.shift(1)) & held.isin([-1.0, 1.0]) & inside
        longs, shorts = int((entered & (held == 1)).sum()), int((entered & (held == -1)).sum())
        traded = (held - held.shift(1)).abs().where(inside, 0.0).fillna(0.0)
        rows.append(
            f"{name:<18} trades {longs + shorts:>4} ({longs} long, {shorts} short)  "
            f"{performance(daily).row()}  fees paid {fee * float(np.sum(traded)):6.2%}"
        )
    return rows
