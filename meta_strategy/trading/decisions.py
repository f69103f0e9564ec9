"""
Decision messages: what the meta layer decided on a new candle, in three short lines.

In dry-run and live, :class:`~meta_strategy.trading.exposure.TargetExposureStrategy` sends one
through Freqtrade's message API (``dp.send_msg``: Telegram, webhooks) beside Freqtrade's own trade
messages::

    BTC/USD:USD 2025-06-01 14:00 UTC: LONG 1.0x (was flat)
    agree: volatility, supertrend · against: ott · flat: bband_rsi
    model: promoted-240

The first line is the pair, the open time of the last closed candle, the new target exposure
(after the risk cap) and the previous decision; the second groups the registered strategies by
their direction on that candle (``%-sig_<name>_direction``, :mod:`meta_strategy.signals.engine`)
against the chosen side (for a flat decision: who is flat, long and short); the third names the
model, left out when there is none (the vote baselines).

When a message is sent is configured under ``bitbot.decisions``::

    "bitbot": {"decisions": {"notify": "change"}}

``change`` (default): when the target differs from the previous candle's decision, and once for
the first decision after a start; ``every_candle``: on every new candle; ``off``: never.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pandas import DataFrame

from meta_strategy.trading.config import BitBotConfigError, bitbot_section


logger = logging.getLogger(__name__)

NOTIFY_CHANGE = "change"
NOTIFY_EVERY_CANDLE = "every_candle"
NOTIFY_OFF = "off"
NOTIFY_MODES = (NOTIFY_CHANGE, NOTIFY_EVERY_CANDLE, NOTIFY_OFF)
"""Values of ``bitbot.decisions.notify``."""

DIRECTION_PREFIX = "%-sig_"
DIRECTION_SUFFIX = "_direction"
"""A registered strategy's direction column: ``<RegistryEntry.feature_prefix>_direction``."""
_DIRECTION_RE = re.compile(rf"^{re.escape(DIRECTION_PREFIX)}(.+){re.escape(DIRECTION_SUFFIX)}$")
_MARKDOWN_SPECIALS = re.compile(r"([_*`\[])")
SEPARATOR = " · "
"""Between the groups of the second line."""


def decision_notify_mode(config: dict[str, Any]) -> str:
    """
    :param config: Freqtrade configuration
    :return: ``bitbot.decisions.notify`` (``change`` when absent)
    :raises BitBotConfigError: an unknown key in ``bitbot.decisions`` or an unknown mode
    """
    section = bitbot_section(config, "decisions", {"notify"})
    mode = section.get("notify", NOTIFY_CHANGE)
    if mode not in NOTIFY_MODES:
        raise BitBotConfigError(
            f"bitbot.decisions.notify is {mode!r}; expected one of {', '.join(NOTIFY_MODES)}."
        )
    return mode


def describe_exposure(exposure: float) -> str:
    """
    :param exposure: target exposure, -1 .. 1 (fraction of the full stake, sign = side)
    :return: ``LONG 1.0x``, ``SHORT 0.5x`` or ``FLAT``
    """
    if exposure > 0:
        return f"LONG {exposure:.1f}x"
    if exposure < 0:
        return f"SHORT {-exposure:.1f}x"
    return "FLAT"


def _previous(exposure: float, previous: float | None) -> str:
    if previous is None:
        return "first decision"
    if previous == exposure:
        return "unchanged"
    if previous == 0:
        return "was flat"
    return f"was {describe_exposure(previous).lower()}"


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def format_decision(
    pair: str,
    candle_date: datetime,
    exposure: float,
    previous_exposure: float | None,
    directions: Mapping[str, int],
    model_id: str | None,
) -> str:
    """
    The decision message (plain text; see :func:`telegram_markdown` for Telegram).

    :param pair: the traded pair, e.g. ``BTC/USD:USD``
    :param candle_date: open time of the last closed candle the decision is based on (UTC)
    :param exposure: the new target exposure, -1 .. 1
    :param previous_exposure: the previous candle's decision, None for the first one after a
        start
    :param directions: each registered strategy's direction on that candle (-1, 0, 1), in
        registry order (:func:`last_directions`)
    :param model_id: the model that decided, None to leave the model line out
    :return: two or three lines: decision, agreement, model
    """
    lines = [
        f"{pair} {candle_date:%Y-%m-%d %H:%M} UTC: {describe_exposure(exposure)} "
        f"({_previous(exposure, previous_exposure)})"
    ]
    side = _sign(exposure)
    groups: dict[int, list[str]] = {-1: [], 0: [], 1: []}
    for name, direction in directions.items():
        groups[_sign(direction)].append(name)
    if side == 0:
        parts = [("agree", groups[0]), ("long", groups[1]), ("short", groups[-1])]
    else:
        parts = [("agree", groups[side]), ("against", groups[-side]), ("flat", groups[0])]
    if directions:
        lines.append(
            SEPARATOR.join(
                f"{label}: {', '.join(names) or 'none'}"
                for label, names in parts
                if names or label == "agree"
            )
        )
    if model_id is not None:
        lines.append(f"model: {model_id}")
    return "\n".join(lines)


def last_directions(dataframe: DataFrame, names: Iterable[str] | None = None) -> dict[str, int]:
    """
    The registered strategies' directions on the last row of an analysed dataframe (or of the
    frame :meth:`meta_strategy.signals.engine.SignalEngine.compute` returns).

    :param dataframe: frame with ``%-sig_<name>_direction`` columns
    :param names: the strategies to read, in this order (default: every direction column, in
        column order); names without a column are left out
    :return: name -> -1, 0 or 1; strategies whose direction is NaN (still in their lookback)
        are left out; empty for an empty frame
    """
    if dataframe.empty:
        return {}
    if names is None:
        names = [m.group(1) for c in dataframe.columns if (m := _DIRECTION_RE.match(str(c)))]
    last = dataframe.iloc[-1]
    directions: dict[str, int] = {}
    for name in names:
        column = f"{DIRECTION_PREFIX}{name}{DIRECTION_SUFFIX}"
        if column not in dataframe.columns:
            continue
        value = float(last[column])
        if not math.isnan(value):
            directions[name] = _sign(value)
    return directions


def telegram_markdown(text: str) -> str:
    """
    Freqtrade's Telegram RPC sends every message with the legacy ``Markdown`` parse mode, in
    which ``_ * ` [`` open entities: an unpaired one (``bband_rsi``) makes Telegram refuse the
    whole message. Escape them.

    :param text: plain text
    :return: the text with ``_``, ``*``, the backtick and ``[`` escaped by a backslash
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def one_line(text: str) -> str:
    """:return: the message's lines joined by `` | `` (for the log)"""
    return " | ".join(text.splitlines())
