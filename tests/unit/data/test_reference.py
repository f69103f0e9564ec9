"""The reference price of a perpetual (meta_strategy.data.reference): which market, aligned how."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.data.files import DataError
from meta_strategy.data.reference import (
    align_reference,
    load_reference_closes,
    missing_reference_message,
    reference_market,
    spot_pair,
)
from tests.helpers.frames import ohlcv_frame, write_feather


def test_kraken_futures_reads_its_index_and_other_exchanges_the_spot_pair() -> None:
    assert reference_market("BTC/USD:USD", "krakenfutures") == ("BTC/USD:USD", "index")
    assert reference_market("BTC/USDT:USDT", "binance") == ("BTC/USDT", "spot")
    assert reference_market("ETH/USDT:USDT", "Bybit") == ("ETH/USDT", "spot")
    assert spot_pair("BTC/USD") == "BTC/USD"


def test_align_reference_uses_only_closed_reference_candles() -> None:
    candles = ohlcv_frame(10)
    reference = ohlcv_frame(10).drop(index=[3, 4]).iloc[1:]  # two missing, the first missing
    aligned = align_reference(candles["date"], reference)
    expected = candles["close"].to_numpy().copy()
    expected[0] = np.nan  # nothing known yet
    expected[3:5] = expected[2]  # the last close known at their own close
    np.testing.assert_array_equal(aligned.to_numpy(), expected)
    assert aligned.index.equals(candles.index)


def test_missing_reference_names_the_file_or_the_exchange(tmp_path: Path) -> None:
    config = {"exchange": {"name": "krakenfutures"}, "datadir": str(tmp_path)}
    offline = missing_reference_message(config, "BTC/USD:USD", "1h", False, "PerpSpotBasis")
    assert str(tmp_path / "futures" / "BTC_USD_USD-1h-index.feather") in offline
    live = missing_reference_message(config, "BTC/USD:USD", "1h", True, "PerpSpotBasis")
    assert "index candles of BTC/USD:USD (1h)" in live and "krakenfutures returned none" in live


def test_load_reference_closes(tmp_path: Path) -> None:
    config = {"exchange": {"name": "binance"}}
    candles = ohlcv_frame(24)
    with pytest.raises(DataError, match=r"BTC_USDT-1h\.feather"):
        load_reference_closes(tmp_path, config, "BTC/USDT:USDT", "1h", candles["date"])
    spot = ohlcv_frame(24)
    spot[["open", "high", "low", "close"]] *= 1.001
    write_feather(spot, tmp_path / "BTC_USDT-1h.feather")
    closes = load_reference_closes(tmp_path, config, "BTC/USDT:USDT", "1h", candles["date"])
    pd.testing.assert_series_equal(closes, spot["close"], check_names=False)
