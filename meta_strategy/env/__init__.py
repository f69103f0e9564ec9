"""
The futures trading environment the meta-learner trains in: costs, rewards, the gym env.

* :mod:`meta_strategy.env.costs`: fees, slippage, funding, leverage, liquidation (one typed
  :class:`CostModel`);
* :mod:`meta_strategy.env.rewards`: pluggable reward functions;
* :mod:`meta_strategy.env.futures_env`: :class:`FuturesTradingEnv`, a ``gymnasium.Env`` whose
  action is a target exposure and whose observation includes the agent's own position.
"""

from meta_strategy.env.costs import CostModel
from meta_strategy.env.futures_env import FuturesTradingEnv, MarketArrays, build_observation
from meta_strategy.env.rewards import (
    DifferentialSharpeReward,
    DrawdownPenalisedReward,
    LogReturnReward,
    RewardFunction,
    make_reward,
)


__all__ = [
    "CostModel",
    "DifferentialSharpeReward",
    "DrawdownPenalisedReward",
    "FuturesTradingEnv",
    "LogReturnReward",
    "MarketArrays",
    "RewardFunction",
    "build_observation",
    "make_reward",
]
