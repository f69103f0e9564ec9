"""
Volatility-targeted position sizing, for every shipped strategy (``bitbot.sizing``).

A position of a fraction ``s`` of the stake in a market whose annualised volatility is ``sigma``
carries a volatility of about ``s x sigma``; holding ``s = target / sigma`` keeps it at the
target whatever the market's mood: smaller positions in a crash, fuller ones in a calm trend.
Moskowitz, Ooi & Pedersen (2012, "Time series momentum") size every position this way; Harvey
et al. (2018, "The impact of volatility targeting") find it raises the Sharpe ratio of risk
assets and cuts their worst drawdowns. The volatility is the standard deviation of the last
``volatility_days`` of log returns of the strategy's candles, annualised, up to the entry
candle's close. The scale is capped at ``max_scale`` (at most 1: never more than the stake the
config gives a trade; raise ``bitbot.leverage`` for more) and applied to the stake of each
entry, and of each position adjustment of the strategies that size by exposure.

Config::

    "bitbot": {"sizing": {"target_volatility": 0.4, "volatility_days": 30, "max_scale": 1.0}}

``target_volatility`` null (the default) turns it off: every entry stakes the full stake.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from freqtrade.exchange import timeframe_to_seconds
from pandas import Series

from meta_strategy.trading.config import BitBotConfigError, bitbot_section


logger = logging.getLogger(__name__)

SIZING_KEYS = frozenset({"target_volatility", "volatility_days", "max_scale"})
"""Keys of ``bitbot.sizing``."""


def _number(section: dict[str, Any], key: str, default: float | None) -> float | None:
    value = section.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise BitBotConfigError(f"bitbot.sizing.{key} must be a number, got {value!r}.")
    return float(value)


@dataclass(frozen=True)
class VolatilityTarget:
    """
    :ivar target_volatility: annualised volatility a position aims at (e.g. 0.4); None: off
    :ivar volatility_days: trailing days of the realised volatility
    :ivar max_scale: the largest share of the stake a trade takes (0 < max_scale <= 1)
    """

    target_volatility: float | None = None
    volatility_days: int = 30
    max_scale: float = 1.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VolatilityTarget:
        """
        :param config: Freqtrade configuration (``bitbot.sizing``)
        :raises BitBotConfigError: an unknown key or a value out of range, named
        """
        section = bitbot_section(config, "sizing", set(SIZING_KEYS))
        target = _number(section, "target_volatility", None)
        days = _number(section, "volatility_days", 30)
        scale = _number(section, "max_scale", 1.0)
        if target is not None and not 0.0 < target <= 5.0:
            raise BitBotConfigError(
                f"bitbot.sizing.target_volatility is {target:g}; expected an annualised "
                "volatility above 0 and at most 5 (e.g. 0.4 for 40 %), or null for off."
            )
        if days is None or days != int(days) or not 2 <= days <= 365:
            raise BitBotConfigError(
                f"bitbot.sizing.volatility_days is {days!r}; expected whole days from 2 to 365."
            )
        if scale is None or not 0.0 < scale <= 1.0:
            raise BitBotConfigError(
                f"bitbot.sizing.max_scale is {scale!r}; expected a share of the stake above 0 "
                "and at most 1 (raise bitbot.leverage for larger positions)."
            )
        return cls(target, int(days), scale)

    @property
    def active(self) -> bool:
        """Whether positions are sized by volatility."""
        return self.target_volatility is not None

    def warmup_candles(self, timeframe: str) -> int:
        """:return: candles the volatility needs at ``timeframe`` (its returns and one more);
        0 when sizing is off"""
        if self.target_volatility is None:
            return 0
        per_day = 86400 / timeframe_to_seconds(timeframe)
        return max(2, round(self.volatility_days * per_day)) + 1

    def scale(self, close: Series, timeframe: str) -> Series:
        """
        ``min(max_scale, target / sigma_t)`` with ``sigma_t`` the annualised standard deviation
        of the log returns of the last ``volatility_days`` candles up to ``t``; ``max_scale``
        until the window is full or where the price did not move; 1 when sizing is off.

        :param close: closes of the strategy's candles
        :param timeframe: their timeframe
        :return: the share of the stake per candle
        """
        if self.target_volatility is None:
            return Series(1.0, index=close.index)
        per_day = 86400 / timeframe_to_seconds(timeframe)
        window = self.warmup_candles(timeframe) - 1
        returns = np.log(close.astype(np.float64)).diff()
        sigma = returns.rolling(window).std() * np.sqrt(365.0 * per_day)
        scale = (self.target_volatility / sigma.where(sigma > 0)).clip(upper=self.max_scale)
        return scale.fillna(self.max_scale)


class VolatilitySizing:
    """
    Strategy mixin: with ``bitbot.sizing.target_volatility`` set, each entry stakes
    :meth:`VolatilityTarget.scale` of the proposed stake at the last closed candle. Put it
    before ``IStrategy`` in the bases.
    """

    config: dict[str, Any]
    timeframe: str
    dp: Any

    startup_candle_count: int

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)  # type: ignore[call-arg]
        self.volatility_target = VolatilityTarget.from_config(config)
        # the volatility is known from the first candle traded
        warmup = self.volatility_target.warmup_candles(self.timeframe)
        self.startup_candle_count = max(self.startup_candle_count, warmup)

    def volatility_scale(self, pair: str) -> float:
        """:return: the share of the stake for a trade now (1 when sizing is off)"""
        if not self.volatility_target.active:
            return 1.0
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if dataframe.empty:
            return self.volatility_target.max_scale
        return float(self.volatility_target.scale(dataframe["close"], self.timeframe).iloc[-1])

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """:return: the proposed stake times :meth:`volatility_scale`"""
        return proposed_stake * self.volatility_scale(pair)
