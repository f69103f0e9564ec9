"""The decision clock (meta_strategy.rl.clock) and the environment's action repeat."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from meta_strategy.rl.clock import DecisionClock, next_decisions
from meta_strategy.rl.costs import CostModel
from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays
from meta_strategy.rl.errors import RLConfigError, check_rl_config_keys


HOUR_MS = 3_600_000
SHORT, FLAT, LONG = 0, 1, 2


def _market(n: int, seed: int = 0) -> MarketArrays:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    funding = np.where(np.arange(n) % 8 == 0, 1e-4, 0.0)
    frame = pd.DataFrame(
        {
            "open": open_,
            "close": close,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "funding_rate": funding,
        }
    )
    return MarketArrays.from_frame(frame)


def test_scheduled_decisions_fall_on_the_same_hours_wherever_the_data_starts() -> None:
    dates = pd.Series(pd.date_range("2024-03-01 05:00", periods=72, freq="1h", tz="UTC"))
    daily = DecisionClock(every=24).decision_candles(dates, HOUR_MS)
    assert list(dates[daily].dt.hour) == [0, 0, 0] and daily.sum() == 3
    later = DecisionClock(every=24).decision_candles(dates.iloc[7:], HOUR_MS)
    np.testing.assert_array_equal(later, daily[7:])
    assert DecisionClock().decision_candles(dates, HOUR_MS).all()


def test_a_change_of_direction_is_a_decision() -> None:
    dates = pd.Series(pd.date_range("2024-03-01 01:00", periods=8, freq="1h", tz="UTC"))
    directions = pd.DataFrame(
        {"a": [np.nan, 1, 1, 1, -1, -1, -1, -1], "b": [0, 0, 0, 0, 0, 0, 1, 1]}
    )
    clock = DecisionClock(every=24, on_signal_change=True)
    assert clock.decision_candles(dates, HOUR_MS, directions).tolist() == [
        False,
        True,  # a became known: long
        False,
        False,
        True,  # a flipped
        False,
        True,  # b went long
        False,
    ]


def test_only_the_base_changing_direction_is_a_decision() -> None:
    dates = pd.Series(pd.date_range("2024-03-01 01:00", periods=8, freq="1h", tz="UTC"))
    directions = pd.DataFrame({"a": [0, 1, 1, 1, -1, -1, -1, -1], "b": [0, 0, 0, 1, 1, 1, 0, 0]})
    base = pd.Series([np.nan, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, -1.0])
    clock = DecisionClock.from_rl_config(
        {"decision_clock": {"every": 24, "on_base_change": True}, "action_mode": "residual"}
    )
    decide = clock.decision_candles(dates, HOUR_MS, directions, base)
    # the base's unknown first candle reads as flat; the strategies' own flips are no decisions
    assert np.flatnonzero(decide).tolist() == [2, 5, 7]
    both = DecisionClock(every=24, on_signal_change=True, on_base_change=True)
    assert np.flatnonzero(both.decision_candles(dates, HOUR_MS, directions, base)).tolist() == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
    ]
    with pytest.raises(ValueError, match="base combiner's direction"):
        clock.decision_candles(dates, HOUR_MS, directions)


def test_next_decisions() -> None:
    decide = np.array([True, False, False, True, False, True, False])
    assert next_decisions(decide).tolist() == [3, 3, 3, 5, 5, 6, 6]
    assert next_decisions(np.zeros(3, dtype=bool)).tolist() == [2, 2, 2]


@pytest.mark.parametrize(
    ("section", "names"),
    [
        ({"every": 0}, "decision_clock.every is 0"),
        ({"every": 2.5}, "decision_clock.every is 2.5"),
        ({"every": 4, "on_signal_change": "yes"}, "on_signal_change must be true or false"),
        ({"every": 4, "on_base_change": 1}, "on_base_change must be true or false"),
        ({"every": 4, "on_base_change": True}, "on_base_change needs a base combiner"),
        ({"evry": 4}, "did you mean 'every'"),
        ("daily", "decision_clock must be an object"),
    ],
)
def test_bad_clock_settings_are_named(section: object, names: str) -> None:
    with pytest.raises(RLConfigError, match=names):
        DecisionClock.from_rl_config({"decision_clock": section})


def test_the_clock_is_a_known_rl_config_key() -> None:
    check_rl_config_keys({"decision_clock": {"every": 24}, "train_cycles": 1})


def test_one_step_holds_the_target_until_the_next_decision() -> None:
    """Action repeat: one step per decision; the same equity as stepping candle by candle."""
    n = 60
    m = _market(n, seed=4)
    features = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    decisions = np.arange(n) % 6 == 0
    clocked = FuturesTradingEnv(features, m, CostModel(), decisions=decisions)
    plain = FuturesTradingEnv(features, m, CostModel())
    clocked.reset(seed=0)
    plain.reset(seed=0)
    rng = np.random.default_rng(1)
    t, rewards, steps = 0, 0.0, 0
    while True:
        action = int(rng.integers(0, 3))
        obs, reward, terminated, truncated, info = clocked.step(action)
        steps += 1
        rewards += reward
        held = []
        while True:  # the plain env, the same action until the next decision candle
            _, _, p_term, p_trunc, p_info = plain.step(action)
            t += 1
            held.append(t)
            if decisions[t] or p_term or p_trunc:
                break
        assert info["tick"] == t and obs[0] == features[t, 0]
        assert info["equity"] == pytest.approx(p_info["equity"], rel=1e-12)
        assert info["trades"] == p_info["trades"] and info["fees"] == p_info["fees"]
        if terminated or truncated:
            break
    assert steps == 10  # decisions at 0, 6, ..., 54: the last one holds to the end
    assert rewards == pytest.approx(math.log(info["equity"] / clocked.initial_equity))


def test_decision_flags_must_match_the_candles() -> None:
    m = _market(10)
    with pytest.raises(ValueError, match="9 decision flags for 10 candles"):
        FuturesTradingEnv(np.zeros((10, 2)), m, decisions=np.ones(9, dtype=bool))
