"""
The reference price a perpetual is measured against: its venue's index, or the spot market.

A perpetual trades at a premium (or discount) to the price it tracks; the premium is the
market's crowding made visible (longs paying up for leverage lift it). Which reference price a
strategy can read depends on where it runs:

* **Kraken futures** (live target): the venue's index price, the spot composite its perpetuals
  track and fund against. Freqtrade fetches it as candle type ``index``; ccxt's ``krakenfutures``
  maps ``fetchOHLCV(..., params={"price": "index"})`` to Kraken's ``spot`` price type
  (``GET /api/charts/v1/spot/PF_XBTUSD/1h``, Kraken's name for the index candles). Data files:
  ``futures/BTC_USD_USD-<tf>-index.feather`` (``bitbot download-data`` fetches them).
* **Every other exchange** (the Binance research proxy): the spot pair of the same coins,
  ``BTC/USDT`` for ``BTC/USDT:USDT``, candle type ``spot``, e.g. ``BTC_USDT-1h.feather`` at the
  root of the shared data folder.

Missing reference candles are an error that names the file (backtests) or the exchange call
(dry-run / live): a strategy reading the premium never runs on a made-up one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.exceptions import OperationalException

from meta_strategy.data.candles import load_candles
from meta_strategy.data.files import candle_file


logger = logging.getLogger(__name__)

INDEX_PRICE_EXCHANGES: frozenset[str] = frozenset({"krakenfutures"})
"""Exchanges whose perpetuals are measured against the venue's index candles (``index``)."""

REFERENCE_CLOSE = "reference_close"
"""Column of the reference price's close per candle, where the signal engine hands it over."""


class ReferencePriceError(OperationalException, ValueError):
    """The reference candles (spot or index) a strategy needs are missing; Freqtrade reports
    it in one line and exits 2."""


def spot_pair(pair: str) -> str:
    """
    :param pair: a Freqtrade pair, e.g. ``BTC/USDT:USDT``
    :return: the spot pair of the same coins, e.g. ``BTC/USDT``
    """
    return pair.split(":", 1)[0]


def reference_market(pair: str, exchange: str) -> tuple[str, str]:
    """
    :param pair: the traded perpetual
    :param exchange: Freqtrade's exchange name (``exchange.name`` in the config)
    :return: ``(pair, candle_type)`` of its reference price (see the module docstring)
    """
    if exchange.lower() in INDEX_PRICE_EXCHANGES:
        return pair, "index"
    return spot_pair(pair), "spot"


def reference_market_of(config: dict[str, Any], pair: str) -> tuple[str, str]:
    """:return: :func:`reference_market` for the exchange of a Freqtrade config"""
    return reference_market(pair, str((config.get("exchange") or {}).get("name", "")))


def missing_reference_message(
    config: dict[str, Any], pair: str, timeframe: str, live: bool, reader: str
) -> str:
    """
    :param config: the Freqtrade config (``exchange.name``, ``datadir``)
    :param pair: the traded perpetual
    :param timeframe: the timeframe read
    :param live: dry-run / live (the candles come from the exchange) or not (from files)
    :param reader: who needs them, e.g. ``PerpSpotBasis``
    :return: what is missing and where it should have come from
    """
    ref_pair, candle_type = reference_market_of(config, pair)
    what = f"{reader} needs {candle_type} candles of {ref_pair} ({timeframe}) as {pair}'s "
    what += "reference price"
    if live:
        exchange = (config.get("exchange") or {}).get("name", "?")
        return f"{what}; the exchange {exchange} returned none."
    datadir = config.get("datadir")
    if datadir is None:
        return f"{what}; no data folder is configured."
    path = candle_file(Path(datadir), ref_pair, timeframe, candle_type)
    return f"{what}: {path} is missing or empty; download it with the pair's data."


def align_reference(candle_dates: pd.Series, reference: pd.DataFrame) -> pd.Series:
    """
    :param candle_dates: candle open times
    :param reference: the reference candles (``date``, ``close``)
    :return: per candle, the reference close of the candle opened at the same time (the last
        earlier one where it is missing: known at that close), NaN before the first; on
        ``candle_dates.index``
    """
    closes = reference.drop_duplicates("date").set_index("date")["close"].astype(np.float64)
    dates = pd.DatetimeIndex(candle_dates)
    aligned = closes.reindex(closes.index.union(dates)).ffill().reindex(dates)
    return pd.Series(aligned.to_numpy(), index=candle_dates.index)


def load_reference_closes(
    datadir: Path, config: dict[str, Any], pair: str, timeframe: str, candle_dates: pd.Series
) -> pd.Series:
    """
    Read the reference candles of ``pair`` from a data folder and align them to the candles.

    :param datadir: Freqtrade data folder
    :param config: the Freqtrade config (``exchange.name`` picks spot or index)
    :param pair: the traded perpetual
    :param timeframe: the candles' timeframe
    :param candle_dates: the candles' open times
    :return: :func:`align_reference` of the file's candles
    :raises DataError: the file is missing or broken (named)
    """
    ref_pair, candle_type = reference_market_of(config, pair)
    path = candle_file(Path(datadir), ref_pair, timeframe, candle_type)
    hint = f"the {candle_type} candles of {ref_pair} are {pair}'s reference price; download them"
    return align_reference(candle_dates, load_candles(path, hint=hint))
