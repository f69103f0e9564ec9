"""
The ``bitbot`` section of Freqtrade's configuration: one reader for its sub-sections
(:func:`bitbot_section`), the check of its keys (:func:`check_bitbot_keys`: a typo such as
``leverag`` is an error with a suggestion, never dropped without a word) and the error every bad
value raises (:class:`BitBotConfigError`).
"""

from __future__ import annotations

import logging
from typing import Any

from freqtrade.exceptions import ConfigurationError

from meta_strategy.config_keys import check_known_keys


logger = logging.getLogger(__name__)


class BitBotConfigError(ConfigurationError, ValueError):
    """A value in the ``bitbot`` section of the configuration is wrong."""


BITBOT_KEYS = frozenset(
    {
        "leverage",  # trading.leverage
        "slippage_bps",  # rl.costs
        "fee_without_slippage",  # set by rl.costs.fold_slippage
        "risk",  # trading.risk
        "sizing",  # trading.sizing
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


def check_bitbot_keys(config: dict[str, Any]) -> None:
    """
    :param config: Freqtrade configuration
    :raises BitBotConfigError: ``bitbot`` is not an object, or holds an unknown key (with the
        closest known one)
    """
    section = config.get("bitbot") or {}
    if not isinstance(section, dict):
        raise BitBotConfigError(f"bitbot must be an object, got {section!r}.")
    check_known_keys(section, BITBOT_KEYS, "the bitbot section", BitBotConfigError)


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
    check_known_keys(section, known, f"bitbot.{name}", BitBotConfigError)
    return section
