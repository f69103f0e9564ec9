"""Names and paths of data files (meta_strategy.data.files), as Freqtrade has them."""

from __future__ import annotations

from pathlib import Path

from meta_strategy.data.files import (
    CANDLE_FILE_PATTERN,
    candle_file,
    detect_datasets,
    filename_to_pair,
    parse_candle_filename,
    resolve_datadir,
)
from tests.helpers.frames import funding_frame, ohlcv_frame, write_feather


def test_pair_and_file_names_match_freqtrade(tmp_path: Path) -> None:
    from freqtrade.data.history.datahandlers.featherdatahandler import FeatherDataHandler
    from freqtrade.data.history.datahandlers.idatahandler import IDataHandler
    from freqtrade.enums import CandleType

    assert candle_file(tmp_path, "BTC/USD:USD", "1h").name == "BTC_USD_USD-1h-futures.feather"
    for pair in ("BTC/USD:USD", "BTC/USDT:USDT", "BTC/USDT", "1000PEPE/USDT:USDT"):
        for timeframe in ("5m", "1h", "1M"):
            for ctype in ("spot", "futures", "mark", "funding_rate"):
                ours = candle_file(tmp_path, pair, timeframe, ctype)
                theirs = FeatherDataHandler._pair_data_filename(
                    tmp_path, pair, timeframe, CandleType.from_string(ctype)
                )
                assert ours == theirs
                parsed = parse_candle_filename(ours.name)
                assert parsed == (pair, timeframe, ctype)
        stem = candle_file(tmp_path, pair, "1h", "spot").name.split("-")[0]
        assert filename_to_pair(stem) == IDataHandler.rebuild_pair_from_filename(stem)
    assert CANDLE_FILE_PATTERN.pattern == IDataHandler._OHLCV_REGEX.pattern
    assert candle_file(tmp_path, "BTC/USDT", "1h", "spot") == tmp_path / "BTC_USDT-1h.feather"
    assert parse_candle_filename("BTC_USDT_USDT-1h-mark.feather") == ("BTC/USDT:USDT", "1h", "mark")
    assert parse_candle_filename("BTC_USDT-trades.feather") is None


def test_resolve_datadir_precedence() -> None:
    env = {"BITBOT_DATA": "/data/from/env"}
    assert resolve_datadir("/data/from/cli", env) == Path("/data/from/cli")
    assert resolve_datadir(None, env) == Path("/data/from/env")
    assert resolve_datadir("", env) == Path("/data/from/env")
    assert resolve_datadir(None, {}) is None
    assert resolve_datadir(None, {"BITBOT_DATA": "  "}) is None
    assert resolve_datadir("~/d", {}) == Path.home() / "d"


def test_detect_datasets(tmp_path: Path) -> None:
    write_feather(ohlcv_frame(), tmp_path / "BTC_USDT-1h.feather")
    write_feather(ohlcv_frame(), tmp_path / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    write_feather(funding_frame(), tmp_path / "futures" / "BTC_USDT_USDT-1h-funding_rate.feather")
    (tmp_path / "futures" / "notes.txt").write_text("ignored")
    assert detect_datasets(tmp_path) == [
        ("BTC/USDT", "1h", "spot"),
        ("BTC/USDT:USDT", "1h", "funding_rate"),
        ("BTC/USDT:USDT", "5m", "futures"),
    ]
    assert detect_datasets(tmp_path / "nope") == []
