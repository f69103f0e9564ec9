"""Risk controls in a backtest: each limit fires, and trading waits as long as it should."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.freqtrade import run_bitbot


pytestmark = pytest.mark.slow


def test_each_limit_fires_in_a_backtest(binance_datadir: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "risk.json"
    overlay.write_text(
        json.dumps(
            {
                "bitbot": {
                    "risk": {
                        "apply_in_backtests": True,
                        "daily_loss_limit": 0.01,
                        "max_drawdown": 0.04,
                        "drawdown_cooldown_hours": 72,
                        "stop_atr_multiple": 2.0,
                    }
                }
            }
        )
    )
    results = tmp_path / "results"
    results.mkdir()
    out = run_bitbot(
        "backtesting",
        "-c",
        "user_data/config.json",
        "-c",
        "user_data/config.binance.json",
        "-c",
        str(overlay),
        "--strategy",
        "EqualVoteStrategy",
        "--timerange",
        "20240101-20240701",
        "--export",
        "trades",
        "--backtest-directory",
        str(results),
        "--cache",
        "none",
        env={"BITBOT_DATA": str(binance_datadir)},
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:]
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    stats = load_backtest_stats(results / get_latest_backtest_filename(results))
    trades = stats["strategy"]["EqualVoteStrategy"]["trades"]
    reasons = {t["exit_reason"] for t in trades}
    assert {"risk_daily_loss", "risk_max_drawdown"} <= reasons, reasons
    assert reasons & {"trailing_stop_loss", "stop_loss"}, reasons
    for before, after in itertools.pairwise(trades):
        closed = datetime.fromisoformat(before["close_date"])
        opened = datetime.fromisoformat(after["open_date"])
        if before["exit_reason"] == "risk_daily_loss":
            assert opened.date() > closed.date(), (before, after)
        if before["exit_reason"] == "risk_max_drawdown":
            assert opened >= closed + timedelta(hours=71), (before, after)
