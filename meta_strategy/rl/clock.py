"""
The meta-learner's decision clock (``freqai.rl_config.decision_clock``): on which candles it
decides, and holds its exposure in between.

Deciding every hour while the strategies it listens to hold their trades for days makes each
decision mostly noise and each change a cost. With the clock, the agent decides on the candles
whose open time is a multiple of ``every`` candles since the Unix epoch (``every`` 24 at 1h:
the first candle of each UTC day), and, with ``on_signal_change``, also on every candle where a
registered strategy changed direction, or, with ``on_base_change``, where the residual action
mode's base combiner changed direction (only its trades' openings, closings and reversals: the
agent sizes each base trade as it opens, without a decision at every other strategy's change).
Between decisions the exposure is held: the training environment repeats the action over those
candles and pays one reward for the whole span (action repeat, Mnih et al. 2015; "frame skip"),
so ``gamma`` applies per decision and the horizon ``1 / (1 - gamma)`` counts decisions, not
candles. Backtests, dry-run and live decide on the same candles: the strategy marks them
(``%-raw_decision``) from the candles' dates, the registry's directions and the base's, the
same function in training and prediction.

Config (``on_base_change`` needs ``"action_mode": "residual"``)::

    "rl_config": {"decision_clock": {"every": 24, "on_signal_change": true}}

Default ``{"every": 1}``: a decision on every candle, as without the clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from meta_strategy.config_keys import check_known_keys
from meta_strategy.rl.errors import RLConfigError, is_whole_number


logger = logging.getLogger(__name__)

CLOCK_KEYS = frozenset({"every", "on_signal_change", "on_base_change"})
"""Keys of ``freqai.rl_config.decision_clock``."""


@dataclass(frozen=True)
class DecisionClock:
    """
    :ivar every: candles between scheduled decisions (1: every candle)
    :ivar on_signal_change: also decide on the candles where a registered strategy changed
        direction
    :ivar on_base_change: also decide on the candles where the residual mode's base combiner
        changed direction
    """

    every: int = 1
    on_signal_change: bool = False
    on_base_change: bool = False

    @classmethod
    def from_rl_config(cls, rl_config: dict[str, Any]) -> DecisionClock:
        """
        :param rl_config: ``freqai.rl_config``
        :raises RLConfigError: not an object, an unknown key, or a bad value (named)
        """
        section = rl_config.get("decision_clock") or {}
        if not isinstance(section, dict):
            raise RLConfigError(
                f"freqai.rl_config.decision_clock must be an object, got {section!r}."
            )
        check_known_keys(section, CLOCK_KEYS, "freqai.rl_config.decision_clock", RLConfigError)
        every = section.get("every", 1)
        if not is_whole_number(every, 1, 24 * 30):
            raise RLConfigError(
                f"freqai.rl_config.decision_clock.every is {every!r}; expected a whole number "
                "of candles from 1 to 720."
            )
        flags = {key: section.get(key, False) for key in ("on_signal_change", "on_base_change")}
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise RLConfigError(
                    f"freqai.rl_config.decision_clock.{key} must be true or false, got {value!r}."
                )
        mode = rl_config.get("action_mode", "target")
        if flags["on_base_change"] and mode != "residual":
            raise RLConfigError(
                "freqai.rl_config.decision_clock.on_base_change needs a base combiner: set "
                f"freqai.rl_config.action_mode to 'residual' (it is {mode!r})."
            )
        return cls(every, **flags)

    @property
    def every_candle(self) -> bool:
        """Whether the agent decides on every candle (the clock is off)."""
        return self.every == 1

    def decision_candles(
        self,
        dates: pd.Series,
        timeframe_ms: int,
        directions: pd.DataFrame | None = None,
        base: pd.Series | None = None,
    ) -> npt.NDArray[np.bool_]:
        """
        :param dates: candle open times
        :param timeframe_ms: the candles' timeframe in milliseconds
        :param directions: the registered strategies' directions per candle (one column each,
            NaN while unknown), for ``on_signal_change``
        :param base: the residual mode's base direction per candle, for ``on_base_change``
        :return: per candle, whether the agent decides after its close
        :raises ValueError: ``on_base_change`` without the base's direction
        """
        candle = pd.DatetimeIndex(dates).as_unit("ms").asi8 // timeframe_ms
        decide = candle % self.every == 0
        if self.on_signal_change and directions is not None and len(directions):
            decide |= direction_changes(directions.to_numpy(dtype=np.float64))
        if self.on_base_change:
            if base is None:
                raise ValueError("on_base_change needs the base combiner's direction")
            decide |= direction_changes(np.asarray(base, dtype=np.float64).reshape(-1, 1))
        return np.asarray(decide, dtype=bool)


def direction_changes(directions: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """
    :param directions: directions per candle (rows) and strategy (columns), NaN while unknown
        (read as flat)
    :return: per candle, whether any column differs from the candle before (never the first)
    """
    if len(directions) == 0:
        return np.zeros(0, dtype=bool)
    held = np.nan_to_num(directions, nan=0.0)
    return np.r_[False, (np.diff(held, axis=0) != 0).any(axis=1)]


def next_decisions(decisions: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """
    :param decisions: per candle, whether the agent decides after its close
    :return: per candle ``t``, the next candle after ``t`` that is a decision (the last candle
        where none is)
    """
    decisions = np.asarray(decisions, dtype=bool)
    n = len(decisions)
    points = np.flatnonzero(decisions)
    if len(points) == 0:
        return np.full(n, n - 1, dtype=np.int64)
    later = np.searchsorted(points, np.arange(n), side="right")
    return np.where(later < len(points), points[np.minimum(later, len(points) - 1)], n - 1)
