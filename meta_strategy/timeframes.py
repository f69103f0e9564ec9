"""
Higher timeframes built from a base timeframe, merged back with closed candles only.

A higher-timeframe (HTF) candle covering ``[T, T + htf)`` closes at ``T + htf``. Its values may
reach a base candle only if that base candle closes at or after ``T + htf``: the first such base
candle starts at ``T + htf - base``. Freqtrade's :func:`merge_informative_pair` implements exactly
this shift; :func:`resample_ohlcv` builds the HTF candles on epoch-aligned buckets and drops
buckets that are not complete, so a partially formed HTF candle never reaches a strategy.
"""

from __future__ import annotations

import logging

from freqtrade.exchange import timeframe_to_minutes
from freqtrade.strategy import merge_informative_pair
from pandas import DataFrame


logger = logging.getLogger(__name__)

OHLCV_AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def resample_ohlcv(df: DataFrame, timeframe: str, base_timeframe: str | None = None) -> DataFrame:
    """
    Aggregate OHLCV candles to a higher timeframe on epoch-aligned buckets.

    Buckets with fewer base candles than the timeframe holds are dropped: the last one because it
    has not closed yet, others because candles are missing.

    :param df: candles with a ``date`` column (UTC, candle open time), sorted, one timeframe
    :param timeframe: target timeframe, e.g. ``"3h"``
    :param base_timeframe: timeframe of ``df``; inferred from the first two rows when omitted
    :return: HTF candles with ``date`` = bucket open time
    """
    target = timeframe_to_minutes(timeframe)
    if base_timeframe is None:
        if len(df) < 2:
            return df.iloc[0:0][["date", *OHLCV_AGG]].copy()
        base = int((df["date"].iloc[1] - df["date"].iloc[0]).total_seconds() // 60)
    else:
        base = timeframe_to_minutes(base_timeframe)
    if target % base != 0 or target < base:
        raise ValueError(
            f"Cannot resample {base}m candles to {timeframe}: "
            "the target must be a whole multiple of the base timeframe."
        )
    per_bucket = target // base
    bucket = df["date"].dt.floor(f"{target}min")
    grouped = df.groupby(bucket, sort=True)
    out = grouped.agg(OHLCV_AGG)
    counts = grouped["close"].count()
    out = out[counts == per_bucket]
    out.index.name = "date"
    return out.reset_index()


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


__all__ = ["OHLCV_AGG", "htf_label", "merge_closed", "resample_ohlcv"]
