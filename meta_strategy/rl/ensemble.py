"""
Seed ensembles of the meta-learner (``freqai.rl_config.ensemble``).

One agent's result depends on its seed about as much as on its design (Henderson et al. 2018,
"Deep reinforcement learning that matters"); the standard remedy is to train several agents that
differ only by their seed and let them vote. Each walk-forward window then trains ``members``
agents (seeds ``seed``, ``seed + 1``, ...) on the same data; on every decision each one picks an
action for the same observation and the ensemble takes

* ``majority``: the action most members chose; a tie goes to the tied action whose exposure is
  closest to flat (the cautious one), and a tie of long against short to a flat action;
* ``mean``: the exposure level closest to the members' mean exposure (target action mode only).

Files: member 0 is FreqAI's own ``<model>_model.zip`` (what FreqAI saves, loads and what safe
mode checks); member ``i`` sits next to it as ``<model>_model.member<i>.zip``. A missing or
unreadable member stops a backtest with the file named and, in dry-run and live, puts the bot in
safe mode like a bad model file.

Config::

    "rl_config": {"ensemble": {"members": 5, "vote": "majority"}}

Default ``members`` 1: a single agent, as without the ensemble.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meta_strategy.config_keys import check_known_keys
from meta_strategy.rl.errors import RLConfigError, is_whole_number


logger = logging.getLogger(__name__)

ENSEMBLE_KEYS = frozenset({"members", "vote"})
"""Keys of ``freqai.rl_config.ensemble``."""
VOTES: tuple[str, ...] = ("majority", "mean")
MAX_MEMBERS = 16


class EnsembleFileError(RLConfigError):
    """An ensemble member's model file is missing or unreadable (names the file)."""


@dataclass(frozen=True)
class EnsembleConfig:
    """
    :ivar members: agents per walk-forward window (1: no ensemble)
    :ivar vote: how their actions combine, one of :data:`VOTES`
    """

    members: int = 1
    vote: str = "majority"

    @classmethod
    def from_rl_config(cls, rl_config: dict[str, Any]) -> EnsembleConfig:
        """
        :param rl_config: ``freqai.rl_config``
        :raises RLConfigError: not an object, an unknown key, a bad value (named), or an
            ensemble of a recurrent policy (its hidden state is per agent)
        """
        section = rl_config.get("ensemble") or {}
        if not isinstance(section, dict):
            raise RLConfigError(f"freqai.rl_config.ensemble must be an object, got {section!r}.")
        check_known_keys(section, ENSEMBLE_KEYS, "freqai.rl_config.ensemble", RLConfigError)
        members = section.get("members", 1)
        if not is_whole_number(members, 1, MAX_MEMBERS):
            raise RLConfigError(
                f"freqai.rl_config.ensemble.members is {members!r}; expected a "
                f"whole number from 1 to {MAX_MEMBERS}."
            )
        vote = section.get("vote", "majority")
        if vote not in VOTES:
            raise RLConfigError(
                f"freqai.rl_config.ensemble.vote is {vote!r}; expected one of {', '.join(VOTES)}."
            )
        if members > 1 and rl_config.get("model_type") == "RecurrentPPO":
            raise RLConfigError(
                "freqai.rl_config.ensemble: RecurrentPPO cannot vote in an ensemble (each "
                "member's hidden state is its own); use members 1 or another model_type."
            )
        if vote == "mean" and rl_config.get("action_mode", "target") != "target":
            raise RLConfigError(
                "freqai.rl_config.ensemble.vote 'mean' averages exposure levels: it needs "
                "action_mode 'target'; use 'majority'."
            )
        return cls(members, vote)


def member_path(model_file: Path, member: int) -> Path:
    """
    :param model_file: FreqAI's model file (``<model>_model.zip``, member 0)
    :param member: member number, >= 1
    :return: where that member is saved
    """
    return model_file.with_name(f"{model_file.stem}.member{member}.zip")


def vote(
    actions: Sequence[int], exposures: Sequence[float], how: str, levels: Sequence[float]
) -> int:
    """
    :param actions: each member's action
    :param exposures: the exposure each action of the mode holds now (indexed by action)
    :param how: ``majority`` or ``mean``
    :param levels: the exposure levels (``mean``: the action is the level closest to the mean)
    :return: the ensemble's action
    """
    if how == "mean":
        mean = float(np.mean([levels[a] for a in actions]))
        return int(np.argmin([abs(level - mean) for level in levels]))
    counts = np.bincount(np.asarray(actions, dtype=int), minlength=len(exposures))
    tied = np.flatnonzero(counts == counts.max())
    held = [exposures[a] for a in tied]
    if min(held) < 0 < max(held):  # long against short: stand aside, where an action does
        flat = [a for a, exposure in enumerate(exposures) if exposure == 0]
        if flat:
            return flat[0]
    return int(min(tied, key=lambda a: (abs(exposures[a]), a)))


class AgentEnsemble:
    """
    Several trained agents that act as one: :meth:`predict` has SB3's signature, so the
    prediction walk treats an ensemble like a single agent.

    :param members: trained SB3 models, member 0 first
    :param how: ``majority`` or ``mean`` (:func:`vote`)
    :param levels: the target mode's exposure levels
    """

    def __init__(self, members: list[Any], how: str, levels: Sequence[float]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = members
        self.how = how
        self.levels = tuple(levels)
        self.exposures: Sequence[float] = self.levels
        """the exposure each action holds on the candle being predicted (set by the walk)"""
        self.observation_space = members[0].observation_space
        self.action_space = members[0].action_space

    def predict(self, obs: np.ndarray, deterministic: bool = True, **kwargs: Any) -> tuple:
        """:return: the ensemble's action and no state (SB3's ``predict``)"""
        actions = [int(m.predict(obs, deterministic=deterministic)[0]) for m in self.members]
        return vote(actions, self.exposures, self.how, self.levels), None

    def save(self, path: str | Path) -> None:
        """Member 0 at ``path`` (FreqAI's model file), the others next to it."""
        path = Path(path)
        self.members[0].save(path)
        for i, member in enumerate(self.members[1:], start=1):
            member.save(member_path(path, i))

    @classmethod
    def load(
        cls, first: Any, model_file: Path, count: int, how: str, levels: Sequence[float]
    ) -> AgentEnsemble:
        """
        :param first: member 0, as FreqAI loaded it
        :param model_file: its file (``<model>_model.zip``)
        :param count: members configured
        :raises EnsembleFileError: a member's file is missing or cannot be loaded (named)
        """
        members = [first]
        for i in range(1, count):
            path = member_path(Path(model_file), i)
            if not path.is_file():
                raise EnsembleFileError(
                    f"ensemble member {i} of {count} is missing: {path} (train the window again "
                    "or set freqai.rl_config.ensemble.members to the number trained)"
                )
            try:
                members.append(type(first).load(path, device="cpu"))
            except Exception as e:  # a truncated or foreign zip
                raise EnsembleFileError(
                    f"ensemble member {i} of {count} cannot be loaded from {path}: "
                    f"{type(e).__name__}: {e}"
                ) from e
        return cls(members, how, levels)
