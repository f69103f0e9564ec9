"""Seed ensembles (meta_strategy.rl.ensemble): settings, the vote, and the members' files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stable_baselines3 import PPO

from meta_strategy.rl.costs import CostModel
from meta_strategy.rl.ensemble import (
    AgentEnsemble,
    EnsembleConfig,
    EnsembleFileError,
    member_path,
    vote,
)
from meta_strategy.rl.env import THREE_LEVELS, FuturesTradingEnv, MarketArrays
from meta_strategy.rl.errors import RLConfigError, check_rl_config_keys


@pytest.mark.parametrize(
    ("rl_config", "names"),
    [
        ({"ensemble": {"members": 0}}, "ensemble.members is 0"),
        ({"ensemble": {"members": 3.0}}, "ensemble.members is 3.0"),
        ({"ensemble": {"members": 3, "vote": "max"}}, "ensemble.vote is 'max'"),
        ({"ensemble": {"member": 3}}, "did you mean 'members'"),
        (
            {"ensemble": {"members": 3}, "model_type": "RecurrentPPO"},
            "RecurrentPPO cannot vote",
        ),
        ({"ensemble": {"vote": "mean"}, "action_mode": "select"}, "needs action_mode 'target'"),
    ],
)
def test_bad_ensemble_settings_are_named(rl_config: dict, names: str) -> None:
    with pytest.raises(RLConfigError, match=names):
        EnsembleConfig.from_rl_config(rl_config)


def test_default_is_one_agent() -> None:
    assert EnsembleConfig.from_rl_config({}) == EnsembleConfig(1, "majority")
    check_rl_config_keys({"ensemble": {"members": 5, "vote": "majority"}})


def test_majority_vote_and_its_cautious_tie_break() -> None:
    levels = THREE_LEVELS  # short, flat, long
    assert vote([2, 2, 0], levels, "majority", levels) == 2
    assert vote([2, 0], levels, "majority", levels) == 1  # long against short: flat
    assert vote([2, 1], levels, "majority", levels) == 1  # a tie: flat is the cautious one
    select = (0.0, -1.0, 1.0)  # select mode now: flat, a short strategy, a long one
    assert vote([1, 2], select, "majority", levels) == 0  # long against short: flat
    assert vote([1, 1, 2, 2], (0.0, -1.0, -1.0), "majority", levels) == 1  # the lower action
    assert vote([0, 0, 2, 2, 1], select, "majority", levels) == 0
    assert vote([2, 2, 1], levels, "mean", levels) == 2  # mean 2/3: closest to long
    assert vote([2, 0, 1], levels, "mean", levels) == 1


def _agents(tmp_path: Path, count: int) -> list[PPO]:
    n = 80
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, n)))
    frame = pd.DataFrame({"open": close, "high": close, "low": close, "close": close})
    env = FuturesTradingEnv(np.zeros((n, 2), dtype=np.float32), MarketArrays.from_frame(frame))
    env.costs = CostModel()
    agents = []
    for seed in range(count):
        agent = PPO("MlpPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=seed)
        agents.append(agent.learn(total_timesteps=32))
    return agents


def test_members_are_saved_next_to_freqais_file_and_loaded_back(tmp_path: Path) -> None:
    ensemble = AgentEnsemble(_agents(tmp_path, 3), "majority", THREE_LEVELS)
    model_file = tmp_path / "cb_btc_1700000000_model.zip"
    ensemble.save(model_file)
    assert model_file.is_file()
    assert member_path(model_file, 2) == tmp_path / "cb_btc_1700000000_model.member2.zip"
    assert member_path(model_file, 1).is_file() and member_path(model_file, 2).is_file()
    first = PPO.load(model_file, device="cpu")  # what FreqAI loads
    loaded = AgentEnsemble.load(first, model_file, 3, "majority", THREE_LEVELS)
    obs = np.zeros(3, dtype=np.float32)
    assert loaded.predict(obs)[0] == ensemble.predict(obs)[0]
    member_path(model_file, 2).write_bytes(b"not a zip")
    with pytest.raises(EnsembleFileError, match=r"member 2 of 3 cannot be loaded from .*member2"):
        AgentEnsemble.load(first, model_file, 3, "majority", THREE_LEVELS)
    member_path(model_file, 1).unlink()
    with pytest.raises(EnsembleFileError, match=r"member 1 of 3 is missing: .*member1\.zip"):
        AgentEnsemble.load(first, model_file, 3, "majority", THREE_LEVELS)
