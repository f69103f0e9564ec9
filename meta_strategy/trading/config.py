"""
The ``bitbot`` section of Freqtrade's configuration: one reader for its sub-sections
(:func:`bitbot_section`) and the error every bad value raises (:class:`BitBotConfigError`).
"""

from __future__ import annotations

import logging
from typing import Any

from freqtrade.exceptions import ConfigurationError


logger = logging.getLogger(__name__)


class BitBotConfigError(ConfigurationError, ValueError):
    """A value in the ``bitbot`` section of the configuration is wrong."""


def bitbot_section(config: dict[str, Any], name: str, known: set[str]) -> dict[str, Any]:
    """
    :param config: Freqtrade configuration
    :param name: a section of ``bitbot`` (e.g. ``risk``)
    :param known: the keys it may hold
    :return: the section (empty when absent)
    :raises BitBotConfigError: not an object, or an unknown key
    """
    section = (config.get("bitbot") or {}).get(name) or {}
    if not isinstance(section, dict):
        raise BitBotConfigError(f"bitbot.{name} must be an object, got {section!r}.")
    unknown = sorted(set(section) - known)
    if unknown:
        raise BitBotConfigError(
            f"bitbot.{name} has unknown key(s) {unknown}; known: {', '.join(sorted(known))}."
        )
    return section
