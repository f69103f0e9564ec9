"""
Safe mode: go flat and stop opening trades while something the bot depends on is wrong, say
why, and resume by itself when the cause clears.

Causes (checked in dry-run and live; thresholds under ``bitbot.safe_mode``):

* ``model``: the meta-model file FreqAI trades with is missing or corrupt, was trained on
  other features than the strategy furnishes now (FreqAI checks that only in backtests), or
  is older than
  ``max_model_age_hours`` (default: FreqAI's ``expiration_hours``, two days past the retraining
  schedule, so a model the schedule should have replaced stops the trading; 72 without it),
  promoted models included;
* ``prediction``: the model's latest prediction is NaN, out of range or flagged by FreqAI;
* ``candles``: no analysed candles, or the last closed candle is more than
  ``max_candle_delay`` candles late;
* ``exchange``: ``max_exchange_failures`` ticker requests in a row failed for a pair. The
  ticker is a network request, so it is asked at most every ``exchange_check_seconds``
  (default 60; Freqtrade's bot loop runs every few seconds), not on every loop.

:class:`SafeMode` keeps the active causes; the strategy
(:class:`~meta_strategy.trading.risk_controls.RiskControls`, which every shipped strategy uses:
``candles`` and ``exchange`` for all of them, the other causes for the MetaStrategy) exits the
open position, refuses entries, locks the pair with the reason (visible in the REST API's
``/locks`` and FreqUI) and sends the reason through Freqtrade's message API (Telegram,
webhooks) when a cause starts or clears.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from meta_strategy.models.store import ModelFileError, trained_features, verify_model_file
from meta_strategy.trading.config import BitBotConfigError, bitbot_section


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SafeModeConfig:
    """Thresholds of ``bitbot.safe_mode``."""

    max_model_age_hours: float = 72.0
    max_candle_delay: float = 2.0
    max_exchange_failures: int = 3
    exchange_check_seconds: float = 60.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SafeModeConfig:
        """
        :param config: Freqtrade configuration
        :return: the thresholds, defaults for keys left out
        :raises BitBotConfigError: an unknown key or a value that is not a positive number
        """
        section = bitbot_section(config, "safe_mode", {f.name for f in fields(cls)})
        expiration = (config.get("freqai") or {}).get("expiration_hours")
        if "max_model_age_hours" not in section and isinstance(expiration, int | float):
            if not isinstance(expiration, bool) and expiration > 0:
                section = {**section, "max_model_age_hours": float(expiration)}
        for key, value in section.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise BitBotConfigError(
                    f"bitbot.safe_mode.{key} must be a positive number, got {value!r}."
                )
        return cls(**section)


class SafeMode:
    """The active causes of safe mode and what to say when they change."""

    def __init__(self) -> None:
        self.causes: dict[str, str] = {}

    @property
    def active(self) -> bool:
        """:return: True while any cause is active"""
        return bool(self.causes)

    def describe(self) -> str:
        """:return: every active cause with its detail"""
        return "; ".join(f"{cause}: {detail}" for cause, detail in sorted(self.causes.items()))

    def report(self, cause: str, problem: str | None) -> str | None:
        """
        Record the state of one cause.

        :param cause: ``model``, ``prediction``, ``reference``, ``candles`` or ``exchange``
        :param problem: what is wrong, or None when the cause is clear
        :return: a message when the cause started or cleared, else None
        """
        if problem is None:
            if self.causes.pop(cause, None) is None:
                return None
            rest = (
                f" Still in safe mode: {self.describe()}." if self.active else " Trading resumes."
            )
            return f"Safe mode cause cleared: {cause}.{rest}"
        started = cause not in self.causes
        self.causes[cause] = problem
        return f"SAFE MODE ({cause}): {problem}. Going flat, no new trades." if started else None


def candle_delay(last_candle_open: datetime, now: datetime, timeframe: timedelta) -> float:
    """
    :param last_candle_open: open time of the last analysed (closed) candle
    :param now: current time (timezone-aware)
    :param timeframe: candle length
    :return: how many candles later than expected that candle is (0 when on time): at 10:05
        on 1h candles the last closed candle opened at 09:00
    """
    step = timeframe.total_seconds()
    expected_open = (now.timestamp() // step - 1) * step
    return max(0.0, (expected_open - last_candle_open.timestamp()) / step)


def candle_problem(
    last_candle_open: datetime | None, now: datetime, timeframe: timedelta, limit: float
) -> str | None:
    """:return: what is wrong with the candles, or None"""
    if last_candle_open is None:
        return "no analysed candles"
    delay = candle_delay(last_candle_open, now, timeframe)
    if delay > limit:
        return (
            f"the last closed candle opened {last_candle_open:%Y-%m-%d %H:%M} UTC, "
            f"{delay:.1f} candles late (limit {limit:g})"
        )
    return None


def prediction_problem(value: Any, do_predict: Any, valid: range) -> str | None:
    """
    :param value: the model's action for the last candle
    :param do_predict: FreqAI's ``do_predict`` flag for it (1 = usable)
    :param valid: the valid actions
    :return: what is wrong with the prediction, or None
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"prediction {value!r} is not a number"
    if math.isnan(number):
        return "prediction is NaN"
    if do_predict != 1:
        return f"FreqAI flagged the prediction (do_predict={do_predict})"
    if int(number) != number or int(number) not in valid:
        return f"prediction {number:g} is not one of the actions {list(valid)}"
    return None


def feature_problem(trained: list[str], furnished: list[str]) -> str | None:
    """
    :param trained: the features the model was trained on, in order
    :param furnished: the features the strategy furnishes now, in order
    :return: how they differ (a model fed other features than it learned from trades on
        nonsense, even when the count happens to match), or None
    """
    if trained == furnished:
        return None
    missing = [f for f in trained if f not in furnished]
    extra = [f for f in furnished if f not in trained]
    problem = f"the model was trained on {len(trained)} features, the strategy furnishes "
    problem += str(len(furnished))
    for what, names in (("not furnished", missing), ("not in the model", extra)):
        if names:
            problem += f"; {what}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"
    if not missing and not extra:
        problem += " (the same features in another order)"
    return problem


def model_problem(
    model_path: Any,
    trained_timestamp: int | None,
    now: datetime,
    max_age_hours: float | None,
    furnished: list[str] | None = None,
) -> str | None:
    """
    :param model_path: the model file FreqAI trades with (None when it has none yet)
    :param trained_timestamp: end of its training data (unix seconds)
    :param now: current time
    :param max_age_hours: age beyond which the model is stale (None: no limit)
    :param furnished: the features the strategy furnishes now (None: not checked)
    :return: what is wrong with the model, or None
    """
    if model_path is None:
        return "FreqAI has no trained model yet"
    try:
        verify_model_file(Path(model_path))
        trained = trained_features(Path(model_path)) if furnished is not None else None
    except ModelFileError as e:
        return str(e)
    if trained is not None and furnished is not None:
        problem = feature_problem(trained, furnished)
        if problem:
            return problem
    if trained_timestamp and max_age_hours is not None:
        age = now - datetime.fromtimestamp(int(trained_timestamp), tz=now.tzinfo)
        if age > timedelta(hours=max_age_hours):
            return (
                f"the model's training data ends {age.total_seconds() / 3600:.0f} h ago "
                f"(limit {max_age_hours:g} h)"
            )
    return None
