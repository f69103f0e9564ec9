"""Validation of a whole data folder (meta_strategy.data.checks.validate_datadir)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.data.checks import validate_datadir
from meta_strategy.data.files import DataError, candle_file
from meta_strategy.data.synthetic.config import SyntheticMarketConfig
from meta_strategy.data.synthetic.files import write_freqtrade_data
from meta_strategy.data.synthetic.simulate import generate_market
from tests.helpers.frames import write_feather
from tests.helpers.freqtrade import real_data_dir


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
    write_feather(df, path)
    with pytest.raises(DataError, match="NaN value"):
        validate_datadir(datadir, ["BTC/USD:USD"], ["1h"])


@pytest.mark.skipif(
    not (real_data_dir() / "futures" / "BTC_USDT_USDT-1h-futures.feather").is_file(),
    reason=f"real Binance data not found at {real_data_dir()} (set BITBOT_DATA to use it)",
)
def test_validate_real_datadir() -> None:
    reports = validate_datadir(real_data_dir(), ["BTC/USDT:USDT"], ["1h", "5m", "15m"])
    assert [(r.timeframe, r.candle_type) for r in reports] == [
        ("5m", "futures"),
        ("15m", "futures"),
        ("1h", "futures"),
        ("1h", "mark"),
        ("1h", "funding_rate"),
    ]
    assert all(r.rows > 1000 and not r.synthetic for r in reports)
    assert reports[0].step == pd.Timedelta("5m")
