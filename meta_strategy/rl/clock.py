"""
The meta-learner's decision clock (``freqai.rl_config.decision_clock``): on which candles it
decides, and holds its exposure in between.

Deciding every hour while the strategies it listens to hold their trades for days makes each
decision mostly noise and each change a cost. With the clock, the agent decides on the candles
whose open time is a multiple of ``every`` candles since the Unix epoch (``every`` 24 at 1h:
the first candle of each UTC day), and, with ``on_signal_change``, also on every candle where a
registered strategy changed direction. Between decisions the exposure is held: the training
environment repeats the action over those candles and pays one reward for the whole span
(action repeat, Mnih et al. 2015; "frame skip"), so ``gamma`` applies per decision and the
horizon ``1 / (1 - gamma)`` counts decisions, not candles. Backtests, dry-run and live decide on
the same candles: the strategy marks them (``%-raw_decision``) from the candles' dates and the
registry's directions, the same function in training and prediction.

Config::

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

CLOCK_KEYS = frozenset({"every", "on_signal_change"})
"""Keys of ``freqai.rl_config.decision_clock``."""


@dataclass(frozen=True)
class DecisionClock:
    """
    :ivar every: candles between scheduled decisions (1: every candle)
    :ivar on_signal_change: also decide on the candles where a registered strategy changed
        direction
    """

    every: int = 1
    on_signal_change: bool = False

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
        on_change = section.get("on_signal_change", False)
        if not isinstance(on_change, bool):
            raise RLConfigError(
                "freqai.rl_config.decision_clock.on_signal_change must be true or false, got "
                f"{on_change!r}."
            )
        return cls(every, on_change)

    @property
    def every_candle(self) -> bool:
        """Whether the agent decides on every candle (the clock is off)."""
        return self.every == 1

    def decision_candles(
        self, dates: pd.Series, timeframe_ms: int, directions: pd.DataFrame | None = None
    ) -> npt.NDArray[np.bool_]:
        """
        :param dates: candle open times
        :param timeframe_ms: the candles' timeframe in milliseconds
        :param directions: the registered strategies' directions per candle (one column each,
            NaN while unknown), for ``on_signal_change``
        :return: per candle, whether the agent decides after its close
        """
        candle = pd.DatetimeIndex(dates).as_unit("ms").asi8 // timeframe_ms
        decide = candle % self.every == 0
        if self.on_signal_change and directions is not None and len(directions):
            held = directions.fillna(0.0).to_numpy(dtype=np.float64)
            changed = np.r_[False, (np.diff(held, axis=0) != 0).any(axis=1)]
            decide |= changed
        return np.asarray(decide, dtype=bool)


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
