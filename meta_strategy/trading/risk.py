"""
Risk controls that the meta-learner cannot override.

The daily loss limit and the maximum drawdown hold for every shipped strategy
(:class:`~meta_strategy.trading.risk_controls.RiskControls`); all of them sit in
:class:`~meta_strategy.trading.exposure.TargetExposureStrategy`, between the exposure a model (or
a vote) asks for and the orders Freqtrade sends. They are configured under ``bitbot.risk``
(every key optional; :class:`RiskLimits` holds the defaults):

=========================  ====================================================================
``max_leverage``           ceiling for ``bitbot.leverage``; a config above it does not start
``max_exposure``           cap on ``|target exposure|`` (1 = the whole stake)
``daily_loss_limit``       loss from the UTC day's starting equity that closes the position and
                           blocks entries until the next UTC day (0.05 = 5 %)
``max_drawdown``           fall from the equity peak that closes the position and blocks entries
                           for ``drawdown_cooldown_hours``; the peak then restarts from the
                           equity of that moment
``stop_atr_multiple``      volatility-scaled stop: ``k x ATR(atr_period)`` away from the price,
                           trailing (it only tightens); 0 (the default) turns it off: on the
                           validation period an hourly 4 x ATR(14) stop cut every position that
                           holds for days (the meta layer as deployed: Sharpe -1.55 against
                           0.81 without it, follow the leader 0.01 against 0.71)
``max_exposure_by_regime`` a lower cap in some market regimes, e.g. ``{"volatile": 0.5}``
                           (regimes of :mod:`meta_strategy.signals.regimes`, known at each
                           candle's close); the caps apply wherever ``max_exposure`` does
``apply_in_backtests``     also in backtesting (default off: backtests and the research report
                           measure the strategies themselves, like buy-and-hold beside them;
                           dry-run and live always apply the limits)
=========================  ====================================================================

After a protective exit (the stop, a liquidation, the daily loss limit or the maximum drawdown:
:func:`protective_exit`) the position stays flat until the strategy re-arms: a candle whose
target exposure differs from the one before, or, for the MetaStrategy, one of the agent's
decision candles; for a rule strategy, its entry signal switching on again
(:func:`rearmed_since`). Without it the unchanged target re-enters on the next
candle, and a stop-out, re-entry, stop-out churn pays fees each time.

Equity is the wallet's total plus the open trade's unrealised profit, checked on every candle
(``custom_exit``) and before every entry (``confirm_trade_entry``); the same code runs in
backtesting, dry-run and live.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.config_keys import check_known_keys
from meta_strategy.signals.regimes import REGIMES
from meta_strategy.trading.config import BitBotConfigError, bitbot_section


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RiskLimits:
    """The limits of ``bitbot.risk`` (see the module docstring)."""

    max_leverage: float = 3.0
    max_exposure: float = 1.0
    daily_loss_limit: float = 0.05
    max_drawdown: float = 0.25
    drawdown_cooldown_hours: float = 168.0
    stop_atr_multiple: float = 0.0
    atr_period: int = 14
    apply_in_backtests: bool = False
    max_exposure_by_regime: dict[str, float] = field(default_factory=dict)

    _BOUNDS = {
        "max_leverage": (1.0, 10.0),
        "max_exposure": (0.0, 1.0),
        "daily_loss_limit": (0.0, 1.0),
        "max_drawdown": (0.0, 1.0),
        "drawdown_cooldown_hours": (0.0, 24 * 365),
        "stop_atr_multiple": (0.0, 100.0),
        "atr_period": (1, 1000),
    }

    def __post_init__(self) -> None:
        if not isinstance(self.apply_in_backtests, bool):
            raise BitBotConfigError(
                f"bitbot.risk.apply_in_backtests must be true or false, got "
                f"{self.apply_in_backtests!r}."
            )
        self._check_regime_caps()
        for f in fields(self):
            if f.name in ("apply_in_backtests", "max_exposure_by_regime"):
                continue
            value = getattr(self, f.name)
            low, high = self._BOUNDS[f.name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BitBotConfigError(f"bitbot.risk.{f.name} must be a number, got {value!r}.")
            if not (low <= value <= high) or (f.name == "max_exposure" and value == 0):
                raise BitBotConfigError(
                    f"bitbot.risk.{f.name} is {value}; expected a value in "
                    f"{'(' if f.name == 'max_exposure' else '['}{low:g}, {high:g}]."
                )

    def _check_regime_caps(self) -> None:
        """:raises BitBotConfigError: not an object, an unknown regime or a cap outside (0, 1]"""
        caps = self.max_exposure_by_regime
        where = "bitbot.risk.max_exposure_by_regime"
        if not isinstance(caps, dict):
            raise BitBotConfigError(f"{where} must be an object of regime: cap, got {caps!r}.")
        check_known_keys(caps, REGIMES, where, BitBotConfigError)
        for regime, cap in caps.items():
            if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0 < cap <= 1:
                raise BitBotConfigError(f"{where}.{regime} is {cap!r}; expected a value in (0, 1].")

    def exposure_caps(self, regimes: Any) -> Any:
        """
        :param regimes: regime code per candle (:func:`~meta_strategy.signals.regimes.
            market_regimes`; NaN while unknown)
        :return: the exposure cap per candle: ``max_exposure``, lowered in the capped regimes
        """
        codes = np.asarray(regimes, dtype=np.float64)
        caps = np.full(codes.shape, float(self.max_exposure))
        for i, name in enumerate(REGIMES):
            if name in self.max_exposure_by_regime:
                caps[codes == i] = min(self.max_exposure, self.max_exposure_by_regime[name])
        return caps

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RiskLimits:
        """
        :param config: Freqtrade configuration
        :return: the limits of ``bitbot.risk``, defaults for the keys it leaves out
        :raises BitBotConfigError: an unknown key or a value out of range
        """
        section = bitbot_section(config, "risk", {f.name for f in fields(cls)})
        limits = cls(**section)
        return cls(**{**limits.__dict__, "atr_period": int(limits.atr_period)})

    @property
    def regime_capped(self) -> bool:
        """:return: whether any market regime lowers the exposure cap"""
        return bool(self.max_exposure_by_regime)


@dataclass(frozen=True)
class RiskVerdict:
    """What the risk state allows now."""

    flatten: bool
    reason: str | None = None


class RiskState:
    """
    Equity bookkeeping for the daily loss limit and the maximum drawdown. Feed it the equity
    with :meth:`update` as time passes; it says when to go flat and when entries are blocked.
    """

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self.day: datetime | None = None
        self.day_start_equity = math.nan
        self.peak = math.nan
        self.blocked_until: datetime | None = None
        self.block_reason: str | None = None

    def update(self, now: datetime, equity: float) -> RiskVerdict:
        """
        :param now: current time (UTC)
        :param equity: current account equity
        :return: whether to close the position now, and why
        """
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.day != day:
            self.day, self.day_start_equity = day, equity
        if self.blocked_until is not None and now >= self.blocked_until:
            logger.info("Risk: %s block ended at %s; trading resumes.", self.block_reason, now)
            if self.short_reason == "max_drawdown":
                self.peak = equity  # the drawdown is measured afresh after its cool-down
            self.blocked_until, self.block_reason = None, None
        if math.isnan(self.peak) or equity > self.peak:
            self.peak = equity
        if self.blocked_until is not None:
            return RiskVerdict(True, self.block_reason)
        limits = self.limits
        if equity <= self.day_start_equity * (1.0 - limits.daily_loss_limit):
            self._block(
                now,
                day + timedelta(days=1),
                f"daily_loss: equity {equity:.2f} is {1 - equity / self.day_start_equity:.2%} "
                f"below the day's start {self.day_start_equity:.2f} "
                f"(limit {limits.daily_loss_limit:.2%})",
            )
            return RiskVerdict(True, self.block_reason)
        if equity <= self.peak * (1.0 - limits.max_drawdown):
            self._block(
                now,
                now + timedelta(hours=limits.drawdown_cooldown_hours),
                f"max_drawdown: equity {equity:.2f} is {1 - equity / self.peak:.2%} below the "
                f"peak {self.peak:.2f} (limit {limits.max_drawdown:.2%})",
            )
            return RiskVerdict(True, self.block_reason)
        return RiskVerdict(False)

    def _block(self, now: datetime, until: datetime, reason: str) -> None:
        self.blocked_until, self.block_reason = until, reason
        logger.warning("Risk: %s. Flat and no new trades until %s.", reason, until)

    @property
    def short_reason(self) -> str | None:
        """:return: the block's kind (``daily_loss`` / ``max_drawdown``), None when trading"""
        return self.block_reason.split(":", 1)[0] if self.block_reason else None


PROTECTIVE_EXITS = frozenset(
    {"stop_loss", "trailing_stop_loss", "stoploss_on_exchange", "liquidation"}
)
"""Freqtrade's exit reasons of a stop or a liquidation."""
RISK_EXIT_PREFIX = "risk_"
"""Exit reasons of the risk limits (``risk_daily_loss``, ``risk_max_drawdown``)."""


def protective_exit(exit_reason: str | None) -> bool:
    """
    :param exit_reason: a closed trade's exit reason
    :return: whether a stop, a liquidation or a risk limit closed it (not the strategy's signal)
    """
    return bool(exit_reason) and (
        exit_reason in PROTECTIVE_EXITS or exit_reason.startswith(RISK_EXIT_PREFIX)
    )


def rearmed_since(candle_closes: Any, rearm: Any, exit_time: datetime) -> bool:
    """
    :param candle_closes: close time of each analysed candle (UTC)
    :param rearm: per candle, whether it re-arms entries (a new target or a decision)
    :param exit_time: when the protective exit filled (naive times are UTC)
    :return: whether a re-arming candle closed after the exit
    """
    closes = pd.DatetimeIndex(pd.to_datetime(candle_closes, utc=True))
    exit_at = pd.Timestamp(exit_time)
    exit_at = exit_at.tz_localize("UTC") if exit_at.tzinfo is None else exit_at
    return bool(np.asarray(rearm, dtype=bool)[closes > exit_at].any())


def volatility_stop_price(
    current_rate: float, atr: float, multiple: float, is_short: bool
) -> float:
    """
    :return: the price ``multiple x ATR`` on the losing side of ``current_rate``
    """
    return current_rate + multiple * atr if is_short else current_rate - multiple * atr
