"""
The report's start (:func:`~meta_strategy.research.report.build.close_timerange` with
:func:`~meta_strategy.research.report.startup.required_history_days`) is the first day on which
Freqtrade starts the backtest where it was asked to: a day earlier, Freqtrade trims the start-up
candles off the data it has and starts later by itself.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from meta_strategy.research.report.build import close_timerange
from meta_strategy.research.report.plan import RunSpec
from meta_strategy.research.report.startup import required_history_days
from tests.helpers.freqtrade import run_bitbot


pytestmark = pytest.mark.slow

BASE = ("user_data/config.json", "user_data/config.binance.json")


def _backtest_start(datadir: Path, timerange: str, folder: Path) -> str:
    configs = [arg for config in BASE for arg in ("-c", config)]
    result = run_bitbot(
        "backtesting",
        *configs,
        "--datadir",
        str(datadir),
        "--strategy",
        "DonchianBreakout",
        "--timerange",
        timerange,
        "--backtest-directory",
        str(folder),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    line = next(ln for ln in result.stdout.splitlines() if "Backtesting with data from" in ln)
    return line.split("Backtesting with data from ")[1].split(" up to")[0]


def test_the_reports_start_is_where_freqtrade_starts(
    synthetic_datadir: Path, tmp_path: Path
) -> None:
    days = required_history_days([RunSpec("rules", "rules", ("DonchianBreakout",), BASE)])
    assert days == 181  # 4,321 hourly start-up candles
    candles = pd.read_feather(synthetic_datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather")
    first, last = candles["date"].iloc[0], candles["date"].iloc[-1]
    said: list[str] = []
    period = close_timerange(f"{first:%Y%m%d}-", first, last, days, log=said.append)
    start = pd.Timestamp(period.split("-")[0], tz="UTC")
    assert start == first.ceil("D") + pd.Timedelta(days=181) and "so it starts" in said[0]
    week = f"{start:%Y%m%d}-{start + pd.Timedelta(days=7):%Y%m%d}"
    assert _backtest_start(synthetic_datadir, week, tmp_path) == f"{start:%Y-%m-%d} 00:00:00"
    earlier = start - pd.Timedelta(days=1)
    asked = f"{earlier:%Y%m%d}-{start + pd.Timedelta(days=7):%Y%m%d}"
    moved = pd.Timestamp(_backtest_start(synthetic_datadir, asked, tmp_path), tz="UTC")
    assert moved > earlier, "a day earlier, Freqtrade starts later than asked"
