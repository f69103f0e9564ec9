"""Parallel copies of the training environment (meta_strategy.rl.vector)."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

from meta_strategy.rl.costs import CostModel
from meta_strategy.rl.env import FuturesTradingEnv
from meta_strategy.rl.errors import RLConfigError, check_rl_config_keys
from meta_strategy.rl.vector import evaluation_interval, n_envs_of, seed_envs, training_envs
from tests.unit.rl.test_env import market


def _make_env(episode_length: int | None = None) -> FuturesTradingEnv:
    rng = np.random.default_rng(0)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    features = rng.normal(size=(400, 4)).astype(np.float32)
    return FuturesTradingEnv(features, market(prices), CostModel(), episode_length=episode_length)


@pytest.mark.parametrize("value", [0, -2, 2.0, "4", True])
def test_a_bad_number_of_environments_is_named(value: object) -> None:
    with pytest.raises(RLConfigError, match=rf"rl_config.n_envs: {value!r} is not a number"):
        n_envs_of({"n_envs": value})


def test_the_default_is_one_environment_and_the_key_is_known() -> None:
    assert n_envs_of({}) == 1
    assert n_envs_of({"n_envs": 8}) == 8
    check_rl_config_keys({"n_envs": 8})


def test_copies_are_seeded_apart() -> None:
    """Copy i starts its random episodes from seed + i: the copies see different candles."""
    envs = training_envs(lambda: _make_env(episode_length=50), 4)
    assert isinstance(envs, VecEnv)
    assert envs.num_envs == 4
    seed_envs(envs, 7)
    starts = [env.unwrapped._t for env in envs.envs]
    assert len(set(starts)) > 1, starts
    seed_envs(envs, 7)
    assert [env.unwrapped._t for env in envs.envs] == starts  # the same seed, the same starts
    single = training_envs(_make_env, 1)
    assert not isinstance(single, VecEnv)  # one environment is the environment itself


def test_the_evaluation_interval_counts_steps_of_all_copies() -> None:
    assert evaluation_interval(3456, 1) == 3456
    assert evaluation_interval(3456, 8) == 432
    assert evaluation_interval(3, 8) == 1


def _trained_weights(n_envs: int) -> np.ndarray:
    th.manual_seed(3)
    envs = training_envs(_make_env, n_envs)
    seed_envs(envs, 3)
    model = PPO(
        "MlpPolicy",
        envs,
        n_steps=64 // n_envs,
        batch_size=32,
        n_epochs=2,
        seed=3,
        device="cpu",
        policy_kwargs={"net_arch": [8, 8]},
    )
    model.learn(total_timesteps=128)
    assert model.num_timesteps == 128
    return th.nn.utils.parameters_to_vector(model.policy.parameters()).detach().numpy()


def test_ppo_trains_on_parallel_copies_deterministically() -> None:
    """A handful of steps on four copies; the same seed gives the same agent."""
    first = _trained_weights(4)
    assert np.array_equal(first, _trained_weights(4))
    assert not np.array_equal(first, _trained_weights(1))
