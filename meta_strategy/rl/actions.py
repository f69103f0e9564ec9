"""
What the meta-learner's action means (``freqai.rl_config.action_mode``).

Every mode turns an action into a target exposure per candle through a *choice matrix*
``choices[t, a]``: the exposure action ``a`` holds over the candle after ``t`` (known at ``t``'s
close). The environment, the backtest and the live bot read the same matrix, which the
MetaStrategy computes from the registry's directions and hands over as ``%-raw_choice_<a>``.

* ``target`` (default): the action is the exposure itself, one of the ``exposure_levels``.
* ``select``: follow one registered strategy's direction, or stay flat (action 0); the agent
  picks *whom to trust*, the strategy picks the timing (the allocator's job; a learned
  follow-the-leader).
* ``residual``: take a base combiner's position whole (action 2), at half size (1) or veto it
  (0): the agent can only improve on the base's timing by standing aside or sizing down
  (residual policy learning, Silver et al. 2018; Johannink et al. 2019). ``residual_base``:
  ``equal_vote``, ``portfolio``, ``follow_the_leader``, ``winners_portfolio``
  (:mod:`meta_strategy.signals.votes`) or one registered strategy, ``strategy:<registry entry>``
  (e.g. ``strategy:volatility``).

Every mode trades through the same environment, so the same cost model applies to all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from meta_strategy.rl.errors import RLConfigError
from meta_strategy.signals.votes import (
    equal_vote,
    follow_the_leader,
    portfolio,
    winners_portfolio,
)


logger = logging.getLogger(__name__)

ACTION_MODES: tuple[str, ...] = ("target", "select", "residual")
COMBINERS: tuple[str, ...] = (
    "equal_vote",
    "portfolio",
    "follow_the_leader",
    "winners_portfolio",
    "buy_and_hold",
)
"""Combiners of the registered strategies' directions (:func:`combiner_direction`); besides
these, ``strategy:<registry entry>`` is that one strategy alone."""
STRATEGY_COMBINER = "strategy:"
"""Prefix of the combiner that follows one registered strategy (``strategy:volatility``)."""
RESIDUAL_BASES: tuple[str, ...] = (
    "equal_vote",
    "portfolio",
    "follow_the_leader",
    "winners_portfolio",
)
RESIDUAL_SIZES: tuple[float, ...] = (0.0, 0.5, 1.0)
"""Residual mode: the share of the base combiner's position each action takes."""
CHOICE_PREFIX = "%-raw_choice_"
"""Columns of the choice matrix in the strategy's dataframe (not observed by the agent)."""


@dataclass(frozen=True)
class ActionMode:
    """
    :ivar mode: one of :data:`ACTION_MODES`
    :ivar residual_base: the base combiner of the residual mode, one of :data:`RESIDUAL_BASES`
    """

    mode: str = "target"
    residual_base: str = "equal_vote"

    @classmethod
    def from_rl_config(cls, rl_config: dict[str, Any]) -> ActionMode:
        """
        :param rl_config: ``freqai.rl_config`` (``action_mode``, ``residual_base``)
        :raises RLConfigError: an unknown mode or base (with the choices)
        """
        mode = rl_config.get("action_mode", "target")
        if mode not in ACTION_MODES:
            raise RLConfigError(
                f"freqai.rl_config.action_mode is {mode!r}; expected one of "
                f"{', '.join(ACTION_MODES)}."
            )
        base = rl_config.get("residual_base", "equal_vote")
        if base not in RESIDUAL_BASES and not is_single_strategy(base):
            raise RLConfigError(
                f"freqai.rl_config.residual_base is {base!r}; expected one of "
                f"{', '.join(RESIDUAL_BASES)} or {STRATEGY_COMBINER}<registry entry>."
            )
        return cls(mode, base)

    def choices(
        self,
        levels: tuple[float, ...],
        directions: pd.DataFrame,
        base: pd.Series | None = None,
    ) -> npt.NDArray[np.float64]:
        """
        :param levels: the target mode's exposure levels
        :param directions: the registered strategies' directions per candle (NaN while unknown)
        :param base: the residual mode's base direction per candle
        :return: the choice matrix, one row per candle and one column per action
        """
        n = len(directions)
        if self.mode == "target":
            return level_choices(levels, n)
        if self.mode == "select":
            held = np.nan_to_num(directions.to_numpy(dtype=np.float64))
            return np.column_stack([np.zeros(n), held])
        if base is None:
            raise ValueError("the residual action mode needs its base combiner's direction")
        position = np.nan_to_num(np.asarray(base, dtype=np.float64))
        return np.column_stack([size * position for size in RESIDUAL_SIZES])

    def base_direction(
        self,
        directions: pd.DataFrame,
        close: pd.Series,
        funding: pd.Series,
        dates: pd.Series,
        fee: float,
        leader_window: int,
    ) -> pd.Series | None:
        """
        :return: the residual mode's base combiner's direction per candle
            (:func:`combiner_direction`; None in the other modes)
        """
        if self.mode != "residual":
            return None
        return combiner_direction(
            self.residual_base, directions, close, funding, dates, fee, leader_window
        )

    def flat_action(self, levels: tuple[float, ...]) -> int:
        """:return: the action that holds no position whatever the strategies say"""
        return levels.index(0.0) if self.mode == "target" else 0


def level_choices(levels: tuple[float, ...], n: int) -> npt.NDArray[np.float64]:
    """
    :param levels: the target mode's exposure levels
    :param n: the number of candles
    :return: the target mode's choice matrix: every candle offers the same levels
    """
    return np.tile(np.asarray(levels, dtype=np.float64), (n, 1))


def choice_columns(columns: Any) -> list[str]:
    """:return: the choice-matrix columns among ``columns``, in action order"""
    found = [c for c in columns if str(c).startswith(CHOICE_PREFIX)]
    return sorted(found, key=lambda c: int(str(c)[len(CHOICE_PREFIX) :]))


def held_exposure(
    actions: npt.NDArray[np.int_], valid: npt.NDArray[np.bool_], choices: npt.NDArray[np.floating]
) -> npt.NDArray[np.float64]:
    """
    :param actions: the predicted action per candle (-1 where none)
    :param valid: whether each prediction may be traded (FreqAI's ``do_predict``)
    :param choices: the choice matrix, one row per candle
    :return: per candle, the exposure the action holds; 0 where it is not valid or not an
        action of the matrix
    """
    count = choices.shape[1]
    ok = valid & (actions >= 0) & (actions < count)
    picked = choices[np.arange(len(choices)), np.clip(actions, 0, count - 1)]
    return np.where(ok, picked, 0.0)


def is_single_strategy(name: Any) -> bool:
    """:return: whether ``name`` is the combiner ``strategy:<registry entry>``"""
    prefix = STRATEGY_COMBINER
    return isinstance(name, str) and name.startswith(prefix) and len(name) > len(prefix)


def is_combiner(name: Any) -> bool:
    """:return: whether ``name`` is one of :data:`COMBINERS` or ``strategy:<registry entry>``"""
    return name in COMBINERS or is_single_strategy(name)


def check_combiner_entries(names: list[str | None], registered: list[str]) -> None:
    """
    :param names: the combiners a configuration uses (None: unused)
    :param registered: the registry's enabled entry names
    :raises RLConfigError: a ``strategy:<entry>`` names no enabled registry entry (named)
    """
    for name in names:
        if is_single_strategy(name) and name[len(STRATEGY_COMBINER) :] not in registered:
            raise RLConfigError(
                f"freqai.rl_config: the combiner {name!r} names no enabled registry entry; "
                f"registered: {', '.join(registered)}"
            )


def combiner_direction(
    name: str,
    directions: pd.DataFrame,
    close: pd.Series,
    funding: pd.Series,
    dates: pd.Series,
    fee: float,
    leader_window: int,
) -> pd.Series:
    """
    :param name: ``equal_vote``, ``portfolio``, ``follow_the_leader``, ``winners_portfolio``
        (:mod:`meta_strategy.signals.votes`), ``buy_and_hold`` (long throughout) or
        ``strategy:<entry>`` (that registered strategy)
    :param directions: the registered strategies' directions per candle
    :param close: closes, same index
    :param funding: funding rate charged at each candle's open, same index
    :param dates: candle open times, same index
    :param fee: cost of one fill
    :param leader_window: trailing candles of follow-the-leader's and the winners' choice
    :return: the combiner's direction per candle (its net exposure, -1 .. 1, for
        ``portfolio`` and ``winners_portfolio``)
    """
    if name == "equal_vote":
        return equal_vote(directions)
    if name == "portfolio":
        return portfolio(directions)
    if name == "follow_the_leader":
        return follow_the_leader(directions, close, funding, dates, fee, leader_window)["vote"]
    if name == "winners_portfolio":
        chosen = winners_portfolio(directions, close, funding, dates, fee, leader_window)
        return chosen["exposure"]
    if name == "buy_and_hold":
        return pd.Series(1.0, index=directions.index)
    column = f"%-sig_{name[len(STRATEGY_COMBINER) :]}_direction"
    if is_single_strategy(name) and column in directions:
        return directions[column].fillna(0.0)
    raise ValueError(f"unknown combiner {name!r}")
