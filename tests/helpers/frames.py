"""Small, valid candle and funding frames in Freqtrade's dtypes, and a feather writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


START = pd.Timestamp("2024-01-01", tz="UTC")


def ohlcv_frame(n: int = 48, freq: str = "1h") -> pd.DataFrame:
    """A small, valid OHLCV frame in Freqtrade's dtypes, from :data:`START`."""
    dates = pd.date_range(START, periods=n, freq=freq).as_unit("ms")
    close = 40000.0 + np.arange(n, dtype=np.float64) * 10.0
    open_ = np.concatenate(([close[0] - 5.0], close[:-1]))
    return pd.DataFrame(
        {
            "date": dates,
            "open": open_,
            "high": np.maximum(open_, close) + 20.0,
            "low": np.minimum(open_, close) - 20.0,
            "close": close,
            "volume": np.full(n, 12.5),
        }
    )


def funding_frame(n: int = 30, freq: str = "8h") -> pd.DataFrame:
    """A funding-rate frame (``date``, ``funding_rate`` 1e-4), from :data:`START`."""
    dates = pd.date_range(START, periods=n, freq=freq).as_unit("ms")
    return pd.DataFrame({"date": dates, "funding_rate": np.full(n, 1e-4)})


def prices_scaled_after(
    candles: pd.DataFrame, cut: int, rng: np.random.Generator, low: float, high: float
) -> pd.DataFrame:
    """
    The no-look-ahead tests' altered future: a copy of ``candles`` whose open, high, low and
    close after row ``cut`` are multiplied by factors drawn from ``uniform(low, high)``.

    :return: the altered copy (rows up to ``cut`` unchanged)
    """
    altered = candles.copy()
    factor = rng.uniform(low, high, len(candles) - cut - 1)
    for col in ("open", "high", "low", "close"):
        altered.loc[cut + 1 :, col] = altered.loc[cut + 1 :, col].to_numpy() * factor
    return altered


def write_feather(df: pd.DataFrame, path: Path) -> Path:
    """Write a frame as Freqtrade does (lz4 feather), creating the folder; :return: ``path``"""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_feather(path, compression="lz4", compression_level=9)
    return path


def with_market_inputs(candles: pd.DataFrame, datadir: Path) -> pd.DataFrame:
    """
    The candles of BTC/USDT:USDT with the columns the signal engine hands to the strategies:
    ``funding_rate`` (the rate charged at each candle's open, 0 where none) from the datadir's
    funding file, and ``reference_close`` (the reference price, the spot pair's close) from its
    ``BTC_USDT-1h.feather``.
    """
    from meta_strategy.data.candles import align_funding
    from meta_strategy.data.reference import REFERENCE_CLOSE, align_reference

    funding = pd.read_feather(datadir / "futures" / "BTC_USDT_USDT-1h-funding_rate.feather")
    spot = pd.read_feather(datadir / "BTC_USDT-1h.feather")
    return candles.assign(
        funding_rate=align_funding(candles["date"], funding),
        **{REFERENCE_CLOSE: align_reference(candles["date"], spot)},
    )


def future_inputs_changed(
    altered: pd.DataFrame, cut: int, rng: np.random.Generator
) -> pd.DataFrame:
    """
    The no-look-ahead tests' altered future of the market inputs: the funding after row
    ``cut`` multiplied by factors in (-3, 3), the reference price by factors in (0.9, 1.1).

    :param altered: candles with :func:`with_market_inputs`' columns (changed in place)
    :return: ``altered``
    """
    later = altered.index > cut
    altered.loc[later, "funding_rate"] *= rng.uniform(-3, 3, int(later.sum()))
    altered.loc[later, "reference_close"] *= rng.uniform(0.9, 1.1, int(later.sum()))
    return altered
