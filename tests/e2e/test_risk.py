"""Risk controls in a backtest: each limit fires, and trading waits as long as it should."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

from meta_strategy.trading.risk_controls import fresh_entry_signals
from tests.helpers.freqtrade import load_strategy, run_bitbot, strategy_signals


pytestmark = pytest.mark.slow


@pytest.mark.parametrize("strategy", ["EqualVoteStrategy", "SupertrendStrategy"])
def test_each_limit_fires_in_a_backtest(
    binance_datadir: Path, btc_1h: pd.DataFrame, tmp_path: Path, strategy: str
) -> None:
    """The vote (a target-exposure strategy) and a rule strategy alike: the daily loss limit
    and the maximum drawdown close the position and block entries as long as they should; the
    volatility stop is the target-exposure strategies' own."""
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
        strategy,
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
    stats = load_backtest_stats(results / get_latest_backtest_filename(results))
    trades = stats["strategy"][strategy]["trades"]
    reasons = {t["exit_reason"] for t in trades}
    assert {"risk_daily_loss", "risk_max_drawdown"} <= reasons, reasons
    if strategy == "EqualVoteStrategy":
        assert reasons & {"trailing_stop_loss", "stop_loss"}, reasons
    for before, after in itertools.pairwise(trades):
        closed = datetime.fromisoformat(before["close_date"])
        opened = datetime.fromisoformat(after["open_date"])
        if before["exit_reason"] == "risk_daily_loss":
            assert opened.date() > closed.date(), (before, after)
        if before["exit_reason"] == "risk_max_drawdown":
            assert opened >= closed + timedelta(hours=71), (before, after)
    if strategy == "SupertrendStrategy":  # its entry signal holds for the whole trend
        _assert_rule_entries_re_arm_on_fresh_signals(trades, btc_1h)


def _assert_rule_entries_re_arm_on_fresh_signals(trades: list[dict], btc_1h: pd.DataFrame) -> None:
    """After a protective exit a rule strategy enters only once its entry signal switched on
    again (at or after the exit's candle), not on the held signal when the block ends."""
    candles = btc_1h[btc_1h["date"] < "2024-07-02"].reset_index(drop=True)
    signals = strategy_signals(load_strategy("SupertrendStrategy"), candles)
    fresh = signals.loc[fresh_entry_signals(signals).to_numpy(), "date"]
    checked = 0
    for before, after in itertools.pairwise(trades):
        if not before["exit_reason"].startswith("risk_"):
            continue
        closed = pd.Timestamp(before["close_date"])
        opened = pd.Timestamp(after["open_date"])
        # the entry fills at the open after its signal candle; a fresh signal closed in between
        assert ((fresh >= closed - timedelta(hours=1)) & (fresh < opened)).any(), (before, after)
        checked += 1
    assert checked >= 3
