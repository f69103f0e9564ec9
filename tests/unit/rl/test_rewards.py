"""Excess return over a benchmark, turnover and drawdown penalties (meta_strategy.rl.rewards)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from meta_strategy.rl.costs import CostModel
from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays
from meta_strategy.rl.errors import RLConfigError
from meta_strategy.rl.rewards import (
    ExcessLogReturnReward,
    LogReturnReward,
    StepContext,
    make_reward,
)


LONG, FLAT = 2, 1


def test_excess_log_return_by_hand() -> None:
    reward = ExcessLogReturnReward("follow_the_leader", scale=2.0, turnover_penalty=0.001)
    context = StepContext(turnover=2.0, benchmark_log_return=math.log(1.01))
    got = reward(100.0, 103.0, context)
    assert got == pytest.approx(2.0 * (math.log(1.03) - 0.002 - math.log(1.01)))
    assert ExcessLogReturnReward.uses_benchmark and not LogReturnReward.uses_benchmark


def test_the_excess_return_pays_for_drawdown_avoided() -> None:
    reward = make_reward({"reward": "excess_log_return", "drawdown_penalty": 2.0, "scale": 10.0})
    reward.reset(100.0)
    context = StepContext(benchmark_log_return=math.log(0.9))  # the base lost 10 %
    assert reward(100.0, 100.0, context) == pytest.approx(-10.0 * math.log(0.9))  # stood aside
    fell = reward(100.0, 90.0, StepContext())  # then its own equity fell 10 % from the peak
    assert fell == pytest.approx(10.0 * (math.log(0.9) - 2.0 * 0.1))
    deeper = reward(90.0, 81.0, StepContext())  # 19 % below the peak: 9 points deeper
    assert deeper == pytest.approx(10.0 * (math.log(0.9) - 2.0 * 0.09))
    recovered = reward(81.0, 90.0, StepContext())  # a rise deepens nothing
    assert recovered == pytest.approx(10.0 * math.log(90 / 81))
    reward.reset(50.0)  # a new episode: a new peak
    assert reward(50.0, 50.0, StepContext()) == 0.0
    assert make_reward({"reward": "excess_log_return"}).drawdown_penalty == 0.0


def test_the_benchmark_may_be_one_registered_strategy() -> None:
    reward = make_reward({"reward": "excess_log_return", "benchmark": "strategy:volatility"})
    assert reward.benchmark == "strategy:volatility"


def test_turnover_penalty_on_the_log_return() -> None:
    reward = make_reward({"reward": "log_return", "turnover_penalty": 0.01})
    assert reward(1.0, 1.0, StepContext(turnover=1.5)) == pytest.approx(-0.015)
    assert make_reward({})(1.0, 1.1) == pytest.approx(math.log(1.1))


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"reward": "excess_log_return", "benchmark": "hodl"}, "benchmark is 'hodl'"),
        ({"reward": "log_return", "turnover_penalty": -1}, "turnover_penalty must be a number"),
        ({"reward": "excess_log_return", "benchmrk": "x"}, "did you mean 'benchmark'"),
        (
            {"reward": "excess_log_return", "drawdown_penalty": -0.5},
            "drawdown_penalty must be a number >= 0",
        ),
    ],
)
def test_bad_reward_settings_are_named(params: dict, names: str) -> None:
    with pytest.raises(RLConfigError, match=names):
        make_reward(params)


def _flat_market(n: int) -> MarketArrays:
    close = 100.0 * 1.01 ** np.arange(n)
    return MarketArrays.from_frame(
        pd.DataFrame({"open": close, "high": close, "low": close, "close": close})
    )


def test_the_environment_pays_the_excess_over_the_benchmark_and_the_turnover() -> None:
    n = 6
    benchmark = np.full(n, 0.005)  # the benchmark makes 0.5 % a candle
    env = FuturesTradingEnv(
        np.zeros((n, 1)),
        _flat_market(n),
        CostModel(fee=0.0),
        reward=ExcessLogReturnReward(turnover_penalty=0.1),
        benchmark=benchmark,
    )
    env.reset(seed=0)
    _, first, *_ = env.step(LONG)  # a fill at the open of candle 1: no gain within it
    assert first == pytest.approx(-math.log(1.005) - 0.1)
    _, second, *_ = env.step(LONG)  # held: 1 % up against the benchmark's 0.5 %
    assert second == pytest.approx(math.log(1.01) - math.log(1.005), rel=1e-6)
    with pytest.raises(ValueError, match="needs the benchmark's returns"):
        FuturesTradingEnv(np.zeros((n, 1)), _flat_market(n), reward=ExcessLogReturnReward())
