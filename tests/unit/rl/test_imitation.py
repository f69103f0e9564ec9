"""Behaviour cloning: the teacher's actions, the observations, and a policy that learns them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stable_baselines3 import DQN, PPO

from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays
from meta_strategy.rl.errors import RLConfigError
from meta_strategy.rl.imitation import (
    CloningConfig,
    clone_behaviour,
    cloning_set,
    teacher_actions,
)


LEVELS = np.array([-1.0, 0.0, 1.0])


def test_the_teachers_actions_are_those_of_the_nearest_exposure() -> None:
    choices = np.array([LEVELS, LEVELS, [0.0, 1.0, 1.0], [0.0, -1.0, 1.0]])
    teacher = np.array([1.0, -0.4, 1.0, 0.0])
    expected = [[0, 0, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0]]  # both strategies that go long
    np.testing.assert_array_equal(teacher_actions(choices, teacher), np.array(expected, bool))


def test_the_cloning_set_holds_the_teachers_past_exposure_on_decision_candles() -> None:
    features = np.arange(12, dtype=np.float32).reshape(6, 2)
    choices = np.tile(LEVELS, (6, 1))
    teacher = np.array([1.0, 1.0, -1.0, -1.0, 0.0, 1.0])
    decisions = np.array([True, False, True, False, True, True])
    observations, actions = cloning_set(features, choices, teacher, decisions)
    assert actions.argmax(axis=1).tolist() == [0, 1, 2]  # the decisions after candles 2, 4, 5
    np.testing.assert_array_equal(observations[:, :2], features[[2, 4, 5]])
    assert observations[:, -1].tolist() == [1.0, -1.0, 0.0], "the exposure held before"


def _env(n: int = 200, seed: int = 0) -> tuple[FuturesTradingEnv, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 3)).astype(np.float32)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    market = MarketArrays.from_frame(
        pd.DataFrame({"open": close, "high": close, "low": close, "close": close})
    )
    return FuturesTradingEnv(features, market), features


def test_a_ppo_policy_learns_to_imitate_a_teacher_that_reads_a_feature() -> None:
    env, features = _env()
    teacher = np.sign(features[:, 0])  # long when the first feature is positive, else short
    observations, actions = cloning_set(
        features, np.tile(LEVELS, (len(features), 1)), teacher, np.ones(len(features), bool)
    )
    model = PPO("MlpPolicy", env, seed=1, device="cpu", n_steps=64, batch_size=32)
    taught = actions.argmax(axis=1)
    before = (model.predict(observations, deterministic=True)[0] == taught).mean()
    imitated = clone_behaviour(model, observations, actions, epochs=10, seed=1)
    after = (model.predict(observations, deterministic=True)[0] == taught).mean()
    assert imitated == pytest.approx(after)
    assert after > 0.9 and after > before + 0.2, (before, after)


def test_a_policy_without_action_logits_is_not_cloned() -> None:
    env, features = _env()
    model = DQN("MlpPolicy", env, seed=1, device="cpu", learning_starts=10)
    obs, actions = cloning_set(
        features, np.tile(LEVELS, (len(features), 1)), np.ones(len(features)), np.ones(200, bool)
    )
    assert clone_behaviour(model, obs, actions, epochs=1, seed=1) is None


def test_a_recurrent_policy_is_not_cloned() -> None:
    """RecurrentPPO's policy needs its LSTM state for a distribution: cloning skips it (it
    raised a TypeError, and the window's training failed, before)."""
    from sb3_contrib import RecurrentPPO

    env, features = _env()
    model = RecurrentPPO(
        "MlpLstmPolicy",
        env,
        seed=1,
        device="cpu",
        n_steps=16,
        batch_size=16,
        policy_kwargs={"lstm_hidden_size": 8, "net_arch": [8]},
    )
    obs, actions = cloning_set(
        features, np.tile(LEVELS, (len(features), 1)), np.ones(len(features)), np.ones(200, bool)
    )
    assert clone_behaviour(model, obs, actions, epochs=1, seed=1) is None


def test_cloning_config() -> None:
    assert CloningConfig.from_rl_config({}).teacher is None
    config = CloningConfig.from_rl_config({"behaviour_cloning": {"epochs": 3}})
    assert (config.teacher, config.epochs) == ("follow_the_leader", 3)
    one = CloningConfig.from_rl_config({"behaviour_cloning": {"teacher": "strategy:volatility"}})
    assert one.teacher == "strategy:volatility", "one registered strategy may teach"
    bad = {
        "unknown teacher 'oracle'; expected one of equal_vote, portfolio, follow_the_leader": {
            "teacher": "oracle"
        },
        "epochs is 0; expected a whole number": {"epochs": 0},
        "unknown key": {"epoch": 3},
    }
    for message, section in bad.items():
        with pytest.raises(RLConfigError, match=message):
            CloningConfig.from_rl_config({"behaviour_cloning": section})


def test_with_several_equivalent_actions_the_policy_may_take_any() -> None:
    """The select mode: two strategies long with the teacher; either is a right answer."""
    env, features = _env()
    choices = np.tile([0.0, 1.0, 1.0], (len(features), 1))
    observations, actions = cloning_set(
        features, choices, np.ones(len(features)), np.ones(len(features), bool)
    )
    model = PPO("MlpPolicy", env, seed=1, device="cpu", n_steps=64, batch_size=32)
    assert clone_behaviour(model, observations, actions, epochs=5, seed=1) == 1.0
    assert set(model.predict(observations, deterministic=True)[0]) <= {1, 2}
