"""
FreqAI-like model folders for the model registry's tests: tiny stable-baselines3 saves of every
algorithm MetaPPO trains, a walk-forward's folder around them (as FreqAI leaves it with
``save_backtest_models: true``), registry records, and the check that FreqAI's own dry-run /
live code loads a promoted model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import cloudpickle
import gymnasium as gym
import numpy as np
from datasieve.pipeline import Pipeline

from meta_strategy.models.registry import ModelRecord
from meta_strategy.rl.algorithms import ALGORITHM_PACKAGES, algorithm_class
from tests.helpers.freqtrade import REPO


PAIR = "BTC/USDT:USDT"
FEATURES = ["%-sig_ott_direction", "%-ret_1", "%-raw_open", "%-raw_close"]
T1, T2, T3 = 1748736000, 1750032000, 1751328000  # 2025-06-01, 2025-06-16, 2025-07-01
LIVE_CONFIGS = [
    REPO / "user_data" / "config.json",
    REPO / "user_data" / "config.binance.json",
    REPO / "user_data" / "config.freqai.json",
]


class _TinyEnv(gym.Env):
    """Observation and action spaces shaped like MetaPPO's (features + exposure, 3 levels)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (len(FEATURES) - 1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        return np.zeros(self.observation_space.shape, np.float32), {}

    def step(self, action: int) -> tuple:
        return np.zeros(self.observation_space.shape, np.float32), 0.0, False, False, {}


def tiny_saves(folder: Path) -> dict[str, Path]:
    """
    A tiny untrained save of every algorithm MetaPPO trains.

    :param folder: where to write them
    :return: algorithm -> its ``<algorithm>.zip``
    """
    out = {}
    for algorithm in ALGORITHM_PACKAGES:
        cls = algorithm_class(algorithm)
        kwargs: dict[str, Any] = {"policy_kwargs": {"net_arch": [8]}}
        policy = "MlpPolicy"
        if algorithm == "RecurrentPPO":
            policy = "MlpLstmPolicy"
            kwargs["policy_kwargs"]["lstm_hidden_size"] = 8
        if algorithm in ("PPO", "RecurrentPPO", "MaskablePPO"):
            kwargs.update(n_steps=16, batch_size=16)
        if algorithm == "DQN":
            kwargs.update(buffer_size=64, learning_starts=16)
        model = cls(policy, _TinyEnv(), seed=1, device="cpu", **kwargs)
        out[algorithm] = folder / f"{algorithm}.zip"
        model.save(out[algorithm])
    return out


def fake_run(
    saves: dict[str, Path],
    models_root: Path,
    identifier: str,
    timestamps: tuple[int, ...] = (T1, T2),
    algorithm: str = "PPO",
) -> list[Path]:
    """
    A model folder as a FreqAI walk-forward with ``save_backtest_models: true`` leaves it.

    :return: the model files, oldest first
    """
    folder = models_root / identifier
    folder.mkdir(parents=True)
    freqai = json.loads((REPO / "user_data" / "config.freqai.json").read_text())["freqai"]
    freqai["identifier"] = identifier
    freqai["rl_config"]["model_type"] = algorithm
    run_params = {"freqai": freqai, "timeframe": "1h", "pairs": [PAIR]}
    (folder / "run_params.json").write_text(json.dumps(run_params))
    paths = []
    for ts in timestamps:
        sub = folder / f"sub-train-BTC_{ts}"
        sub.mkdir()
        name = f"cb_btc_{ts}"
        shutil.copy(saves[algorithm], sub / f"{name}_model.zip")
        shutil.copy(saves[algorithm], sub / "best_model.zip")
        metadata = {
            "data_path": str(sub),
            "model_filename": name,
            "training_features_list": FEATURES,
            "label_list": ["&-action"],
            "labels_mean": {"&-action": 0.0},
            "labels_std": {"&-action": 0.0},
            "extra_returns_per_train": {},
        }
        (sub / f"{name}_metadata.json").write_text(json.dumps(metadata))
        for kind in ("feature", "label"):
            with (sub / f"{name}_{kind}_pipeline.pkl").open("wb") as fp:
                cloudpickle.dump(Pipeline(), fp)
        paths.append(sub / f"{name}_model.zip")
    drawer = {
        PAIR: {
            "model_filename": f"cb_btc_{timestamps[-1]}",
            "trained_timestamp": timestamps[-1],
            "data_path": str(folder / f"sub-train-BTC_{timestamps[-1]}"),
            "extras": {},
        }
    }
    (folder / "pair_dictionary.json").write_text(json.dumps(drawer))
    return paths


def make_record(
    identifier: str,
    train_end: str,
    model_path: Path | str,
    sharpe: float | None = 1.0,
    hold: float | None = 0.5,
    evidence: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ModelRecord:
    """
    A model record whose configuration passes the promotion rule unless ``evidence`` (keys of
    :meth:`~meta_strategy.models.promotion.PromotionRule.failures`) says otherwise; ``sharpe``
    is its run's and its configuration's mean-over-seeds Sharpe.
    """
    run: dict[str, Any] = {"return": 0.1, "sharpe_ci_low": -0.2}
    if sharpe is not None:
        run["sharpe"] = sharpe
        run["config_sharpe_mean"] = sharpe
    if hold is not None:
        run["buy_and_hold_sharpe"] = hold
    run.update(
        {
            "configuration": identifier,
            "config_seeds": 3,
            "best_rule_sharpe": 0.5,
            "best_vote_sharpe": 0.4,
            "best_vol_targeted_sharpe": 0.45,
            "flat_sharpe": 0.0,
            "config_sharpe_ci_low": 0.1,
            "config_deflated_sharpe": 0.7,
            "config_paired": [
                {"baseline": key, "label": label, "difference": 0.3, "ci_low": 0.05, "ci_high": 0.6}
                for key, label in (
                    ("best_rule", "OTT"),
                    ("best_vote", "Equal-weight vote"),
                    ("best_vol_targeted", "OTT (vol-targeted)"),
                )
            ],
            "trials": 12,
            **(evidence or {}),
        }
    )
    values: dict[str, Any] = {
        "id": None,
        "identifier": identifier,
        "algorithm": "PPO",
        "seed": 42,
        "config_hash": "abc123",
        "pair": PAIR,
        "train_start": "2025-05-02",
        "train_end": train_end,
        "oos_start": train_end,
        "oos_end": "2025-07-01",
        "model_path": str(model_path),
        "window_metrics": {"return": 0.0123, "sharpe": 0.8, "trades": 3},
        "run_metrics": run,
        "report": "full",
        "created_at": "",
        **kwargs,
    }
    return ModelRecord(**values)


def live_freqai(overlay: Path, user_data: Path) -> Any:
    """FreqAI as ``bitbot trade`` builds it from the configs plus the overlay (MetaPPO)."""
    from freqtrade.configuration.config_validation import validate_config_schema
    from freqtrade.configuration.load_config import load_from_files
    from freqtrade.resolvers.freqaimodel_resolver import FreqaiModelResolver

    config = load_from_files([str(p) for p in [*LIVE_CONFIGS, overlay]])
    validate_config_schema(config)
    config.update(
        user_data_dir=user_data,
        freqaimodel_path=str(REPO / "user_data" / "freqaimodels"),
    )
    return FreqaiModelResolver.load_freqaimodel(config)


def check_freqai_loads_it(overlay: Path, user_data: Path, expected: Path, pair: str) -> None:
    """
    Freqtrade's dry-run / live path: pair_dictionary -> load_data; the model is retrained on
    the walk-forward's schedule (once older than ``live_retrain_hours``) and expires after it.
    """
    import time

    from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

    freqai = live_freqai(overlay, user_data)
    filename, trained_timestamp = freqai.dd.get_pair_dict_info(pair)
    assert filename == expected.name.removesuffix("_model.zip")
    dk = FreqaiDataKitchen(freqai.config, live=True, pair=pair)
    age_hours = (time.time() - trained_timestamp) / 3600
    retrain, _, _ = dk.check_if_new_training_required(trained_timestamp)
    assert retrain == (age_hours > freqai.config["freqai"]["live_retrain_hours"])
    expired = dk.check_if_model_expired(trained_timestamp)
    assert expired == (age_hours > freqai.config["freqai"]["expiration_hours"])
    model = freqai.dd.load_data(pair, dk)
    assert (
        type(model).__name__ == json.loads(overlay.read_text())["freqai"]["rl_config"]["model_type"]
    )
    assert Path(dk.data_path) == expected.parent
    metadata = json.loads(next(expected.parent.glob("*_metadata.json")).read_text())
    assert dk.training_features_list == metadata["training_features_list"]
    action, _ = model.predict(np.zeros(model.observation_space.shape, np.float32))
    assert int(action) in range(model.action_space.n)


def tiny_walk_forward(tmp_path: Path, datadir: Path, identifier: str, name: str) -> Path:
    """
    A tiny real FreqAI walk-forward of the MetaStrategy on June 2025 (two 15-day windows, 30
    training days, a 16x16 PPO trained briefly, seed 5), its models kept.

    :param tmp_path: where its user directory and results go
    :param datadir: the Binance perpetual's data
    :param identifier: the FreqAI identifier of its models
    :param name: the run's name (its user directory is ``userdir-<name>``)
    :return: the user directory
    """
    from tests.helpers.freqtrade import freqai_backtest

    small = tmp_path / f"small-{name}.json"
    small.write_text(
        json.dumps(
            {
                "freqai": {
                    "identifier": identifier,
                    "save_backtest_models": True,
                    "train_period_days": 30,
                    "backtest_period_days": 15,
                    "model_training_parameters": {"n_steps": 256, "batch_size": 64, "n_epochs": 2},
                    "rl_config": {"train_cycles": 1, "net_arch": [16, 16], "seed": 5},
                }
            }
        )
    )
    configs = [arg for p in (*LIVE_CONFIGS, small) for arg in ("-c", str(p))]
    freqai_backtest(
        tmp_path,
        name,
        configs,
        "MetaStrategy",
        "20250601-20250701",
        tmp_path,
        env={"BITBOT_DATA": str(datadir)},
    )
    return tmp_path / f"userdir-{name}"
