"""
The daily loss limit and the maximum drawdown of ``bitbot.risk``, and safe mode, for every
shipped strategy.

:class:`RiskControls` is a strategy mixin: the rule strategies of the registry use it as they
are, and :class:`~meta_strategy.trading.exposure.TargetExposureStrategy` (the MetaStrategy and
the votes) adds the exposure cap and the volatility stop on top of it. So a rule strategy
traded alone in dry-run or live stops at the same limits as the meta layer, and goes flat in
safe mode when its candles arrive late or the exchange stops answering
(:mod:`meta_strategy.trading.safe_mode`; the MetaStrategy adds its model's causes); and a
backtest with ``apply_in_backtests`` (the report's ``--as-deployed all``) compares them like for
like.

The equity is the wallet's total plus the open trade's unrealised profit, checked on every
candle (``custom_exit``) and before every entry (``confirm_trade_entry``); the limits themselves
are :class:`~meta_strategy.trading.risk.RiskState`'s. After a protective exit the position
stays flat until a candle re-arms entries (:meth:`RiskControls.rearm_candles`): for a rule
strategy, a fresh entry signal (its ``enter_long`` or ``enter_short`` switching on), so a
strategy whose entry signal holds for a whole trend does not re-enter on the candle after the
block ends.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from freqtrade.enums import RunMode
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import Trade
from pandas import DataFrame, Series

from meta_strategy.trading.decisions import telegram_markdown
from meta_strategy.trading.risk import RiskLimits, RiskState, protective_exit, rearmed_since
from meta_strategy.trading.safe_mode import SafeMode, SafeModeConfig, candle_problem


logger = logging.getLogger(__name__)

RISK_LOCK = "bitbot risk"
"""Reason of the pair lock that a risk limit sets."""
SAFE_MODE_LOCK = "bitbot safe mode"
"""Reason of the pair lock that safe mode sets (REST API ``/locks``, FreqUI)."""
ENTRY_SIGNALS = ("enter_long", "enter_short")
"""Freqtrade's entry signal columns; one switching on re-arms a rule strategy's entries."""


def fresh_entry_signals(dataframe: DataFrame) -> Series | None:
    """
    :param dataframe: an analysed dataframe with Freqtrade's entry signals
    :return: per candle, whether an entry signal switched on (off or absent the candle before);
        None when the dataframe has no entry signal column
    """
    columns = [c for c in ENTRY_SIGNALS if c in dataframe]
    if not columns:
        return None
    fresh = Series(False, index=dataframe.index)
    for column in columns:
        on = dataframe[column].fillna(0).astype(bool)
        fresh |= on & ~on.shift(fill_value=False)
    return fresh


class RiskControls:
    """
    Strategy mixin: close the position and block entries when ``bitbot.risk``'s daily loss
    limit or maximum drawdown is reached, in dry-run and live, and in backtests with
    ``apply_in_backtests``; and while safe mode holds (dry-run and live only). Put it before
    ``ConfiguredLeverage`` (which reads ``bitbot.risk``) and ``IStrategy`` in the bases.
    """

    config: dict[str, Any]
    timeframe: str
    dp: Any
    wallets: Any
    risk_limits: RiskLimits

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)  # type: ignore[call-arg]
        self.risk = RiskState(self.risk_limits)
        runmode = RunMode(config.get("runmode", RunMode.OTHER))
        self.trading_live = runmode in (RunMode.LIVE, RunMode.DRY_RUN)
        self.risk_active = self.trading_live or self.risk_limits.apply_in_backtests
        self.safe_mode_config = SafeModeConfig.from_config(config)
        self.safe_mode = SafeMode()
        self._exchange_checks: dict[str, tuple[datetime, int]] = {}
        """pair -> when its ticker was last asked, and how many requests in a row failed"""

    def _equity(
        self, trade: Trade | None = None, current_rate: float | None = None
    ) -> float | None:
        """:return: wallet total plus the open trade's unrealised profit (None without wallets)"""
        if self.wallets is None:
            return None
        total = float(self.wallets.get_total(self.config["stake_currency"]))
        if trade is not None and current_rate is not None:
            total += float(trade.calc_profit(current_rate))
        return total

    def _risk_blocks(self, now: datetime, equity: float) -> bool:
        """
        Update the risk state; when a limit starts blocking in dry-run / live, lock the
        whitelist until the block ends, so the block shows in the REST API and FreqUI and
        outlasts a restart (Freqtrade keeps pair locks in its database).

        :return: True while a limit blocks trading
        """
        before = self.risk.blocked_until
        verdict = self.risk.update(now, equity)
        blocked_until = self.risk.blocked_until
        if self.trading_live and blocked_until is not None and blocked_until != before:
            for pair in self.dp.current_whitelist():
                self.lock_pair(pair, blocked_until, reason=f"{RISK_LOCK}: {self.risk.short_reason}")
        return verdict.flatten

    def block_reason(
        self, now: datetime, trade: Trade | None = None, current_rate: float | None = None
    ) -> str | None:
        """
        The one gate of exits and entries: ``safe_mode`` while safe mode holds (dry-run /
        live), else ``risk_<limit>`` while a risk limit blocks trading.

        :param now: current time (UTC)
        :param trade: the open trade, whose unrealised profit counts in the equity
        :param current_rate: the trade's current rate
        :return: the exit reason to close with and refuse entries for, None to trade
        """
        if self.trading_live and self.safe_mode.active:
            return "safe_mode"
        if not self.risk_active:
            return None
        equity = self._equity(trade, current_rate)
        if equity is None or not self._risk_blocks(now, equity):
            return None
        return f"risk_{self.risk.short_reason}"

    def adding_blocked(self) -> bool:
        """
        Freqtrade asks ``confirm_trade_entry`` before a new trade only: a position adjustment
        skips it (``FreqtradeBot.execute_entry`` and backtesting's entry both check it for the
        first entry alone). A strategy that adds to its position asks this first. It reads the
        state :meth:`block_reason` left (it updates nothing: the exits keep the risk state).

        :return: True while safe mode holds (dry-run / live) or a risk limit blocks trading
        """
        return (self.trading_live and self.safe_mode.active) or self.risk.blocked_until is not None

    def describe_block(self, reason: str) -> str:
        """:return: what a :meth:`block_reason` means now, for the log"""
        if reason == "safe_mode":
            return self.safe_mode.describe()
        return self.risk.block_reason or reason

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        """Close the position while a limit blocks trading (:meth:`block_reason`)."""
        return self.block_reason(current_time, trade, current_rate)

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        """
        No new position while :meth:`block_reason` blocks trading, or after a protective exit
        until a candle re-arms entries.
        """
        reason = self.block_reason(current_time)
        if reason is not None:
            logger.info("Entry on %s refused (%s): %s", pair, reason, self.describe_block(reason))
            return False
        if self.risk_active and not self.rearmed(pair):
            logger.info("Entry on %s refused: flat after a stop until a candle re-arms it", pair)
            return False
        return True

    def rearm_candles(self, dataframe: DataFrame) -> Series | None:
        """
        :param dataframe: the analysed dataframe
        :return: per candle, whether an entry may follow a protective exit after its close
            (here: a fresh entry signal, :func:`fresh_entry_signals`); None: always re-armed
        """
        return fresh_entry_signals(dataframe)

    def rearmed(self, pair: str) -> bool:
        """:return: False while the pair's last trade ended on a protective exit and no
        re-arming candle (:meth:`rearm_candles`) has closed since"""
        closed = Trade.get_trades_proxy(pair=pair, is_open=False)
        last = max(closed, key=lambda t: t.close_date_utc, default=None)
        if last is None or not protective_exit(last.exit_reason):
            return True
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        rearm = None if dataframe.empty else self.rearm_candles(dataframe)
        if rearm is None:
            return True
        closes = dataframe["date"] + timedelta(seconds=timeframe_to_seconds(self.timeframe))
        return rearmed_since(closes, rearm, last.close_date_utc)

    def bot_start(self, **kwargs: Any) -> None:
        """A fresh risk and safe-mode state for every run (hyperopt reuses the strategy)."""
        super().bot_start(**kwargs)  # type: ignore[misc]
        self.risk = RiskState(self.risk_limits)
        self.safe_mode = SafeMode()
        self._exchange_checks = {}

    # ------------------------------------------------------------------ safe mode

    def report_safe_mode(self, cause: str, problem: str | None, now: datetime) -> None:
        """
        Record one safe-mode cause; on a change, log it, send it through Freqtrade's message
        API (Telegram, webhooks) and lock or unlock the whitelist (the lock shows the reason in
        the REST API and FreqUI and blocks entries).

        :param cause: ``model``, ``prediction``, ``reference``, ``candles`` or ``exchange``
        :param problem: what is wrong, None when clear
        :param now: current time
        """
        was_active = self.safe_mode.active
        message = self.safe_mode.report(cause, problem)
        if message is None:
            return
        logger.warning(message)
        if self.dp is not None:
            self.dp.send_msg(telegram_markdown(message), always_send=True)
            if self.safe_mode.active and not was_active:
                for pair in self.dp.current_whitelist():
                    self.lock_pair(pair, now + timedelta(days=3650), reason=SAFE_MODE_LOCK)
            elif was_active and not self.safe_mode.active:
                self.unlock_reason(SAFE_MODE_LOCK)

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """
        Dry-run / live: check that candles arrive on time (every loop) and that the exchange
        answers (its ticker, at most every ``exchange_check_seconds`` per pair).
        """
        if not self.trading_live or self.dp is None:
            return
        config = self.safe_mode_config
        timeframe = timedelta(seconds=timeframe_to_seconds(self.timeframe))
        interval = timedelta(seconds=config.exchange_check_seconds)
        late: list[str] | None = None  # None: no pair analysed yet (the first loop after a start)
        failing = []
        for pair in self.dp.current_whitelist():
            dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
            if not dataframe.empty:
                last = dataframe["date"].iloc[-1].to_pydatetime()
                problem = candle_problem(last, current_time, timeframe, config.max_candle_delay)
                late = (late or []) + ([f"{pair}: {problem}"] if problem else [])
            checked, failures = self._exchange_checks.get(pair, (None, 0))
            if checked is None or current_time - checked >= interval:
                failures = 0 if self.dp.ticker(pair) else failures + 1
                self._exchange_checks[pair] = (current_time, failures)
            if failures >= config.max_exchange_failures:
                failing.append(f"{failures} ticker requests for {pair} in a row failed")
        if late is not None:  # one report for every pair: an on-time pair clears no late one
            self.report_safe_mode("candles", "; ".join(late) or None, current_time)
        self.report_safe_mode("exchange", "; ".join(failing) or None, current_time)
