"""
Timeframes and timeranges as Freqtrade reads them; higher timeframes: exact resampling, and
HTF values reach base candles only once closed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from meta_strategy.data.timeframes import (
    htf_label,
    merge_closed,
    parse_timerange,
    resample_ohlcv,
    timeframe_to_seconds,
)


def _candles(n: int, start: str = "2024-01-01 01:00", freq: str = "1h") -> pd.DataFrame:
    rng = np.random.default_rng(7)
    close = 40_000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=n, freq=freq, tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": rng.uniform(1, 10, n),
        }
    )


def test_resample_is_exact_and_drops_incomplete_buckets() -> None:
    df = _candles(10)  # 01:00 .. 10:00 -> buckets 00:00 (2 of 3), 03:00, 06:00, 09:00 (2 of 3)
    out = resample_ohlcv(df, "3h", "1h")
    assert list(out["date"].dt.hour) == [3, 6]
    first = df.iloc[2:5]
    row = out.iloc[0]
    assert row["open"] == first["open"].iloc[0]
    assert row["high"] == first["high"].max()
    assert row["low"] == first["low"].min()
    assert row["close"] == first["close"].iloc[-1]
    assert row["volume"] == pytest.approx(first["volume"].sum())


def test_resample_rejects_non_multiples() -> None:
    with pytest.raises(ValueError, match="not a multiple of the source timeframe"):
        resample_ohlcv(_candles(10), "90m", "1h")


def test_htf_candle_reaches_the_base_candle_where_it_closes() -> None:
    df = _candles(30, start="2024-01-01 00:00")
    htf = resample_ohlcv(df, "3h", "1h")
    htf["marker"] = np.arange(len(htf), dtype=float)
    merged = merge_closed(df, htf, "1h", "3h", columns=["marker"])
    # The 00:00-03:00 candle closes at 03:00: the 02:00 base candle (closing at 03:00) is the
    # first that may see it, never 00:00 or 01:00.
    by_hour = merged.set_index("date")
    assert np.isnan(by_hour.loc["2024-01-01 01:00", "marker_3h"])
    assert by_hour.loc["2024-01-01 02:00", "marker_3h"] == 0
    assert by_hour.loc["2024-01-01 04:00", "marker_3h"] == 0
    assert by_hour.loc["2024-01-01 05:00", "marker_3h"] == 1
    assert list(merged["fresh_3h"].iloc[:9]) == [
        False,
        False,
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]


def test_merge_has_no_lookahead() -> None:
    """Changing any candle after t changes nothing merged at or before t."""
    df = _candles(200, start="2024-01-01 00:00")
    full = merge_closed(df, resample_ohlcv(df, "4h", "1h"), "1h", "4h")
    for cut in (50, 97, 150):
        altered = df.copy()
        altered.loc[cut + 1 :, ["open", "high", "low", "close"]] *= 3.0
        part = merge_closed(altered, resample_ohlcv(altered, "4h", "1h"), "1h", "4h")
        pd.testing.assert_frame_equal(full.iloc[: cut + 1], part.iloc[: cut + 1])


def test_htf_label() -> None:
    assert htf_label(3) == "3h"
    assert htf_label(24) == "1d"


def test_timeframes_match_freqtrade() -> None:
    from freqtrade.exchange import timeframe_to_seconds as ft_seconds

    for tf in ("1m", "5m", "15m", "1h", "3h", "4h", "1d", "3d", "1w", "1M"):
        assert timeframe_to_seconds(tf) == ft_seconds(tf)
    for bad in ("5 minutes", "0h", "1x", "h", ""):
        with pytest.raises(ValueError, match="Unknown timeframe"):
            timeframe_to_seconds(bad)


@pytest.mark.parametrize(
    "text",
    ["20230101-20240101", "20230101-", "-20240101", "20230101T0630-", "1672531200-1704067200"],
)
def test_timerange_matches_freqtrade(text: str) -> None:
    from freqtrade.configuration.timerange import TimeRange

    start, stop = parse_timerange(text)
    ft = TimeRange.parse_timerange(text)
    assert (start.to_pydatetime() if start is not None else None) == ft.startdt
    assert (stop.to_pydatetime() if stop is not None else None) == ft.stopdt


def test_timerange_syntax_errors() -> None:
    for bad in ("2023", "20230101", "-", "", "2023-01-01", "2023-01-01-2024-01-01"):
        with pytest.raises(ValueError, match=f"Incorrect syntax for timerange '{bad}'"):
            parse_timerange(bad)
    with pytest.raises(ValueError, match="Start date is after stop date"):
        parse_timerange("20240101-20230101")


def test_timerange_sides_at_the_epoch_and_in_milliseconds() -> None:
    """Freqtrade stores an open side as 0; a side at 1970-01-01 is still a date."""
    epoch = pd.Timestamp(0, tz="UTC")
    assert parse_timerange("19700101-") == (epoch, None)
    assert parse_timerange("-19700101") == (None, epoch)
    assert parse_timerange("0000000000-") == (epoch, None)
    # epoch milliseconds count in whole seconds, as Freqtrade reads them
    assert parse_timerange("1700000000123-")[0] == pd.Timestamp(1_700_000_000, unit="s", tz="UTC")
