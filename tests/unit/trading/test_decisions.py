"""
Decision messages: the format, when a dry-run strategy sends one (``bitbot.decisions.notify``),
the log line, nothing in backtests, and the model a MetaStrategy names.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode

from meta_strategy.data.reference import ReferencePriceError
from meta_strategy.trading.config import BitBotConfigError
from meta_strategy.trading.decisions import (
    decision_notify_mode,
    format_decision,
    last_directions,
    telegram_markdown,
)
from meta_strategy.trading.risk import RiskLimits
from tests.helpers.freqtrade import load_strategy


PAIR = "BTC/USDT:USDT"
DATE = datetime(2025, 6, 1, 14, 0, tzinfo=UTC)
DIRECTIONS = {"volatility": 1, "supertrend": 1, "supertrend_4h": 0, "ott": -1, "bband_rsi": 0}


class FakeProvider:
    """Stands in for Freqtrade's DataProvider: collects the messages."""

    runmode = RunMode.DRY_RUN

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.spot = pd.DataFrame()

    def current_whitelist(self) -> list[str]:
        return [PAIR]

    def get_pair_dataframe(self, pair: str, timeframe: str, candle_type: str) -> pd.DataFrame:
        """No funding-rate candles (a warning, and no funding); ``spot`` as the spot price."""
        return self.spot if candle_type == "spot" else pd.DataFrame()

    def send_msg(self, message: str, *, always_send: bool = False) -> None:
        assert always_send, "decision messages must not be deduplicated per candle"
        self.messages.append(message)


def _strategy(runmode: RunMode = RunMode.DRY_RUN, notify: str | None = None, name: str = ""):
    configs = ("config.json", "config.binance.json")
    if name == "MetaStrategy":
        configs += ("config.freqai.json",)
    bitbot = {"decisions": {"notify": notify}} if notify is not None else {}
    strategy = load_strategy(name or "EqualVoteStrategy", configs, runmode, **bitbot)
    strategy.dp = FakeProvider()
    return strategy


def _frame(targets: list[float], directions: dict[str, int] = DIRECTIONS) -> pd.DataFrame:
    """Candles ending at DATE with the given targets and, on every row, the directions."""
    n = len(targets)
    frame = pd.DataFrame(
        {
            "date": pd.date_range(end=DATE, periods=n, freq="1h"),
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "volume": 1.0,
            "target_exposure": targets,
        }
    )
    for name, direction in directions.items():
        frame[f"%-sig_{name}_direction"] = float(direction)
    return frame


def _run_candles(strategy, targets: list[float]) -> list[str]:
    """Analyse one new candle per target (the frame grows by a row each time)."""
    for i in range(1, len(targets) + 1):
        frame = _frame(targets[:i])
        frame["date"] += pd.Timedelta(hours=i)
        strategy.populate_entry_trend(frame, {"pair": PAIR})
    return strategy.dp.messages


# ---------------------------------------------------------------------- format


def test_format_long_after_flat() -> None:
    text = format_decision(PAIR, DATE, 1.0, 0.0, DIRECTIONS, "promoted-240")
    assert text.splitlines() == [
        "BTC/USDT:USDT 2025-06-01 14:00 UTC: LONG 1.0x (was flat)",
        "agree: volatility, supertrend · against: ott · flat: supertrend_4h, bband_rsi",
        "model: promoted-240",
    ]


def test_format_short_half_and_first_decision_without_model() -> None:
    text = format_decision(PAIR, DATE, -0.5, None, DIRECTIONS, None)
    assert text.splitlines() == [
        "BTC/USDT:USDT 2025-06-01 14:00 UTC: SHORT 0.5x (first decision)",
        "agree: ott · against: volatility, supertrend · flat: supertrend_4h, bband_rsi",
    ]


def test_format_flat_lists_long_and_short() -> None:
    text = format_decision(PAIR, DATE, 0.0, 0.5, DIRECTIONS, "meta-ppo/cb_btc_1")
    first, second, model = text.splitlines()
    assert first.endswith("FLAT (was long 0.5x)")
    assert second == "agree: supertrend_4h, bband_rsi · long: volatility, supertrend · short: ott"
    assert model == "model: meta-ppo/cb_btc_1"


def test_format_nobody_agrees_unchanged_and_no_signals() -> None:
    text = format_decision(PAIR, DATE, -1.0, -1.0, {"a": 1, "b": 0}, None)
    assert text.splitlines()[0].endswith("SHORT 1.0x (unchanged)")
    assert text.splitlines()[1] == "agree: none · against: a · flat: b"
    assert format_decision(PAIR, DATE, 1.0, -1.0, {}, None).splitlines() == [
        "BTC/USDT:USDT 2025-06-01 14:00 UTC: LONG 1.0x (was short 1.0x)"
    ]


def test_last_directions_reads_the_last_row() -> None:
    frame = _frame([0.0, 0.0])
    frame.loc[0, "%-sig_ott_direction"] = 1.0  # only the last row counts
    frame.loc[1, "%-sig_bband_rsi_direction"] = np.nan  # still in its lookback: left out
    frame["%-sig_ott_strength"] = 0.3  # not a direction
    assert last_directions(frame) == {
        "volatility": 1,
        "supertrend": 1,
        "supertrend_4h": 0,
        "ott": -1,
    }
    assert list(last_directions(frame, ["ott", "missing", "volatility"])) == ["ott", "volatility"]
    assert last_directions(frame.iloc[:0]) == {}


def test_telegram_markdown_escapes_entity_characters() -> None:
    assert telegram_markdown("bband_rsi *x* `y` [z]") == r"bband\_rsi \*x\* \`y\` \[z]"


# ---------------------------------------------------------------------- config


def test_notify_config() -> None:
    assert decision_notify_mode({}) == "change"
    assert decision_notify_mode({"bitbot": {"decisions": {"notify": "off"}}}) == "off"
    with pytest.raises(BitBotConfigError, match=r"notify is 'always'; expected one of change"):
        decision_notify_mode({"bitbot": {"decisions": {"notify": "always"}}})
    with pytest.raises(
        BitBotConfigError, match=r"unknown key\(s\) 'notfy' \(did you mean 'notify'\?\)"
    ):
        decision_notify_mode({"bitbot": {"decisions": {"notfy": "off"}}})
    with pytest.raises(BitBotConfigError, match="must be an object"):
        decision_notify_mode({"bitbot": {"decisions": "off"}})


def test_a_bad_notify_value_stops_the_strategy_at_load() -> None:
    with pytest.raises(BitBotConfigError, match=r"bitbot\.decisions\.notify"):
        _strategy(notify="sometimes")


# ---------------------------------------------------------------------- sending


def test_change_mode_sends_the_first_decision_and_changes_only(caplog) -> None:
    strategy = _strategy()
    caplog.set_level(logging.INFO, logger="meta_strategy.trading.exposure")
    messages = _run_candles(strategy, [0.0, 0.0, 1.0, 1.0, -0.5])
    assert len(messages) == 3
    assert "FLAT (first decision)" in messages[0]
    assert "LONG 1.0x (was flat)" in messages[1]
    assert "SHORT 0.5x (was long 1.0x)" in messages[2]
    # Sent with Telegram's Markdown escaped, logged as one plain line.
    assert r"bband\_rsi" in messages[1]
    logged = [r.getMessage() for r in caplog.records if "bitbot decision:" in r.getMessage()]
    assert len(logged) == 3
    assert logged[1] == (
        "bitbot decision: BTC/USDT:USDT 2025-06-01 17:00 UTC: LONG 1.0x (was flat) | "
        "agree: volatility, supertrend · against: ott · flat: supertrend_4h, bband_rsi"
    )
    assert "model:" not in messages[1]  # the vote baselines have no model


def test_the_same_candle_analysed_again_sends_nothing() -> None:
    strategy = _strategy(notify="every_candle")
    frame = _frame([0.0, 1.0])
    strategy.populate_entry_trend(frame.copy(), {"pair": PAIR})
    strategy.populate_entry_trend(frame.copy(), {"pair": PAIR})
    assert len(strategy.dp.messages) == 1


def test_every_candle_mode() -> None:
    messages = _run_candles(_strategy(notify="every_candle"), [1.0, 1.0, 1.0])
    assert len(messages) == 3
    assert "LONG 1.0x (unchanged)" in messages[2]


def test_off_mode_sends_nothing() -> None:
    assert _run_candles(_strategy(notify="off"), [0.0, 1.0, -1.0]) == []


def test_backtests_send_nothing(caplog) -> None:
    caplog.set_level(logging.INFO, logger="meta_strategy.trading.exposure")
    strategy = _strategy(RunMode.BACKTEST, notify="every_candle")
    assert _run_candles(strategy, [0.0, 1.0, -1.0]) == []
    assert not any("bitbot decision" in r.getMessage() for r in caplog.records)


def test_the_decision_is_the_capped_exposure() -> None:
    strategy = _strategy()
    strategy.risk_limits = RiskLimits.from_config({"bitbot": {"risk": {"max_exposure": 0.5}}})
    messages = _run_candles(strategy, [1.0])
    assert "LONG 0.5x (first decision)" in messages[0]


def test_directions_are_computed_when_the_frame_lacks_them() -> None:
    """FreqAI drops the % columns and the vote strategies keep only the vote: recompute."""
    strategy = _strategy()
    rng = np.random.default_rng(0)
    n = strategy.registry.max_lookback_hours + 100  # beyond the registry's longest lookback
    close = 30000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame = pd.DataFrame(
        {
            "date": pd.date_range(end=DATE, periods=n, freq="1h"),
            "open": close,
            "high": close * 1.005,
            "low": close * 0.995,
            "close": close,
            "volume": 1.0,
            "target_exposure": 1.0,
        }
    )
    with pytest.raises(ReferencePriceError, match="the exchange binance returned none"):
        strategy.decision_directions(frame, PAIR)  # perp_spot_basis reads the spot price
    strategy.dp.spot = frame[["date", "close"]]
    directions = strategy.decision_directions(frame, PAIR)
    assert list(directions) == [e.name for e in strategy.registry.enabled]
    assert set(directions.values()) <= {-1, 0, 1}
    strategy.populate_entry_trend(frame, {"pair": PAIR})
    assert "agree:" in strategy.dp.messages[0]


def test_meta_strategy_names_its_model() -> None:
    strategy = _strategy(name="MetaStrategy")
    strategy.freqai = SimpleNamespace(dd=SimpleNamespace(pair_dict={}))
    assert strategy.decision_model_id(PAIR) == "meta-ppo"
    strategy.freqai.dd.pair_dict[PAIR] = {"model_filename": "cb_btc_1757203200"}
    assert strategy.decision_model_id(PAIR) == "meta-ppo/cb_btc_1757203200"
    strategy.promoted_model = 240  # bitbot.model_id of config.promoted.json
    assert strategy.decision_model_id(PAIR) == "promoted-240"
    messages = _run_candles(strategy, [1.0])
    assert r"model: promoted-240" in messages[0]


def test_a_failing_message_never_stops_the_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    strategy = _strategy()

    def broken(*args: object) -> dict[str, int]:
        raise RuntimeError("sub-strategy exploded")

    monkeypatch.setattr(strategy, "decision_directions", broken)
    frame = strategy.populate_entry_trend(_frame([0.0, 1.0]), {"pair": PAIR})
    assert frame["enter_long"].iloc[-1] == 1
    assert strategy.dp.messages[0].splitlines() == [
        "BTC/USDT:USDT 2025-06-01 14:00 UTC: LONG 1.0x (first decision)"
    ]


def test_a_decision_held_flat_by_safe_mode_says_so() -> None:
    strategy = _strategy(notify="every_candle")
    strategy.safe_mode.report("candles", "3 candles late")
    messages = _run_candles(strategy, [1.0])
    assert "held flat: safe mode (candles: 3 candles late)" in messages[0]
