"""Volatility-targeted sizing in a real Freqtrade backtest: the stake follows the formula."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.data.btanalysis import load_backtest_data

from meta_strategy.trading.sizing import VolatilityTarget
from tests.helpers.freqtrade import run_bitbot


pytestmark = pytest.mark.slow

BINANCE = ("-c", "user_data/config.json", "-c", "user_data/config.binance.json")
SIZING = {"target_volatility": 0.2, "volatility_days": 20}


def _trades(market_datadir: Path, folder: Path, *overlay: str) -> pd.DataFrame:
    folder.mkdir()
    result = run_bitbot(
        "backtesting",
        *BINANCE,
        *overlay,
        "--datadir",
        str(market_datadir),
        "--strategy",
        "OTTStrategy",
        "--timerange",
        "20250301-20250501",
        "--export",
        "trades",
        "--backtest-directory",
        str(folder),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return load_backtest_data(folder)


def test_the_first_stake_is_the_full_stake_times_the_volatility_scale(
    market_datadir: Path, tmp_path: Path
) -> None:
    overlay = tmp_path / "sizing.json"
    overlay.write_text(json.dumps({"bitbot": {"sizing": SIZING}}))
    full = _trades(market_datadir, tmp_path / "full")
    sized = _trades(market_datadir, tmp_path / "sized", "-c", str(overlay))
    assert len(full) > 3 and list(full["open_date"]) == list(sized["open_date"])
    first = full["open_date"].iloc[0]
    candles = pd.read_feather(market_datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather")
    known = candles[candles["date"] < first]  # the entry candle's signal closed an hour earlier
    scale = VolatilityTarget(**SIZING).scale(known["close"].reset_index(drop=True), "1h")
    assert scale.iloc[-1] < 1.0, "the test needs a market wilder than the target"
    wanted = full["stake_amount"].iloc[0] * scale.iloc[-1]
    lot = 0.001 * sized["open_rate"].iloc[0]  # Freqtrade rounds the amount to the 0.001 BTC step
    assert abs(sized["stake_amount"].iloc[0] - wanted) <= lot
    assert (sized["stake_amount"] < full["stake_amount"]).all()
