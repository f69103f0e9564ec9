"""
Futures behaviour shared by BitBot's strategies: leverage from the configuration.

Leverage is set in the ``bitbot`` section of the configuration (``"leverage": 1.0`` by default),
so one config switch changes it for every strategy; Freqtrade caps it at the exchange's
maximum for the position size (the leverage tiers of the markets snapshot). Every strategy with
this mixin (all the shipped ones) refuses to start, in every mode, with a leverage above
``bitbot.risk.max_leverage`` or an unknown key in the ``bitbot`` section.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from meta_strategy.trading.config import BitBotConfigError, check_account, check_bitbot_keys
from meta_strategy.trading.risk import RiskLimits


logger = logging.getLogger(__name__)

DEFAULT_LEVERAGE = 1.0

MAX_CONFIGURABLE_LEVERAGE = 10.0
"""A ceiling for the config value: BitBot's strategies are not built for more than 10x."""


def configured_leverage(config: dict[str, Any]) -> float:
    """
    :param config: Freqtrade configuration
    :return: ``bitbot.leverage`` (default 1.0)
    :raises BitBotConfigError: not a number, or outside [1, MAX_CONFIGURABLE_LEVERAGE]
    """
    value = (config.get("bitbot") or {}).get("leverage", DEFAULT_LEVERAGE)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BitBotConfigError(f"bitbot.leverage must be a number, got {value!r}.")
    if not 1.0 <= float(value) <= MAX_CONFIGURABLE_LEVERAGE:
        raise BitBotConfigError(
            f"bitbot.leverage is {value}; expected a value from 1 to {MAX_CONFIGURABLE_LEVERAGE:g}."
        )
    return float(value)


class ConfiguredLeverage:
    """
    Strategy mixin: the ``leverage()`` callback returns ``bitbot.leverage`` from the config,
    capped at the exchange's ``max_leverage``. Put it before ``IStrategy`` in the bases.
    """

    config: dict[str, Any]
    risk_limits: RiskLimits
    """``bitbot.risk``, read once at start-up"""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)  # type: ignore[call-arg]
        # bad values stop the bot at start-up, in every mode and for every shipped strategy
        check_bitbot_keys(config)
        check_account(config)
        leverage = configured_leverage(config)
        self.risk_limits = RiskLimits.from_config(config)
        ceiling = self.risk_limits.max_leverage
        if leverage > ceiling:
            raise BitBotConfigError(
                f"bitbot.leverage is {leverage:g}, above bitbot.risk.max_leverage {ceiling:g}; "
                "lower the leverage or raise the limit."
            )

    def leverage(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """
        :param max_leverage: the exchange's maximum for this pair and stake
        :return: the configured leverage, at most ``max_leverage``
        """
        return min(configured_leverage(self.config), max_leverage)
