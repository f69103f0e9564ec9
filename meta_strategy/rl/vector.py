"""
Parallel copies of the training environment (``freqai.rl_config.n_envs``), stepped together.

On-policy algorithms spend most of a rollout in the policy's forward pass, one observation at a
time with one environment. ``n_envs`` copies of the environment are stepped in lock-step
(:class:`~stable_baselines3.common.vec_env.DummyVecEnv`, in this process: the environment itself
is ~100x faster than the network), so each forward pass serves ``n_envs`` observations. Copy
``i`` is seeded ``seed + i`` (SB3's ``VecEnv.seed``), so its random episode starts and the
agent's sampled actions differ from the others'.

SB3 counts ``n_steps`` per environment: a rollout holds ``n_steps * n_envs`` transitions
(Schulman et al. 2017, PPO, Algorithm 1: N actors of T timesteps each), so keep
``n_steps * n_envs`` at the one-environment rollout size for the same update schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from meta_strategy.rl.errors import RLConfigError, is_whole_number


N_ENVS_KEY = "n_envs"


def n_envs_of(rl_config: dict[str, Any]) -> int:
    """
    :param rl_config: ``freqai.rl_config``
    :return: how many copies of the training environment to step together (1 by default)
    :raises RLConfigError: not a whole number of at least 1
    """
    value = rl_config.get(N_ENVS_KEY, 1)
    if not is_whole_number(value, 1):
        raise RLConfigError(
            f"freqai.rl_config.{N_ENVS_KEY}: {value!r} is not a number of environments; "
            "expected a whole number of at least 1 (1: one environment)"
        )
    return value


def training_envs(make_env: Callable[[], gym.Env], n_envs: int) -> gym.Env | VecEnv:
    """
    :param make_env: builds one copy of the training environment
    :param n_envs: copies (1: the environment itself)
    :return: the environment wrapped in a ``Monitor`` (episode rewards for tensorboard), or
        ``n_envs`` such copies in a ``DummyVecEnv``
    """
    if n_envs == 1:
        return Monitor(make_env())
    return DummyVecEnv([lambda: Monitor(make_env()) for _ in range(n_envs)])


def seed_envs(env: gym.Env | VecEnv, seed: int) -> None:
    """
    Seed and reset the environment (copy ``i`` with ``seed + i``) and its action space.

    :param env: what :func:`training_envs` built
    :param seed: the agent's seed
    """
    if isinstance(env, VecEnv):
        env.seed(seed)  # applied at the reset below, copy i gets seed + i
        env.reset()
    else:
        env.reset(seed=seed)
    env.action_space.seed(seed)


def evaluation_interval(train_len: int, n_envs: int) -> int:
    """
    :param train_len: candles in the training window (one pass of one environment)
    :param n_envs: copies stepped together
    :return: the evaluation callback's ``eval_freq`` (counted in steps of all copies at once) for
        one held-out evaluation per ``train_len`` transitions, as with one environment
    """
    return max(1, train_len // n_envs)
