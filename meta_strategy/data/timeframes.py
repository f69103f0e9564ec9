"""
Timeframes and timeranges, and higher timeframes built from a base timeframe, merged back with
closed candles only.

Timeframe lengths and ``--timerange`` parsing are Freqtrade's own: ``ccxt.Exchange.
parse_timeframe`` (all that ``freqtrade.exchange.timeframe_to_seconds`` calls; importing
Freqtrade's wrapper would load every exchange class) and ``TimeRange.parse_timerange``. This
module adds clear errors and returns pandas timestamps.

A higher-timeframe (HTF) candle covering ``[T, T + htf)`` closes at ``T + htf``. Its values may
reach a base candle only if that base candle closes at or after ``T + htf``: the first such base
candle starts at ``T + htf - base``. Freqtrade's :func:`merge_informative_pair` implements exactly
this shift; :func:`resample_ohlcv` builds the HTF candles on epoch-aligned buckets and drops
buckets that are not complete, so a partially formed HTF candle never reaches a strategy.
"""

from __future__ import annotations

import logging
import math
import re

import ccxt
import numpy as np
import pandas as pd
from pandas import DataFrame


logger = logging.getLogger(__name__)

_TIMEFRAME_RE = re.compile(r"^\d+[smhdwMy]$")


def timeframe_to_seconds(timeframe: str) -> int:
    """
    Length of a timeframe such as ``5m``, ``1h``, ``1d`` or ``1w``, as Freqtrade's
    ``timeframe_to_seconds`` (``ccxt.Exchange.parse_timeframe``: ``M`` = 30 days, ``y`` = 365
    days), with a clear error for text that is not a timeframe.

    :param timeframe: timeframe string
    :return: seconds per candle
    :raises ValueError: the timeframe is not understood
    """
    text = timeframe.strip()
    if not _TIMEFRAME_RE.match(text) or int(text[:-1]) <= 0:
        raise ValueError(f"Unknown timeframe {timeframe!r}; expected e.g. '5m', '1h', '1d'.")
    return int(ccxt.Exchange.parse_timeframe(text))


def timeframe_sort_key(timeframe: str) -> int:
    """
    :param timeframe: timeframe string
    :return: its length in seconds, or a large number for unknown timeframes (sorts them last)
    """
    try:
        return timeframe_to_seconds(timeframe)
    except ValueError:
        return 1 << 62


def parse_timerange(text: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """
    Parse a Freqtrade ``--timerange`` (``START-STOP``, either side may be empty) with
    Freqtrade's own ``TimeRange.parse_timerange``: each side is ``YYYYMMDD``,
    ``YYYYMMDDTHHMM``, ``YYYYMMDDTHHMMSS``, epoch seconds or epoch milliseconds (whole seconds
    count, as in Freqtrade).

    :param text: e.g. ``20230101-20240101``, ``20230101-``, ``-20240101``
    :return: (start, stop) as UTC timestamps; None for an open side
    :raises ValueError: the syntax is wrong or start is after stop
    """
    # Imported here: freqtrade.configuration takes about a second to import.
    from freqtrade.configuration import TimeRange
    from freqtrade.exceptions import ConfigurationError

    try:
        timerange = TimeRange.parse_timerange(text.strip()) if text.strip() else None
    except ConfigurationError as e:
        if "after stop" in str(e):
            raise ValueError(f"Start date is after stop date in timerange {text!r}.") from e
        timerange = None
    if timerange is None:
        raise ValueError(f"Incorrect syntax for timerange {text!r}; expected YYYYMMDD-YYYYMMDD.")
    start = pd.Timestamp(timerange.startts, unit="s", tz="UTC") if timerange.starttype else None
    stop = pd.Timestamp(timerange.stopts, unit="s", tz="UTC") if timerange.stoptype else None
    return start, stop


def days_to_candles(days: float, timeframe: str) -> int:
    """
    :param days: a length in days
    :param timeframe: a candle timeframe such as ``1h``
    :return: the candles of ``timeframe`` that cover ``days`` (rounded up, at least 1)
    """
    return max(1, math.ceil(days * 86400 / timeframe_to_seconds(timeframe)))


WEEK_ORIGIN_MS = 4 * 86_400_000
"""Weekly buckets start on Monday 1970-01-05, four days after the Unix epoch (a Thursday)."""


def resample_ohlcv(
    df: pd.DataFrame, timeframe: str, source_timeframe: str | None = None
) -> pd.DataFrame:
    """
    Exact OHLCV aggregation onto epoch-aligned buckets; incomplete buckets are dropped.

    Bucket ``b = floor((t - origin) / tf)`` with origin the Unix epoch (Monday 1970-01-05 for
    weekly candles, as exchanges open weeks on Monday). Per bucket: first open, max high,
    min low, last close, sum of volume. A bucket is kept only when it holds all
    ``tf / source_tf`` source candles, so every timeframe is an exact function of the finest.
    :param df: OHLCV frame with strictly increasing ``date`` (datetime64, UTC)
    :param timeframe: target timeframe, e.g. ``1h``; a multiple of the source timeframe
    :param source_timeframe: timeframe of ``df``; default: the smallest spacing in ``df``
    :return: aggregated frame, ``date`` datetime64[ms, UTC], float64 values
    :raises ValueError: the target is not a multiple of the source, monthly timeframes, or
        dates not strictly increasing
    """
    if timeframe.endswith(("M", "y")):
        raise ValueError(f"resample_ohlcv: calendar timeframe {timeframe} is not supported")
    date_ms = np.asarray(pd.DatetimeIndex(df["date"]).as_unit("ms").asi8, dtype=np.int64)
    tf_ms = timeframe_to_seconds(timeframe) * 1000
    if len(date_ms) > 1 and (np.diff(date_ms) <= 0).any():
        raise ValueError("resample_ohlcv: dates must be strictly increasing")
    if source_timeframe is not None:
        src_ms = timeframe_to_seconds(source_timeframe) * 1000
    elif len(date_ms) > 1:
        src_ms = int(np.diff(date_ms).min())
    elif len(date_ms) == 1:
        raise ValueError("resample_ohlcv: one candle; pass source_timeframe")
    else:
        src_ms = tf_ms
    if tf_ms % src_ms:
        raise ValueError(f"resample_ohlcv: {timeframe} is not a multiple of the source timeframe")
    cols = ["open", "high", "low", "close", "volume"]
    if tf_ms == src_ms:
        out = df.loc[:, ["date", *cols]].reset_index(drop=True)
        out["date"] = pd.DatetimeIndex(out["date"]).as_unit("ms")
        return out
    origin = WEEK_ORIGIN_MS if timeframe.endswith("w") else 0
    bucket = (date_ms - origin) // tf_ms
    if len(bucket) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}).assign(
            date=pd.Series(dtype="datetime64[ms, UTC]")
        )[["date", *cols]]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    ends = np.concatenate((starts[1:], [len(bucket)]))
    complete = (ends - starts) == tf_ms // src_ms
    o, h, lo, c, v = (df[col].to_numpy(dtype=np.float64) for col in cols)
    out = pd.DataFrame(
        {
            "date": pd.to_datetime(bucket[starts] * tf_ms + origin, unit="ms", utc=True).as_unit(
                "ms"
            ),
            "open": o[starts],
            "high": np.maximum.reduceat(h, starts),
            "low": np.minimum.reduceat(lo, starts),
            "close": c[ends - 1],
            "volume": np.add.reduceat(v, starts),
        }
    )
    return out.loc[complete].reset_index(drop=True)


def merge_closed(
    base: DataFrame,
    htf: DataFrame,
    base_timeframe: str,
    htf_timeframe: str,
    columns: list[str] | None = None,
) -> DataFrame:
    """
    Merge HTF columns onto base candles so that each HTF candle appears only once closed.

    Columns arrive as ``<name>_<htf_timeframe>``; ``date_<htf_timeframe>`` holds the open time of
    the HTF candle in effect, and ``fresh_<htf_timeframe>`` is True on the one base candle at
    which that HTF candle first becomes visible.

    :param base: base-timeframe candles
    :param htf: HTF frame with a ``date`` column (bucket open time)
    :param base_timeframe: timeframe of ``base``
    :param htf_timeframe: timeframe of ``htf``
    :param columns: HTF columns to merge (all when None)
    :return: ``base`` with the HTF columns added, forward-filled
    """
    from freqtrade.strategy import merge_informative_pair

    if columns is not None:
        htf = htf[["date", *columns]]
    merged = merge_informative_pair(base, htf, base_timeframe, htf_timeframe, ffill=True)
    date_col = f"date_{htf_timeframe}"
    merged[f"fresh_{htf_timeframe}"] = merged[date_col].notna() & (
        merged[date_col] != merged[date_col].shift(1)
    )
    return merged


def htf_label(hours: int) -> str:
    """:return: a Freqtrade timeframe string for a whole number of hours (``3`` -> ``"3h"``)"""
    if hours % 24 == 0:
        return f"{hours // 24}d"
    return f"{hours}h"


__all__ = ["htf_label", "merge_closed", "resample_ohlcv"]
