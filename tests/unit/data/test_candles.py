"""Loading candle and funding files (meta_strategy.data.candles): one test per error case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.data.candles import find_gaps, load_candles, load_funding
from meta_strategy.data.checks import DataReport
from meta_strategy.data.files import DataError
from tests.helpers.frames import START, funding_frame, ohlcv_frame, write_feather


@pytest.fixture
def candle_path(tmp_path: Path) -> Path:
    return tmp_path / "futures" / "BTC_USD_USD-1h-futures.feather"


def _error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_candles(path)
    message = str(info.value)
    assert str(path) in message  # every message names the file
    assert info.value.path == path
    return message


# --- one test per error case ------------------------------------------------------------


def test_valid_file_loads(candle_path: Path) -> None:
    df = load_candles(write_feather(ohlcv_frame(), candle_path))
    assert len(df) == 48 and str(df["date"].dtype) == "datetime64[ms, UTC]"


def test_missing_file(candle_path: Path) -> None:
    message = _error(candle_path)
    assert "not found" in message and f"Expected at {candle_path}" in message
    assert "bitbot download-data" in message and "BITBOT_DATA" in message


def test_missing_file_other_format_is_named(candle_path: Path) -> None:
    candle_path.parent.mkdir(parents=True)
    candle_path.with_suffix(".parquet").write_bytes(b"x")
    assert "BTC_USD_USD-1h-futures.parquet instead" in _error(candle_path)


def test_corrupt_bytes(candle_path: Path) -> None:
    candle_path.parent.mkdir(parents=True)
    candle_path.write_bytes(b"this is not an arrow file at all" * 10)
    assert "is not a valid feather file" in _error(candle_path)


def test_empty_file(candle_path: Path) -> None:
    candle_path.parent.mkdir(parents=True)
    candle_path.write_bytes(b"")
    assert "is not a valid feather file" in _error(candle_path)


def test_missing_column(candle_path: Path) -> None:
    message = _error(write_feather(ohlcv_frame().drop(columns=["close"]), candle_path))
    assert "missing column(s) close" in message
    assert "Expected columns: date, open, high, low, close, volume" in message


def test_wrong_date_dtype(candle_path: Path) -> None:
    df = ohlcv_frame()
    df["date"] = df["date"].astype("int64")
    message = _error(write_feather(df, candle_path))
    assert "'date' has dtype int64" in message and "datetime64[ms, UTC]" in message


def test_naive_dates_rejected(candle_path: Path) -> None:
    df = ohlcv_frame()
    df["date"] = df["date"].dt.tz_localize(None)
    assert "expected datetime64[ms, UTC]" in _error(write_feather(df, candle_path))


def test_nan_close(candle_path: Path) -> None:
    df = ohlcv_frame()
    df.loc[[5, 9], "close"] = np.nan
    message = _error(write_feather(df, candle_path))
    assert "2 NaN value(s) in 'close'" in message
    assert str(df["date"].iloc[5]) in message  # first bad timestamp


def test_non_monotonic_dates(candle_path: Path) -> None:
    df = ohlcv_frame()
    df.loc[[10, 11], "date"] = df.loc[[11, 10], "date"].to_numpy()
    message = _error(write_feather(df, candle_path))
    assert "non-monotonic" in message and "not in ascending order" in message
    assert str(df["date"].iloc[11]) in message


def test_duplicate_dates(candle_path: Path) -> None:
    df = ohlcv_frame()
    df.loc[20, "date"] = df.loc[19, "date"]
    message = _error(write_feather(df, candle_path))
    assert "duplicate dates" in message and str(df["date"].iloc[19]) in message


def test_high_below_low(candle_path: Path) -> None:
    df = ohlcv_frame()
    df.loc[7, ["high", "low"]] = [39000.0, 41000.0]
    message = _error(write_feather(df, candle_path))
    assert "high < low" in message and str(df["date"].iloc[7]) in message


def test_open_outside_range(candle_path: Path) -> None:
    df = ohlcv_frame()
    df.loc[3, "open"] = df.loc[3, "high"] + 1.0
    message = _error(write_feather(df, candle_path))
    assert "inconsistent OHLC" in message and str(df["date"].iloc[3]) in message


def test_non_positive_price(candle_path: Path) -> None:
    df = ohlcv_frame()
    df.loc[12, "low"] = 0.0
    message = _error(write_feather(df, candle_path))
    assert "non-positive price" in message and "'low'" in message
    assert str(df["date"].iloc[12]) in message


def test_negative_volume(candle_path: Path) -> None:
    df = ohlcv_frame()
    df.loc[2, "volume"] = -1.0
    assert "negative volume" in _error(write_feather(df, candle_path))


def test_no_rows(candle_path: Path) -> None:
    assert "has no rows" in _error(write_feather(ohlcv_frame().iloc[:0], candle_path))


# --- funding ----------------------------------------------------------------------------


@pytest.fixture
def funding_path(tmp_path: Path) -> Path:
    return tmp_path / "futures" / "BTC_USD_USD-1h-funding_rate.feather"


def _funding_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_funding(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_funding_loads_and_legacy_layout(funding_path: Path) -> None:
    assert len(load_funding(write_feather(funding_frame(), funding_path))) == 30
    legacy = ohlcv_frame(10, "8h").assign(open=2e-5, high=0.0, low=0.0, close=0.0, volume=0.0)
    df = load_funding(write_feather(legacy, funding_path))
    assert list(df.columns) == ["date", "funding_rate"] and (df["funding_rate"] == 2e-5).all()


def test_funding_missing(funding_path: Path) -> None:
    assert "not found" in _funding_error(funding_path)


def test_funding_missing_column(funding_path: Path) -> None:
    df = funding_frame().rename(columns={"funding_rate": "rate"})
    assert "missing column(s) funding_rate" in _funding_error(write_feather(df, funding_path))


def test_funding_nan(funding_path: Path) -> None:
    df = funding_frame()
    df.loc[4, "funding_rate"] = np.nan
    message = _funding_error(write_feather(df, funding_path))
    assert "1 NaN value(s) in 'funding_rate'" in message and str(df["date"].iloc[4]) in message


def test_funding_duplicates(funding_path: Path) -> None:
    df = funding_frame()
    df.loc[3, "date"] = df.loc[2, "date"]
    assert "duplicate dates" in _funding_error(write_feather(df, funding_path))


def test_funding_implausible(funding_path: Path) -> None:
    df = funding_frame()
    df.loc[6, "funding_rate"] = 0.75  # percent stored as a fraction
    assert "implausible funding rate" in _funding_error(write_feather(df, funding_path))


def test_funding_report_uses_event_spacing(funding_path: Path) -> None:
    df = load_funding(write_feather(funding_frame(), funding_path))
    report = DataReport.from_frame(df, funding_path)
    assert report.step == pd.Timedelta("8h") and report.gaps == 0
    assert (report.pair, report.timeframe, report.candle_type) == (
        "BTC/USD:USD",
        "1h",
        "funding_rate",
    )


# --- gaps are reported, not errors ------------------------------------------------------


def test_gaps_give_a_report(candle_path: Path) -> None:
    df = ohlcv_frame(48).drop(index=[10, 11, 12, 30]).reset_index(drop=True)
    loaded = load_candles(write_feather(df, candle_path))
    gaps = find_gaps(loaded, "1h")
    assert gaps == [
        (START + pd.Timedelta("9h"), START + pd.Timedelta("13h")),
        (START + pd.Timedelta("29h"), START + pd.Timedelta("31h")),
    ]
    report = DataReport.from_frame(loaded, candle_path)
    assert report.rows == 44 and report.gaps == 2 and report.missing == 4
    assert report.largest_gap == pd.Timedelta("3h")
    assert report.largest_gap_start == START + pd.Timedelta("10h")
    assert report.first == START and report.last == START + pd.Timedelta("47h")
    assert "2 gap(s), 4 missing, largest 3h" in str(report)


# --- names and paths --------------------------------------------------------------------


# --- validate_datadir -------------------------------------------------------------------
