"""
Strategies that listen to the registry and hold a target exposure.

:class:`TargetExposureStrategy` is the shared base of the MetaStrategy (the exposure comes from
the learned model) and the vote baselines (it comes from a vote): it loads the registry, runs
the registered strategies on first use, and turns the ``target_exposure`` column its subclass
computes into Freqtrade entries and exits: long above 0, short below 0, flat at 0. On the way
it applies the risk controls of :mod:`meta_strategy.trading.risk`, which no model can override:
the daily loss limit and the maximum drawdown that every shipped strategy has
(:mod:`meta_strategy.trading.risk_controls`), and the exposure cap and the volatility-scaled stop
on top of them; and, in dry-run and live, safe mode (:mod:`meta_strategy.trading.safe_mode`).
In dry-run and live it also says what it decided on each new candle, through Freqtrade's
message API (:mod:`meta_strategy.trading.decisions`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy, stoploss_from_absolute
from pandas import DataFrame, Series

from meta_strategy.rl.costs import stake_fraction
from meta_strategy.signals.engine import SignalEngine
from meta_strategy.signals.indicators import atr
from meta_strategy.signals.regimes import market_regimes
from meta_strategy.signals.registry import Registry, load_configured_registry
from meta_strategy.trading.config import BitBotConfigError
from meta_strategy.trading.decisions import (
    NOTIFY_CHANGE,
    NOTIFY_OFF,
    decision_notify_mode,
    format_decision,
    last_directions,
    one_line,
    telegram_markdown,
)
from meta_strategy.trading.leverage import ConfiguredLeverage
from meta_strategy.trading.market_inputs import MarketInputs
from meta_strategy.trading.risk import volatility_stop_price
from meta_strategy.trading.risk_controls import RiskControls
from meta_strategy.trading.sizing import VolatilitySizing


logger = logging.getLogger(__name__)

EXPOSURE_TAG = "target_exposure"
"""Column of the analysed dataframe, and key of a trade's custom data, holding the exposure."""
RISK_ATR = "risk_atr"
"""Column with the ATR of the volatility-scaled stop."""
MARKET_REGIME = "market_regime"
"""Column of the market regime code (0 .. 3, :data:`meta_strategy.signals.regimes.REGIMES`)
when ``bitbot.risk.max_exposure_by_regime`` caps the exposure by regime."""
DECISION_TAG = "decision_candle"
"""Optional column a subclass sets: True on the candles its model decides after (they re-arm
entries after a protective exit as a new target does)."""
REARM_TAG = "rearm"
"""Column: True on the candles after whose close an entry may follow a protective exit."""


class TargetExposureStrategy(
    MarketInputs, RiskControls, VolatilitySizing, ConfiguredLeverage, IStrategy
):
    """
    Base class: subclasses set ``dataframe["target_exposure"]`` (-1 .. 1) in
    ``populate_indicators``; ``entry_tag_prefix`` names their entries; ``extra_warmup`` adds
    candles of their own features to the registry's longest lookback.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 100}
    stoploss = -0.99
    use_custom_stoploss = True
    use_exit_signal = True
    startup_candle_count = 1000
    entry_tag_prefix = "target"
    extra_warmup = 0
    size_by_exposure = False
    """True: stake ``|target|`` of the full stake and follow a changed level with a position
    adjustment (half levels), as the training environment sizes its positions; needs
    ``position_adjustment_enable``. False: every entry stakes the full stake."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        configured = config.get("timeframe")
        if configured and configured != self.timeframe:  # Freqtrade would override ours later
            raise BitBotConfigError(
                f"timeframe {configured!r} in the config: {type(self).__name__} and its strategy "
                f"registry run on {self.timeframe} candles; set 'timeframe' to "
                f"{self.timeframe!r} or leave it out."
            )
        self.registry: Registry = load_configured_registry(config, self.timeframe)
        self.startup_candle_count = max(
            self.registry.max_lookback_hours + self.extra_warmup,
            self.volatility_target.warmup_candles(self.timeframe),
        )
        self._signal_engine: SignalEngine | None = None
        self.stake_fraction = stake_fraction(config)
        self.decision_notify = decision_notify_mode(config)
        self._decisions: dict[str, tuple[datetime, float]] = {}

    def apply_exposure_cap(self, dataframe: DataFrame) -> DataFrame:
        """
        Cap the target exposure at ``bitbot.risk.max_exposure`` (or the lower cap of the
        candle's market regime, ``max_exposure_by_regime``) and add the ATR of the volatility
        stop. Called first in :meth:`populate_entry_trend`, after the subclass set the target.
        """
        cap = self.risk_limits.max_exposure
        if self.risk_limits.regime_capped:  # lower caps in some market regimes
            dataframe[MARKET_REGIME] = market_regimes(dataframe)["regime"]
            cap = self.risk_limits.exposure_caps(dataframe[MARKET_REGIME])
        target = dataframe[EXPOSURE_TAG].fillna(0.0).clip(-cap, cap)
        dataframe[EXPOSURE_TAG] = target
        dataframe[RISK_ATR] = atr(dataframe, self.risk_limits.atr_period)
        rearm = target.ne(target.shift())
        if DECISION_TAG in dataframe:
            rearm |= dataframe[DECISION_TAG].fillna(False).astype(bool)
        dataframe[REARM_TAG] = rearm
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self.apply_exposure_cap(dataframe)
        target = dataframe[EXPOSURE_TAG]
        prefix = self.entry_tag_prefix
        dataframe.loc[target > 0, ["enter_long", "enter_tag"]] = (1, f"{prefix}_long")
        dataframe.loc[target < 0, ["enter_short", "enter_tag"]] = (1, f"{prefix}_short")
        if self.trading_live and self.dp is not None and not dataframe.empty:
            self.report_decision(dataframe, metadata["pair"])
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        target = dataframe[EXPOSURE_TAG]
        dataframe.loc[target <= 0, "exit_long"] = 1
        dataframe.loc[target >= 0, "exit_short"] = 1
        return dataframe

    # ------------------------------------------------------------------ sizing

    def last_target(self, pair: str) -> float:
        """:return: the target exposure of the last analysed (closed) candle, 0 before any"""
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if dataframe.empty or EXPOSURE_TAG not in dataframe:
            return 0.0
        return float(dataframe[EXPOSURE_TAG].iloc[-1])

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
        """
        :return: the stake times the volatility scale (``bitbot.sizing``), and with
            :attr:`size_by_exposure` times ``|target|`` (e.g. half of it)
        """
        stake = proposed_stake * self.volatility_scale(pair)
        if not self.size_by_exposure:
            return stake
        return stake * min(abs(self.last_target(pair)), 1.0)

    def order_filled(
        self, pair: str, trade: Trade, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Remember the exposure the trade now holds (sizing, and the model's next observation)."""
        trade.set_custom_data(EXPOSURE_TAG, self.last_target(pair))

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> float | None:
        """
        With :attr:`size_by_exposure`, when the target level changed on the trade's side (e.g.
        from 0.5 to 1): trade to ``|target| x tradable_balance_ratio x equity`` of margin at the
        current rate, the environment's rule
        (:class:`~meta_strategy.rl.env.FuturesTradingEnv`), times the volatility scale
        (``bitbot.sizing``). A flip or a flat target is left to
        the exit signal; nothing changes while safe mode or a risk limit holds.

        :return: stake to add (> 0) or take out (< 0), None for no change
        """
        if not self.size_by_exposure or trade.has_open_orders:
            return None
        if self.adding_blocked():
            return None
        target = self.last_target(trade.pair) * (-1.0 if trade.is_short else 1.0)
        held = abs(float(trade.get_custom_data(EXPOSURE_TAG, default=1.0)))
        equity = self._equity(trade, current_rate)
        if target <= 0 or target == held or equity is None:
            return None
        wanted = target * self.volatility_scale(trade.pair) * self.stake_fraction * equity
        return wanted - trade.amount * current_rate / trade.leverage

    # ------------------------------------------------------------------ risk controls

    def rearm_candles(self, dataframe: DataFrame) -> Series | None:
        """:return: the :data:`REARM_TAG` column (a new target or a decision candle), None
        before :meth:`apply_exposure_cap` added it"""
        return dataframe[REARM_TAG] if REARM_TAG in dataframe else None

    def custom_stoploss(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        """
        Volatility-scaled trailing stop: ``stop_atr_multiple`` ATRs on the losing side of the
        price (Freqtrade only ever tightens a stop). Off when the multiple is 0.
        """
        multiple = self.risk_limits.stop_atr_multiple
        if multiple <= 0 or not self.risk_active:
            return None
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if dataframe.empty or RISK_ATR not in dataframe:
            return None
        value = float(dataframe[RISK_ATR].iloc[-1])
        if not value > 0:
            return None
        stop = volatility_stop_price(current_rate, value, multiple, trade.is_short)
        return stoploss_from_absolute(
            stop, current_rate, is_short=trade.is_short, leverage=trade.leverage
        )

    def bot_start(self, **kwargs: Any) -> None:
        """A fresh risk, safe-mode and decision state for every run (hyperopt reuses the
        strategy)."""
        super().bot_start(**kwargs)
        self._decisions = {}

    # ------------------------------------------------------------------ decision messages

    def decision_model_id(self, pair: str) -> str | None:
        """
        :param pair: the traded pair
        :return: the model behind the decisions, named in the decision message (None: no model
            line; the vote baselines have none)
        """
        return None

    def decision_directions(self, dataframe: DataFrame, pair: str) -> dict[str, int]:
        """
        The registered strategies' directions on the last candle: from the analysed dataframe's
        ``%-sig_<name>_direction`` columns when it has them, else computed from its candles
        (FreqAI drops the ``%`` feature columns before it returns the dataframe, and the vote
        strategies keep only the vote; the same candles give the same signals).

        :param dataframe: the analysed dataframe
        :param pair: the pair
        :return: name -> -1, 0 or 1, in registry order
        """
        names = [entry.name for entry in self.registry.enabled]
        directions = last_directions(dataframe, names)
        if not directions and names:
            directions = last_directions(self.registry_signals(dataframe, pair), names)
        return directions

    def report_decision(self, dataframe: DataFrame, pair: str) -> str | None:
        """
        Dry-run / live: once per new candle, note the target exposure of the last closed candle
        and, as ``bitbot.decisions.notify`` asks, log the decision message (``bitbot decision:
        ...``, at the moment of the decision) and send it through Freqtrade's message API.

        :param dataframe: the analysed dataframe with the capped ``target_exposure``
        :param pair: the pair
        :return: the message when one was sent, else None
        """
        last = dataframe.iloc[-1]
        candle = last["date"].to_pydatetime()
        target = float(last[EXPOSURE_TAG])
        seen = self._decisions.get(pair)
        if seen is not None and candle <= seen[0]:
            return None  # the same candle analysed again (process_only_new_candles off)
        previous = seen[1] if seen is not None else None
        self._decisions[pair] = (candle, target)
        if self.decision_notify == NOTIFY_OFF or (
            self.decision_notify == NOTIFY_CHANGE and previous == target
        ):
            return None
        try:  # a message must never stop the analysis (and so the trading) of a candle
            directions = self.decision_directions(dataframe, pair)
        except Exception:
            logger.exception("bitbot: no sub-strategy directions for the decision message")
            directions = {}
        try:
            model_id = self.decision_model_id(pair)
        except Exception:
            logger.exception("bitbot: no model id for the decision message")
            model_id = None
        try:
            message = format_decision(pair, candle, target, previous, directions, model_id)
            held = self._held_flat_reason()
            if held is not None and target != 0:
                message += f"\nheld flat: {held}"
            logger.info("bitbot decision: %s", one_line(message))
            self.dp.send_msg(telegram_markdown(message), always_send=True)
        except Exception:
            logger.exception("bitbot: the decision message for %s failed", pair)
            return None
        return message

    def _held_flat_reason(self) -> str | None:
        """:return: why the bot stays flat whatever the target (safe mode, a risk limit)"""
        if self.safe_mode.active:
            return f"safe mode ({self.safe_mode.describe()})"
        if self.risk.blocked_until is not None:
            until = f"{self.risk.blocked_until:%Y-%m-%d %H:%M}"
            return f"risk limit {self.risk.short_reason} until {until} UTC"
        return None
