"""Risk controls (meta_strategy.trading.risk): the limits, their bookkeeping, the caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meta_strategy.trading.config import BitBotConfigError
from meta_strategy.trading.risk import (
    RiskLimits,
    RiskState,
    protective_exit,
    rearmed_since,
    volatility_stop_price,
)
from tests.helpers.freqtrade import load_strategy


T0 = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)


def _limits(**kw: object) -> RiskLimits:
    return RiskLimits.from_config({"bitbot": {"risk": kw}})


def test_defaults_and_config_errors() -> None:
    assert RiskLimits.from_config({}) == RiskLimits()
    assert _limits(max_drawdown=0.1).max_drawdown == 0.1
    with pytest.raises(BitBotConfigError, match=r"unknown key.*max_dd"):
        _limits(max_dd=0.1)
    with pytest.raises(
        BitBotConfigError, match=r"max_drawdown is 1.5; expected a value in \[0, 1\]"
    ):
        _limits(max_drawdown=1.5)
    with pytest.raises(BitBotConfigError, match="max_exposure is 0"):
        _limits(max_exposure=0)
    with pytest.raises(BitBotConfigError, match="must be a number"):
        _limits(daily_loss_limit="5%")
    with pytest.raises(BitBotConfigError, match="true or false"):
        _limits(apply_in_backtests="yes")


def test_daily_loss_limit_flattens_and_blocks_until_the_next_utc_day() -> None:
    state = RiskState(_limits(daily_loss_limit=0.05, max_drawdown=0.5))
    assert not state.update(T0, 1000.0).flatten
    assert not state.update(T0 + timedelta(hours=5), 951.0).flatten
    verdict = state.update(T0 + timedelta(hours=6), 950.0)  # -5 % from the day's 1000
    assert verdict.flatten and verdict.reason.startswith("daily_loss")
    assert state.update(T0 + timedelta(hours=23), 990.0).flatten  # still blocked that day
    assert not state.update(T0 + timedelta(days=1), 990.0).flatten  # a new day, a new start
    assert state.day_start_equity == 990.0


def test_max_drawdown_blocks_for_the_cool_down_then_measures_afresh() -> None:
    state = RiskState(_limits(daily_loss_limit=1.0, max_drawdown=0.2, drawdown_cooldown_hours=48))
    state.update(T0, 1000.0)
    state.update(T0 + timedelta(days=1), 1200.0)  # new peak
    assert not state.update(T0 + timedelta(days=2), 961.0).flatten
    verdict = state.update(T0 + timedelta(days=3), 960.0)  # 20 % below 1200
    assert verdict.flatten and state.short_reason == "max_drawdown"
    assert state.update(T0 + timedelta(days=4), 1300.0).flatten  # blocked for 48 h regardless
    assert not state.update(T0 + timedelta(days=5), 900.0).flatten  # resumed: peak = 900 now
    assert state.peak == 900.0


def test_volatility_stop_is_on_the_losing_side() -> None:
    assert volatility_stop_price(100.0, 2.0, 3.0, is_short=False) == 94.0
    assert volatility_stop_price(100.0, 2.0, 3.0, is_short=True) == 106.0


def _load(strategy: str, **bitbot: object):
    return load_strategy(strategy, **bitbot)


def test_leverage_above_the_risk_ceiling_does_not_start() -> None:
    with pytest.raises(BitBotConfigError, match=r"above bitbot\.risk\.max_leverage 2"):
        _load("EqualVoteStrategy", leverage=3.0, risk={"max_leverage": 2.0})


def test_exposure_cap_clips_the_target() -> None:
    import pandas as pd

    strategy = _load("EqualVoteStrategy", risk={"max_exposure": 0.5})
    frame = pd.DataFrame(
        {
            "high": [2.0] * 20,
            "low": [1.0] * 20,
            "close": [1.5] * 20,
            "target_exposure": [1.0, -1.0, 0.25, None] * 5,
        }
    )
    capped = strategy.apply_exposure_cap(frame)
    assert capped["target_exposure"].tolist()[:4] == [0.5, -0.5, 0.25, 0.0]
    assert capped["risk_atr"].iloc[-1] == pytest.approx(1.0)
    assert not strategy.risk_active  # a backtest-like run mode: off unless asked


def test_regime_caps() -> None:
    limits = _limits(max_exposure=0.8, max_exposure_by_regime={"volatile": 0.5, "ranging": 1.0})
    codes = [0.0, 1.0, 2.0, 3.0, float("nan")]  # ranging, trending, volatile, trending-volatile
    assert limits.exposure_caps(codes).tolist() == [0.8, 0.8, 0.5, 0.8, 0.8]
    assert not _limits().regime_capped
    with pytest.raises(BitBotConfigError, match=r"'volatil' \(did you mean 'volatile'\?\)"):
        _limits(max_exposure_by_regime={"volatil": 0.5})
    with pytest.raises(BitBotConfigError, match=r"by_regime\.volatile is 0; expected"):
        _limits(max_exposure_by_regime={"volatile": 0})
    with pytest.raises(BitBotConfigError, match="must be an object"):
        _limits(max_exposure_by_regime=0.5)


def test_the_exposure_cap_follows_the_market_regime(any_market_1h) -> None:
    from meta_strategy.signals.regimes import market_regimes

    strategy = _load("EqualVoteStrategy", risk={"max_exposure_by_regime": {"volatile": 0.25}})
    frame = any_market_1h.iloc[-3000:].reset_index(drop=True).assign(target_exposure=-1.0)
    capped = strategy.apply_exposure_cap(frame.copy())
    volatile = (market_regimes(frame)["regime"] == 2).to_numpy()
    assert volatile.any() and (~volatile).any()
    assert (capped["target_exposure"][volatile] == -0.25).all()
    assert (capped["target_exposure"][~volatile] == -1.0).all()
    assert capped["market_regime"].equals(market_regimes(frame)["regime"])


def test_daily_loss_blocks_do_not_reset_the_drawdown_peak() -> None:
    state = RiskState(_limits(daily_loss_limit=0.05, max_drawdown=0.25))
    equity = 1000.0
    for day in range(10):  # lose 6 % a day: a daily-loss block every day
        now = T0 + timedelta(days=day)
        state.update(now, equity)
        equity *= 0.94
        verdict = state.update(now + timedelta(hours=12), equity)
        if state.short_reason == "max_drawdown":
            break
    assert verdict.flatten and state.short_reason == "max_drawdown"
    assert equity <= 1000 * 0.75 and state.peak == 1000.0


def test_protective_exits_are_the_stops_liquidation_and_the_risk_limits() -> None:
    for reason in ("stop_loss", "trailing_stop_loss", "liquidation", "risk_daily_loss"):
        assert protective_exit(reason), reason
    for reason in ("exit_signal", "force_exit", "safe_mode", "", None):
        assert not protective_exit(reason), reason


def test_entries_re_arm_on_a_candle_that_closes_after_the_exit() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    closes = [start + timedelta(hours=h + 1) for h in range(6)]  # candles 0..5, hourly
    rearm = [True, False, False, True, False, False]
    exit_time = start + timedelta(hours=1, minutes=30)  # inside candle 1
    assert rearmed_since(closes, rearm, exit_time), "candle 3 re-arms"
    assert not rearmed_since(closes, [True, False, False, False, False, False], exit_time)
    assert not rearmed_since(closes[:3], rearm[:3], exit_time), "candle 0 closed before"
    # a naive exit time is UTC; a stop at candle 3's open is re-armed by candle 3 itself
    assert rearmed_since(closes, rearm, datetime(2024, 1, 1, 3))
