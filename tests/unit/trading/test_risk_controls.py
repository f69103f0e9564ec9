"""The risk controls every shipped strategy has (meta_strategy.trading.risk_controls)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest
from freqtrade.enums import RunMode

from meta_strategy.paths import STRATEGY_REGISTRY
from meta_strategy.trading.risk_controls import RiskControls, fresh_entry_signals
from tests.helpers.freqtrade import load_strategy


T0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
REGISTRY = json.loads(STRATEGY_REGISTRY.read_text())


class _Wallets:
    def __init__(self, total: float) -> None:
        self.total = total

    def get_total(self, currency: str) -> float:
        return self.total


def test_fresh_entry_signals_mark_where_a_signal_switches_on() -> None:
    frame = pd.DataFrame(
        {
            "enter_long": [None, 1, 1, None, 1, None],
            "enter_short": [1, None, None, 1, 1, None],
        }
    )
    assert fresh_entry_signals(frame).tolist() == [True, True, False, True, True, False]
    assert fresh_entry_signals(frame[["enter_long"]]).tolist() == [
        False,
        True,
        False,
        False,
        True,
        False,
    ]
    assert fresh_entry_signals(pd.DataFrame({"close": [1.0]})) is None


@pytest.mark.parametrize(
    "name", sorted({entry["strategy"] for entry in REGISTRY["strategies"]} | {"MetaStrategy"})
)
def test_every_shipped_strategy_has_the_risk_controls(name: str) -> None:
    strategy = load_strategy(name, risk={"apply_in_backtests": True})
    assert isinstance(strategy, RiskControls)
    assert strategy.risk_active
    assert not load_strategy(name).risk_active  # a backtest: off unless asked
    assert load_strategy(name, runmode=RunMode.DRY_RUN).risk_active


def test_a_rule_strategy_closes_and_refuses_entries_at_the_daily_loss_limit() -> None:
    strategy = load_strategy(
        "VolatilitySystem", risk={"apply_in_backtests": True, "daily_loss_limit": 0.05}
    )
    strategy.wallets = _Wallets(1000.0)
    trade = SimpleNamespace(calc_profit=lambda rate: rate - 100.0)
    assert strategy.custom_exit("BTC/USDT:USDT", trade, T0, 100.0, 0.0) is None
    assert strategy.custom_exit("BTC/USDT:USDT", trade, T0 + timedelta(hours=1), 60.0, 0.0) is None
    reason = strategy.custom_exit("BTC/USDT:USDT", trade, T0 + timedelta(hours=2), 50.0, 0.0)
    assert reason == "risk_daily_loss"  # 1000 - 50 = 5 % below the day's start
    strategy.wallets.total = 950.0
    entry = {"order_type": "market", "amount": 1.0, "rate": 100.0, "time_in_force": "GTC"}
    allowed = strategy.confirm_trade_entry(
        "BTC/USDT:USDT", **entry, current_time=T0 + timedelta(hours=3), entry_tag=None, side="long"
    )
    assert not allowed
    assert "daily_loss" in strategy.describe_block(reason)
    strategy.bot_start()
    assert strategy.risk.blocked_until is None  # every run starts afresh


def test_without_apply_in_backtests_a_backtest_trades_through_the_limits() -> None:
    strategy = load_strategy("SupertrendStrategy", risk={"daily_loss_limit": 0.01})
    strategy.wallets = _Wallets(1000.0)
    trade = SimpleNamespace(calc_profit=lambda rate: -500.0)
    assert strategy.custom_exit("BTC/USDT:USDT", trade, T0, 100.0, 0.0) is None


def test_after_a_protective_exit_a_rule_strategy_waits_for_a_fresh_signal(monkeypatch) -> None:
    from freqtrade.persistence import Trade

    strategy = load_strategy("SupertrendStrategy", risk={"apply_in_backtests": True})
    exit_at = T0 + timedelta(hours=2, minutes=30)  # inside candle 2
    stopped = SimpleNamespace(close_date_utc=exit_at, exit_reason="risk_daily_loss")
    monkeypatch.setattr(Trade, "get_trades_proxy", staticmethod(lambda **kw: [stopped]))
    dates = pd.date_range(T0, periods=6, freq="1h")

    def analysed(enter_long: list[float | None]) -> None:
        frame = pd.DataFrame({"date": dates, "enter_long": enter_long})
        strategy.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (frame, None))

    analysed([1, 1, 1, 1, 1, 1])  # the signal held through the exit: no re-entry
    assert not strategy.rearmed("BTC/USDT:USDT")
    analysed([1, 1, 1, None, None, 1])  # it switched on again at candle 5
    assert strategy.rearmed("BTC/USDT:USDT")
    analysed([None, 1, 1, 1, 1, 1])  # switched on at candle 1, closed before the exit
    assert not strategy.rearmed("BTC/USDT:USDT")
    stopped.exit_reason = "exit_signal"  # the strategy's own exit: no wait
    assert strategy.rearmed("BTC/USDT:USDT")
