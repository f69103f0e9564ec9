"""Tests of data resolution and validation (meta_strategy.data)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.data import (
    DataError,
    DataReport,
    candle_file,
    detect_datasets,
    find_gaps,
    load_candles,
    load_funding,
    pair_to_filename,
    parse_candle_filename,
    parse_timerange,
    resolve_datadir,
    timeframe_to_seconds,
    validate_datadir,
)
from meta_strategy.synthetic import SyntheticMarketConfig, generate_market, write_freqtrade_data


REPO_ROOT = Path(__file__).resolve().parents[1]
START = pd.Timestamp("2024-01-01", tz="UTC")


def _candles(n: int = 48, freq: str = "1h") -> pd.DataFrame:
    """A small, valid OHLCV frame in Freqtrade's dtypes."""
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


def _write(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_feather(path, compression="lz4", compression_level=9)
    return path


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
    df = load_candles(_write(_candles(), candle_path))
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
    message = _error(_write(_candles().drop(columns=["close"]), candle_path))
    assert "missing column(s) close" in message
    assert "Expected columns: date, open, high, low, close, volume" in message


def test_wrong_date_dtype(candle_path: Path) -> None:
    df = _candles()
    df["date"] = df["date"].astype("int64")
    message = _error(_write(df, candle_path))
    assert "'date' has dtype int64" in message and "datetime64[ms, UTC]" in message


def test_naive_dates_rejected(candle_path: Path) -> None:
    df = _candles()
    df["date"] = df["date"].dt.tz_localize(None)
    assert "expected datetime64[ms, UTC]" in _error(_write(df, candle_path))


def test_nan_close(candle_path: Path) -> None:
    df = _candles()
    df.loc[[5, 9], "close"] = np.nan
    message = _error(_write(df, candle_path))
    assert "2 NaN value(s) in 'close'" in message
    assert str(df["date"].iloc[5]) in message  # first bad timestamp


def test_non_monotonic_dates(candle_path: Path) -> None:
    df = _candles()
    df.loc[[10, 11], "date"] = df.loc[[11, 10], "date"].to_numpy()
    message = _error(_write(df, candle_path))
    assert "non-monotonic" in message and "not in ascending order" in message
    assert str(df["date"].iloc[11]) in message


def test_duplicate_dates(candle_path: Path) -> None:
    df = _candles()
    df.loc[20, "date"] = df.loc[19, "date"]
    message = _error(_write(df, candle_path))
    assert "duplicate dates" in message and str(df["date"].iloc[19]) in message


def test_high_below_low(candle_path: Path) -> None:
    df = _candles()
    df.loc[7, ["high", "low"]] = [39000.0, 41000.0]
    message = _error(_write(df, candle_path))
    assert "high < low" in message and str(df["date"].iloc[7]) in message


def test_open_outside_range(candle_path: Path) -> None:
    df = _candles()
    df.loc[3, "open"] = df.loc[3, "high"] + 1.0
    message = _error(_write(df, candle_path))
    assert "inconsistent OHLC" in message and str(df["date"].iloc[3]) in message


def test_non_positive_price(candle_path: Path) -> None:
    df = _candles()
    df.loc[12, "low"] = 0.0
    message = _error(_write(df, candle_path))
    assert "non-positive price" in message and "'low'" in message
    assert str(df["date"].iloc[12]) in message


def test_negative_volume(candle_path: Path) -> None:
    df = _candles()
    df.loc[2, "volume"] = -1.0
    assert "negative volume" in _error(_write(df, candle_path))


def test_no_rows(candle_path: Path) -> None:
    assert "has no rows" in _error(_write(_candles().iloc[:0], candle_path))


# --- funding ----------------------------------------------------------------------------


def _funding(n: int = 30, freq: str = "8h") -> pd.DataFrame:
    dates = pd.date_range(START, periods=n, freq=freq).as_unit("ms")
    return pd.DataFrame({"date": dates, "funding_rate": np.full(n, 1e-4)})


@pytest.fixture
def funding_path(tmp_path: Path) -> Path:
    return tmp_path / "futures" / "BTC_USD_USD-1h-funding_rate.feather"


def _funding_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_funding(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_funding_loads_and_legacy_layout(funding_path: Path) -> None:
    assert len(load_funding(_write(_funding(), funding_path))) == 30
    legacy = _candles(10, "8h").assign(open=2e-5, high=0.0, low=0.0, close=0.0, volume=0.0)
    df = load_funding(_write(legacy, funding_path))
    assert list(df.columns) == ["date", "funding_rate"] and (df["funding_rate"] == 2e-5).all()


def test_funding_missing(funding_path: Path) -> None:
    assert "not found" in _funding_error(funding_path)


def test_funding_missing_column(funding_path: Path) -> None:
    df = _funding().rename(columns={"funding_rate": "rate"})
    assert "missing column(s) funding_rate" in _funding_error(_write(df, funding_path))


def test_funding_nan(funding_path: Path) -> None:
    df = _funding()
    df.loc[4, "funding_rate"] = np.nan
    message = _funding_error(_write(df, funding_path))
    assert "1 NaN value(s) in 'funding_rate'" in message and str(df["date"].iloc[4]) in message


def test_funding_duplicates(funding_path: Path) -> None:
    df = _funding()
    df.loc[3, "date"] = df.loc[2, "date"]
    assert "duplicate dates" in _funding_error(_write(df, funding_path))


def test_funding_implausible(funding_path: Path) -> None:
    df = _funding()
    df.loc[6, "funding_rate"] = 0.75  # percent stored as a fraction
    assert "implausible funding rate" in _funding_error(_write(df, funding_path))


def test_funding_report_uses_event_spacing(funding_path: Path) -> None:
    df = load_funding(_write(_funding(), funding_path))
    report = DataReport.from_frame(df, funding_path)
    assert report.step == pd.Timedelta("8h") and report.gaps == 0
    assert (report.pair, report.timeframe, report.candle_type) == (
        "BTC/USD:USD",
        "1h",
        "funding_rate",
    )


# --- gaps are reported, not errors ------------------------------------------------------


def test_gaps_give_a_report(candle_path: Path) -> None:
    df = _candles(48).drop(index=[10, 11, 12, 30]).reset_index(drop=True)
    loaded = load_candles(_write(df, candle_path))
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


def test_pair_and_file_names_match_freqtrade(tmp_path: Path) -> None:
    from freqtrade.data.history.datahandlers.featherdatahandler import FeatherDataHandler
    from freqtrade.enums import CandleType
    from freqtrade.misc import pair_to_filename as ft_pair_to_filename

    assert pair_to_filename("BTC/USD:USD") == "BTC_USD_USD"
    for pair in ("BTC/USD:USD", "BTC/USDT:USDT", "BTC/USDT", "1000PEPE/USDT:USDT"):
        assert pair_to_filename(pair) == ft_pair_to_filename(pair)
        for ctype in ("spot", "futures", "mark", "funding_rate"):
            ours = candle_file(tmp_path, pair, "1h", ctype)
            theirs = FeatherDataHandler._pair_data_filename(
                tmp_path, pair, "1h", CandleType.from_string(ctype)
            )
            assert ours == theirs
    assert candle_file(tmp_path, "BTC/USDT", "1h", "spot") == tmp_path / "BTC_USDT-1h.feather"
    assert parse_candle_filename("BTC_USDT_USDT-1h-mark.feather") == ("BTC/USDT:USDT", "1h", "mark")
    assert parse_candle_filename("BTC_USDT-trades.feather") is None


def test_timeframes_match_freqtrade() -> None:
    from freqtrade.exchange import timeframe_to_seconds as ft_seconds

    for tf in ("1m", "5m", "15m", "1h", "3h", "4h", "1d", "3d", "1w", "1M"):
        assert timeframe_to_seconds(tf) == ft_seconds(tf)
    with pytest.raises(ValueError, match="Unknown timeframe"):
        timeframe_to_seconds("5 minutes")


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
    for bad in ("2023", "20230101", "-", "20240101-20230101", "2023-01-01-2024-01-01"):
        with pytest.raises(ValueError):
            parse_timerange(bad)


def test_resolve_datadir_precedence() -> None:
    env = {"BITBOT_DATA": "/data/from/env"}
    assert resolve_datadir("/data/from/cli", env) == Path("/data/from/cli")
    assert resolve_datadir(None, env) == Path("/data/from/env")
    assert resolve_datadir("", env) == Path("/data/from/env")
    assert resolve_datadir(None, {}) is None
    assert resolve_datadir(None, {"BITBOT_DATA": "  "}) is None
    assert resolve_datadir("~/d", {}) == Path.home() / "d"


def test_detect_datasets(tmp_path: Path) -> None:
    _write(_candles(), tmp_path / "BTC_USDT-1h.feather")
    _write(_candles(), tmp_path / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    _write(_funding(), tmp_path / "futures" / "BTC_USDT_USDT-1h-funding_rate.feather")
    (tmp_path / "futures" / "notes.txt").write_text("ignored")
    assert detect_datasets(tmp_path) == [
        ("BTC/USDT", "1h", "spot"),
        ("BTC/USDT:USDT", "1h", "funding_rate"),
        ("BTC/USDT:USDT", "5m", "futures"),
    ]
    assert detect_datasets(tmp_path / "nope") == []


# --- validate_datadir -------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    datadir = tmp_path_factory.mktemp("data") / "synthetic"
    market = generate_market(SyntheticMarketConfig(seed=3, start="2023-01-01", end="2023-02-01"))
    write_freqtrade_data(market, datadir, pair="BTC/USD:USD", timeframes=("5m", "15m", "1h"))
    return datadir


def test_validate_synthetic_datadir(synthetic_dir: Path) -> None:
    reports = validate_datadir(synthetic_dir, ["BTC/USD:USD"], ["1h", "5m", "15m"])
    assert [(r.timeframe, r.candle_type) for r in reports] == [
        ("5m", "futures"),
        ("15m", "futures"),
        ("1h", "futures"),
        ("1h", "mark"),
        ("1h", "funding_rate"),
    ]
    assert reports[0].rows == 31 * 288 and reports[-1].rows == 31 * 24
    assert all(r.gaps == 0 and r.synthetic for r in reports)


def test_validate_missing_datadir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist") as info:
        validate_datadir(tmp_path / "nowhere", ["BTC/USD:USD"], ["1h"])
    assert str(tmp_path / "nowhere") in str(info.value)


def test_validate_missing_pair_lists_available(synthetic_dir: Path) -> None:
    with pytest.raises(DataError) as info:
        validate_datadir(synthetic_dir, ["ETH/USD:USD"], ["1h"])
    message = str(info.value)
    assert "ETH_USD_USD-1h-futures.feather" in message and "not found" in message
    assert "Available in" in message and "BTC/USD:USD 1h futures" in message
    assert "--pairs ETH/USD:USD" in message


@pytest.mark.parametrize(
    ("ctype", "words"), [("mark", "Mark candles"), ("funding_rate", "Funding")]
)
def test_validate_needs_mark_and_funding(
    tmp_path: Path, synthetic_dir: Path, ctype: str, words: str
) -> None:
    datadir = tmp_path / "copy"
    for name in ("1h-futures", "1h-mark", "1h-funding_rate"):
        src = synthetic_dir / "futures" / f"BTC_USD_USD-{name}.feather"
        (datadir / "futures").mkdir(parents=True, exist_ok=True)
        (datadir / "futures" / src.name).write_bytes(src.read_bytes())
    validate_datadir(datadir, ["BTC/USD:USD"], ["1h"])  # complete: passes
    missing = candle_file(datadir, "BTC/USD:USD", "1h", ctype)
    missing.unlink()
    with pytest.raises(DataError) as info:
        validate_datadir(datadir, ["BTC/USD:USD"], ["1h"])
    message = str(info.value)
    assert str(missing) in message and words in message and "funding fees" in message
    # Spot mode does not need them.
    with pytest.raises(DataError, match=r"BTC_USD_USD-1h\.feather not found"):
        validate_datadir(datadir, ["BTC/USD:USD"], ["1h"], trading_mode="spot")


def test_validate_timerange(synthetic_dir: Path) -> None:
    with pytest.raises(DataError) as info:
        validate_datadir(synthetic_dir, ["BTC/USD:USD"], ["1h"], timerange="20240101-20240201")
    message = str(info.value)
    assert "does not cover any of the timerange 20240101-20240201" in message
    assert "2023-01-01 00:00 .. 2023-01-31 23:00 UTC" in message
    assert "BTC_USD_USD-1h-futures.feather" in message
    reports = validate_datadir(
        synthetic_dir, ["BTC/USD:USD"], ["1h"], timerange="20230115-20230301"
    )
    assert all(len(r.warnings) == 1 and "only part" in r.warnings[0] for r in reports)
    reports = validate_datadir(
        synthetic_dir, ["BTC/USD:USD"], ["1h"], timerange="20230105-20230110"
    )
    assert not any(r.warnings for r in reports)


def test_validate_reports_broken_file(tmp_path: Path, synthetic_dir: Path) -> None:
    datadir = tmp_path / "broken"
    for src in (synthetic_dir / "futures").glob("BTC_USD_USD-1h-*.feather"):
        (datadir / "futures").mkdir(parents=True, exist_ok=True)
        (datadir / "futures" / src.name).write_bytes(src.read_bytes())
    path = candle_file(datadir, "BTC/USD:USD", "1h", "futures")
    df = pd.read_feather(path)
    df.loc[100, "close"] = np.nan
    _write(df, path)
    with pytest.raises(DataError, match="NaN value"):
        validate_datadir(datadir, ["BTC/USD:USD"], ["1h"])


def _real_datadir() -> Path:
    env = os.environ.get("BITBOT_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "binance"


@pytest.mark.skipif(
    not (_real_datadir() / "futures" / "BTC_USDT_USDT-1h-futures.feather").is_file(),
    reason=f"real Binance data not found at {_real_datadir()} (set BITBOT_DATA to use it)",
)
def test_validate_real_datadir() -> None:
    reports = validate_datadir(_real_datadir(), ["BTC/USDT:USDT"], ["1h", "5m", "15m"])
    assert [(r.timeframe, r.candle_type) for r in reports] == [
        ("5m", "futures"),
        ("15m", "futures"),
        ("1h", "futures"),
        ("1h", "mark"),
        ("1h", "funding_rate"),
    ]
    assert all(r.rows > 1000 and not r.synthetic for r in reports)
    assert reports[0].step == pd.Timedelta("5m")
