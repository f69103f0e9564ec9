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


def with_funding(candles: pd.DataFrame, datadir: Path) -> pd.DataFrame:
    """
    The candles with the ``funding_rate`` column the signal engine hands to the strategies
    (the rate charged at each candle's open, 0 where none), from the datadir's funding file.
    """
    from meta_strategy.data.candles import align_funding

    funding = pd.read_feather(datadir / "futures" / "BTC_USDT_USDT-1h-funding_rate.feather")
    return candles.assign(funding_rate=align_funding(candles["date"], funding))
