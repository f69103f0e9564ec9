"""
Per-algorithm presets for the meta-learner (``user_data/freqaimodels/MetaPPO.py``).

FreqAI passes ``freqai.model_training_parameters`` straight to the stable-baselines3
constructor, so the parameters that suit PPO (``n_steps``, ``n_epochs``) break DQN and vice
versa. :func:`algorithm_overlay` gives a config overlay that switches the algorithm together
with parameters that fit it. The values follow the algorithms' papers and SB3's defaults, scaled
to one training window of a few thousand hourly candles:

* PPO (Schulman et al., 2017) and MaskablePPO (Huang & Ontañón, 2020): SB3 defaults except a
  shorter rollout (``n_steps`` 1024) and a small entropy bonus, so a window yields several
  updates;
* A2C (Mnih et al., 2016): SB3 defaults (RMSprop) with 16-step rollouts and the entropy bonus;
* DQN (Mnih et al., 2015): a replay buffer of the window's size, learning after 1,000 steps,
  target network every 1,000 steps, epsilon annealed over the first 20 % of training, one-step
  returns;
* RecurrentPPO (PPO with an LSTM policy, sb3-contrib): PPO's values with ``MlpLstmPolicy`` and
  a 64-unit LSTM (SB3's default of 256 trains about four times slower on 2 cores).
"""

from __future__ import annotations

import copy
import inspect
import logging
from typing import Any

from meta_strategy.rl.errors import RLConfigError


logger = logging.getLogger(__name__)

_PPO: dict[str, Any] = {
    "policy_type": "MlpPolicy",
    "model_training_parameters": {
        "learning_rate": 0.0003,
        "n_steps": 1024,
        "batch_size": 128,
        "n_epochs": 5,
        "gamma": 0.99,
        "ent_coef": 0.01,
    },
}
ALGORITHM_PRESETS: dict[str, dict[str, Any]] = {
    "PPO": _PPO,
    "MaskablePPO": _PPO,  # PPO with invalid-action masking; every exposure level is valid here
    "RecurrentPPO": {
        "policy_type": "MlpLstmPolicy",
        "policy_kwargs": {"lstm_hidden_size": 64},
        "model_training_parameters": {
            "learning_rate": 0.0003,
            "n_steps": 512,
            "batch_size": 128,
            "n_epochs": 5,
            "gamma": 0.99,
            "ent_coef": 0.01,
        },
    },
    "A2C": {
        "policy_type": "MlpPolicy",
        "model_training_parameters": {
            "learning_rate": 0.0007,
            "n_steps": 16,
            "gamma": 0.99,
            "ent_coef": 0.01,
        },
    },
    "DQN": {
        "policy_type": "MlpPolicy",
        "model_training_parameters": {
            # Explicit: DQN takes n_steps too (n-step returns), so PPO's n_steps from a base
            # config would otherwise switch on 1024-step returns.
            "n_steps": 1,
            "learning_rate": 0.0001,
            "buffer_size": 50000,
            "learning_starts": 1000,
            "batch_size": 64,
            "gamma": 0.99,
            "train_freq": 4,
            "target_update_interval": 1000,
            "exploration_fraction": 0.2,
            "exploration_final_eps": 0.05,
        },
    },
}
ALGORITHMS = tuple(ALGORITHM_PRESETS)


class UnknownAlgorithmError(RLConfigError):
    """An algorithm name without a preset."""


def algorithm_overlay(algorithm: str, seed: int) -> dict[str, Any]:
    """
    :param algorithm: one of :data:`ALGORITHMS`
    :param seed: the agent's random seed
    :return: a FreqAI config overlay (``{"freqai": {...}}``) selecting the algorithm, its
        policy and training parameters, and the seed
    :raises UnknownAlgorithmError: for a name without a preset
    """
    if algorithm not in ALGORITHM_PRESETS:
        raise UnknownAlgorithmError(
            f"unknown RL algorithm {algorithm!r}; presets exist for {', '.join(ALGORITHMS)}"
        )
    preset = copy.deepcopy(ALGORITHM_PRESETS[algorithm])
    return {
        "freqai": {
            "model_training_parameters": preset["model_training_parameters"],
            "rl_config": {
                "model_type": algorithm,
                "policy_type": preset["policy_type"],
                "policy_kwargs": preset.get("policy_kwargs", {}),
                "seed": int(seed),
            },
        }
    }


# RL algorithms MetaPPO trains (freqai.rl_config.model_type) and the package that has them.
ALGORITHM_PACKAGES = {
    "PPO": "stable_baselines3",
    "A2C": "stable_baselines3",
    "DQN": "stable_baselines3",
    "RecurrentPPO": "sb3_contrib",
    "MaskablePPO": "sb3_contrib",
}


def algorithm_class(algorithm: str) -> type:
    """
    :param algorithm: one of ``PPO``, ``A2C``, ``DQN``, ``RecurrentPPO``, ``MaskablePPO``
    :return: its stable-baselines3 / sb3-contrib class
    :raises ValueError: for another name
    """
    import importlib

    if algorithm not in ALGORITHM_PACKAGES:
        raise ValueError(
            f"unknown RL algorithm {algorithm!r}; expected one of {', '.join(ALGORITHM_PACKAGES)}"
        )
    return getattr(importlib.import_module(ALGORITHM_PACKAGES[algorithm]), algorithm)


def accepted_parameters(
    model_class: type, params: dict[str, Any], model_type: str
) -> dict[str, Any]:
    """
    ``model_training_parameters`` that the chosen algorithm accepts. Freqtrade merges config
    files key by key, so an overlay that switches PPO to DQN cannot remove PPO's ``n_epochs``;
    such leftovers are dropped here, with a warning, instead of failing every window.

    :param model_class: the stable-baselines3 class
    :param params: ``freqai.model_training_parameters``
    :param model_type: its name, for the warning
    :return: keyword arguments for the algorithm's constructor
    """
    accepted = inspect.signature(model_class.__init__).parameters
    dropped = sorted(k for k in params if k not in accepted)
    if dropped:
        logger.warning(
            "MetaPPO: %s does not take %s; ignoring them (see meta_strategy.rl.algorithms "
            "for presets per algorithm).",
            model_type,
            dropped,
        )
    return {k: v for k, v in params.items() if k in accepted}
