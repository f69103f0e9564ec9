"""Action modes (meta_strategy.rl.actions): the choice matrix and the environment trading it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from meta_strategy.rl.actions import (
    ActionMode,
    check_combiner_entries,
    choice_columns,
    combiner_direction,
    held_exposure,
)
from meta_strategy.rl.costs import CostModel
from meta_strategy.rl.env import THREE_LEVELS, FuturesTradingEnv, MarketArrays
from meta_strategy.rl.errors import RLConfigError, check_rl_config_keys
from meta_strategy.signals.votes import winners_portfolio


DIRECTIONS = pd.DataFrame(
    {"trend": [np.nan, 1, 1, -1, -1, -1], "fade": [0, 0, -1, -1, 0, 1]}, dtype=float
)


def test_target_mode_is_the_levels() -> None:
    choices = ActionMode().choices(THREE_LEVELS, DIRECTIONS)
    assert choices.shape == (6, 3) and (choices == [-1.0, 0.0, 1.0]).all()
    assert ActionMode().flat_action(THREE_LEVELS) == 1


def test_select_mode_follows_the_chosen_strategy_or_stays_flat() -> None:
    choices = ActionMode("select").choices(THREE_LEVELS, DIRECTIONS)
    assert choices[:, 0].tolist() == [0.0] * 6  # flat
    assert choices[:, 1].tolist() == [0, 1, 1, -1, -1, -1]  # unknown is flat
    assert choices[:, 2].tolist() == [0, 0, -1, -1, 0, 1]
    assert ActionMode("select").flat_action(THREE_LEVELS) == 0


def test_residual_mode_vetoes_halves_or_takes_the_base() -> None:
    mode = ActionMode("residual", "equal_vote")
    dates = pd.Series(pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC"))
    close = pd.Series(np.linspace(100, 105, 6))
    base = mode.base_direction(DIRECTIONS, close, close * 0, dates, 0.0007, 24)
    assert base.tolist() == [0, 1, 0, -1, -1, 0]  # the sign of the sum of directions
    choices = mode.choices(THREE_LEVELS, DIRECTIONS, base)
    assert choices.tolist() == [[0.0, 0.5 * b, b] for b in base]
    assert ActionMode("select").base_direction(DIRECTIONS, close, close, dates, 0.0, 24) is None
    with pytest.raises(ValueError, match="base combiner"):
        mode.choices(THREE_LEVELS, DIRECTIONS)


def test_a_residual_over_the_portfolio_scales_its_net_exposure() -> None:
    mode = ActionMode.from_rl_config({"action_mode": "residual", "residual_base": "portfolio"})
    dates = pd.Series(pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC"))
    close = pd.Series(np.linspace(100, 105, 6))
    base = mode.base_direction(DIRECTIONS, close, close * 0, dates, 0.0007, 24)
    assert base.tolist() == [0, 0.5, 0, -1, -0.5, 0]  # the mean direction, unknown as flat
    choices = mode.choices(THREE_LEVELS, DIRECTIONS, base)
    assert choices[:, 1].tolist() == [0, 0.25, 0, -0.5, -0.25, 0]


def test_a_residual_over_the_winners_portfolio() -> None:
    """The base is the winners' net exposure, chosen monthly from the trailing window given."""
    mode = ActionMode.from_rl_config(
        {"action_mode": "residual", "residual_base": "winners_portfolio"}
    )
    rng = np.random.default_rng(3)
    n = 24 * 70
    dates = pd.Series(pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"))
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))))
    daily = rng.choice([-1.0, 0.0, 1.0], size=(n // 24, 3)).repeat(24, axis=0)
    directions = pd.DataFrame(daily, columns=["a", "b", "c"])
    base = mode.base_direction(directions, close, close * 0, dates, 0.0007, 24 * 10)
    expected = winners_portfolio(directions, close, close * 0, dates, 0.0007, 24 * 10)
    pd.testing.assert_series_equal(base, expected["exposure"])
    assert base.abs().max() > 0, "the test must see some winners"
    choices = mode.choices(THREE_LEVELS, directions, base)
    np.testing.assert_allclose(choices[:, 1], 0.5 * base)


def test_a_residual_over_one_registered_strategy() -> None:
    """``strategy:<entry>``: the agent vetoes, halves or takes that strategy's own position."""
    directions = DIRECTIONS.rename(columns=lambda c: f"%-sig_{c}_direction")
    mode = ActionMode.from_rl_config({"action_mode": "residual", "residual_base": "strategy:trend"})
    dates = pd.Series(pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC"))
    close = pd.Series(np.linspace(100, 105, 6))
    base = mode.base_direction(directions, close, close * 0, dates, 0.0007, 24)
    assert base.tolist() == [0, 1, 1, -1, -1, -1], "the trend strategy's direction, 0 unknown"
    assert mode.choices(THREE_LEVELS, directions, base)[:, 1].tolist() == list(0.5 * base)
    with pytest.raises(ValueError, match="unknown combiner 'strategy:other'"):
        combiner_direction("strategy:other", directions, close, close * 0, dates, 0.0, 24)
    check_combiner_entries(["strategy:trend", None, "equal_vote"], ["trend", "fade"])
    with pytest.raises(RLConfigError, match="'strategy:other' names no enabled registry entry"):
        check_combiner_entries(["strategy:other"], ["trend", "fade"])


@pytest.mark.parametrize(
    ("rl_config", "names"),
    [
        ({"action_mode": "pick"}, "action_mode is 'pick'; expected one of target, select"),
        ({"action_mode": "residual", "residual_base": "best"}, "residual_base is 'best'"),
        ({"action_mode": "residual", "residual_base": "strategy:"}, "or strategy:<registry"),
    ],
)
def test_unknown_modes_are_named(rl_config: dict, names: str) -> None:
    with pytest.raises(RLConfigError, match=names):
        ActionMode.from_rl_config(rl_config)


def test_the_modes_are_known_rl_config_keys() -> None:
    check_rl_config_keys({"action_mode": "residual", "residual_base": "follow_the_leader"})
    assert ActionMode.from_rl_config({}) == ActionMode("target", "equal_vote")


def test_held_exposure_and_choice_columns() -> None:
    choices = np.array([[0.0, 1.0], [0.0, -1.0], [0.0, -1.0], [0.0, 1.0]])
    actions = np.array([1, 1, -1, 5])
    valid = np.array([True, False, True, True])
    assert held_exposure(actions, valid, choices).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert choice_columns(["x", "%-raw_choice_10", "%-raw_choice_2"]) == [
        "%-raw_choice_2",
        "%-raw_choice_10",
    ]


def test_the_environment_follows_the_selected_strategy_candle_by_candle() -> None:
    """Select mode with a decision every 6 candles: the exposure turns when the strategy does."""
    n = 12
    close = np.full(n, 100.0)
    market = MarketArrays.from_frame(
        pd.DataFrame({"open": close, "high": close, "low": close, "close": close})
    )
    flips = np.array([1, 1, 1, -1, -1, -1, 1, 1, 1, 1, 1, 1], dtype=float)
    choices = np.column_stack([np.zeros(n), flips])
    env = FuturesTradingEnv(
        np.zeros((n, 1)),
        market,
        CostModel(fee=0.001),
        decisions=np.arange(n) % 6 == 0,
        choices=choices,
    )
    env.reset(seed=0)
    assert env.action_space.n == 2
    _, _, _, _, info = env.step(1)  # follow the strategy from candle 1 through candle 6
    assert info["tick"] == 6 and info["exposure"] == -1.0  # turned short after candle 3 closed
    assert info["trades"] == 2  # long at 1, flipped to short at 4
    _, _, _, truncated, info = env.step(0)  # flat from candle 7 to the end
    assert truncated and info["exposure"] == 0.0 and info["trades"] == 3
