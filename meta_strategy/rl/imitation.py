"""
Behaviour-cloning warm start (``freqai.rl_config.behaviour_cloning``): before reinforcement
learning, the agent's policy is trained to imitate a simple combiner, so the search starts from
a known, reasonable allocator instead of a random policy (the pre-training of DQfD, Hester et
al. 2018, and of AlphaStar's supervised start, in its simplest form: cross-entropy on the
teacher's actions).

The teacher is a combiner of :func:`~meta_strategy.rl.actions.combiner_direction`: by default
``follow_the_leader`` (the trailing-best registered strategy). On each of the agent's decision
candles of the training window its actions are those whose exposure (in the action mode's
choice matrix) is the closest to the teacher's (in the select mode, every strategy pointing the
teacher's way), and the policy learns to give them together the highest probability; the
observation carries the exposure the teacher held on the candle before, as it would while
following it.
Only policies with a categorical action distribution (PPO, A2C, their maskable and recurrent
variants' MLP heads) are cloned; others train from scratch with a warning.

Config::

    "rl_config": {"behaviour_cloning": {"teacher": "follow_the_leader", "epochs": 20}}
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch as th

from meta_strategy.config_keys import check_known_keys
from meta_strategy.rl.actions import COMBINERS, STRATEGY_COMBINER, is_combiner
from meta_strategy.rl.env import build_observation
from meta_strategy.rl.errors import RLConfigError, is_whole_number


logger = logging.getLogger(__name__)

CLONING_KEYS = frozenset({"teacher", "epochs"})
"""Keys of ``freqai.rl_config.behaviour_cloning``."""


@dataclass(frozen=True)
class CloningConfig:
    """
    :ivar teacher: the combiner imitated (None: no cloning)
    :ivar epochs: passes over the training window's decisions
    """

    teacher: str | None = None
    epochs: int = 20

    @classmethod
    def from_rl_config(cls, rl_config: dict[str, Any]) -> CloningConfig:
        """:raises RLConfigError: an unknown key or teacher, epochs out of range"""
        section = rl_config.get("behaviour_cloning")
        where = "freqai.rl_config.behaviour_cloning"
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise RLConfigError(f"{where} must be an object, got {section!r}")
        check_known_keys(section, CLONING_KEYS, where, RLConfigError)
        teacher = section.get("teacher", "follow_the_leader")
        if not is_combiner(teacher):
            raise RLConfigError(
                f"{where}.teacher: unknown teacher {teacher!r}; expected one of "
                f"{', '.join(COMBINERS)} or {STRATEGY_COMBINER}<registry entry>"
            )
        epochs = section.get("epochs", 20)
        if not is_whole_number(epochs, 1, 1000):
            raise RLConfigError(f"{where}.epochs is {epochs!r}; expected a whole number 1..1000")
        return cls(teacher, epochs)


def teacher_actions(
    choices: npt.NDArray[np.float64], teacher: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """
    :param choices: the action mode's choice matrix, (n, actions): the exposure of each action
    :param teacher: the teacher's exposure per candle
    :return: (n, actions): the actions whose exposure is the closest to the teacher's (several
        when several hold it, e.g. two strategies of the same direction in the select mode)
    """
    distance = np.abs(choices - np.asarray(teacher, float)[:, None])
    return distance <= distance.min(axis=1, keepdims=True) + 1e-12


def cloning_set(
    features: npt.NDArray[np.floating],
    choices: npt.NDArray[np.float64],
    teacher: npt.NDArray[np.float64],
    decisions: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """
    :param features: the training window's (normalised) features, one row per candle
    :param decisions: the candles the agent decides after
    :return: the observations of the decision candles, as while following the teacher, and the
        teacher's actions on them (:func:`teacher_actions`)
    """
    actions = teacher_actions(choices, teacher)
    # the exposure held while following the teacher: of its actions, the nearest to flat
    nearest_flat = np.argmin(np.where(actions, np.abs(choices), np.inf), axis=1)
    held = choices[np.arange(len(choices)), nearest_flat]
    rows = np.flatnonzero(decisions[1:]) + 1  # a decision on the first candle has no past
    observations = np.stack([build_observation(features[t], held[t - 1]) for t in rows])
    return observations, actions[rows]


def _clonable(policy: Any, observation: th.Tensor) -> bool:
    """
    :return: whether the policy gives a categorical action distribution from an observation
        alone (a recurrent policy also needs its hidden state and episode starts)
    """
    get = getattr(policy, "get_distribution", None)
    if get is None:
        return False
    needed = [p for p in inspect.signature(get).parameters.values() if p.default is p.empty]
    return len(needed) == 1 and hasattr(get(observation).distribution, "logits")


def clone_behaviour(
    model: Any,
    observations: npt.NDArray[np.float32],
    actions: npt.NDArray[np.bool_],
    epochs: int,
    seed: int,
    batch: int = 32,
) -> float | None:
    """
    Train the policy of ``model`` (stable-baselines3) to pick one of the teacher's ``actions``
    for ``observations``: the negative log of the probability the policy gives them together
    (cross-entropy against the set of equivalent actions), Adam at 1e-3.

    :param actions: (n, actions): the teacher's actions on each observation
    :return: the share of the training decisions on which the policy then takes one of the
        teacher's actions; None when its action distribution is not categorical (not cloned)
    """
    policy = model.policy
    obs = th.as_tensor(observations, device=policy.device)
    target = th.as_tensor(actions, device=policy.device)
    if not _clonable(policy, obs[:1]):
        logger.warning(
            "Behaviour cloning: %s has no categorical policy of the observation alone (DQN's "
            "Q-values, RecurrentPPO's hidden state); skipped",
            type(model).__name__,
        )
        return None
    optimiser = th.optim.Adam(policy.parameters(), lr=1e-3)
    order = np.random.default_rng(seed)
    policy.set_training_mode(True)
    for _ in range(epochs):
        for rows in np.array_split(order.permutation(len(obs)), max(1, len(obs) // batch)):
            logits = policy.get_distribution(obs[rows]).distribution.logits
            taught = th.logsumexp(logits.masked_fill(~target[rows], -th.inf), dim=1)
            loss = (th.logsumexp(logits, dim=1) - taught).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    policy.set_training_mode(False)
    with th.no_grad():
        chosen = policy.get_distribution(obs).distribution.logits.argmax(dim=1)
    return float(target[th.arange(len(obs)), chosen].float().mean())
