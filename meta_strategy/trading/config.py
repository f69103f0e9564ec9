"""
The ``bitbot`` section of Freqtrade's configuration: one reader for its sub-sections
(:func:`bitbot_section`), the check of its keys (:func:`check_bitbot_keys`: a typo such as
``leverag`` is an error with a suggestion, never dropped without a word) and the error every bad
value raises (:class:`BitBotConfigError`).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from typing import Any

from freqtrade.exceptions import ConfigurationError


logger = logging.getLogger(__name__)


class BitBotConfigError(ConfigurationError, ValueError):
    """A value in the ``bitbot`` section of the configuration is wrong."""


BITBOT_KEYS = frozenset(
    {
        "leverage",  # trading.leverage
        "slippage_bps",  # rl.costs
        "fee_without_slippage",  # set by rl.costs.fold_slippage
        "risk",  # trading.risk
        "safe_mode",  # trading.safe_mode
        "decisions",  # trading.decisions
        "registry",  # signals.registry
        "data",  # data.checks.DataPolicy
        "markets",  # data.markets
        "markets_snapshot",  # data.markets
        "hyperopt_loss",  # hyperopts/CalmarDrawdownLoss
        # written by `bitbot models promote` (models.promotion.promoted_overlay)
        "model_id",
        "model_path",
        "source_model_path",
        "source_identifier",
        "config_hash",
        "trained_until",
        "pairs",
        "promoted_at",
        "promoted_inputs",
    }
)
"""Every key the ``bitbot`` section may hold."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """:return: `` (did you mean 'x'?)`` for the closest known name, or an empty string"""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(section: dict[str, Any], known: Iterable[str], where: str) -> None:
    """:raises BitBotConfigError: ``where`` (e.g. ``bitbot.risk``) holds a key not in ``known``"""
    known = sorted(known)
    unknown = sorted(set(section) - set(known))
    if unknown:
        hints = ", ".join(f"{key!r}{did_you_mean(key, known)}" for key in unknown)
        raise BitBotConfigError(f"{where} has unknown key(s) {hints}; known: {', '.join(known)}.")


def check_bitbot_keys(config: dict[str, Any]) -> None:
    """
    :param config: Freqtrade configuration
    :raises BitBotConfigError: ``bitbot`` is not an object, or holds an unknown key (with the
        closest known one)
    """
    section = config.get("bitbot") or {}
    if not isinstance(section, dict):
        raise BitBotConfigError(f"bitbot must be an object, got {section!r}.")
    _check_keys(section, BITBOT_KEYS, "the bitbot section")


def check_account(config: dict[str, Any]) -> None:
    """
    :param config: Freqtrade configuration
    :raises BitBotConfigError: a dry-run wallet that is not a positive number (Freqtrade would
        trade from it anyway)
    """
    wallet = config.get("dry_run_wallet")
    if isinstance(wallet, dict):
        values = list(wallet.values())
    else:
        values = [] if wallet is None else [wallet]
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise BitBotConfigError(f"dry_run_wallet must be a positive amount, got {wallet!r}.")


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
    _check_keys(section, known, f"bitbot.{name}")
    return section
