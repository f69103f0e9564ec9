"""The check before a Freqtrade data command (meta_strategy.data.preflight.check_data_files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta_strategy.data.files import DataError
from meta_strategy.data.markets import SnapshotError
from meta_strategy.data.preflight import BadArgumentError, check_data_files
from meta_strategy.data.synthetic.config import SyntheticMarketConfig
from meta_strategy.data.synthetic.files import write_freqtrade_data
from meta_strategy.data.synthetic.simulate import generate_market
from tests.helpers.freqtrade import REPO


CONFIG = str(REPO / "user_data" / "config.json")


@pytest.fixture(scope="module")
def kraken_datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    datadir = tmp_path_factory.mktemp("kraken")
    market = generate_market(SyntheticMarketConfig(seed=5, start="2023-01-01", end="2023-02-01"))
    write_freqtrade_data(market, datadir, pair="BTC/USD:USD", timeframes=("1h",))
    return datadir


def _backtesting(datadir: Path, *extra: str) -> list[str]:
    return ["backtesting", "-c", CONFIG, "--datadir", str(datadir), *extra]


def test_sound_files_pass(kraken_datadir: Path) -> None:
    check_data_files(_backtesting(kraken_datadir, "--timerange", "20230110-20230120"))


def test_a_missing_file_names_it(kraken_datadir: Path) -> None:
    with pytest.raises(DataError, match=r"BTC_USD_USD-5m-futures\.feather not found"):
        check_data_files(_backtesting(kraken_datadir, "--timeframe", "5m"))


def test_a_malformed_timerange_is_a_bad_argument(kraken_datadir: Path) -> None:
    with pytest.raises(BadArgumentError, match="Incorrect syntax for timerange '2023-01-01'"):
        check_data_files(_backtesting(kraken_datadir, "--timerange", "2023-01-01"))
    assert BadArgumentError.label == "bad argument"


def test_a_pair_not_in_the_snapshot_is_refused(
    kraken_datadir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BITBOT_MARKETS", "snapshot")
    with pytest.raises(SnapshotError, match="Unknown pair ETH/USD:USD on krakenfutures"):
        check_data_files(_backtesting(kraken_datadir, "--pairs", "ETH/USD:USD"))


def test_commands_that_read_no_candles_are_not_checked(tmp_path: Path) -> None:
    check_data_files(["list-exchanges"])
    check_data_files(["trade", "-c", CONFIG, "--datadir", str(tmp_path / "absent")])
