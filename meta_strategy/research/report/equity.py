"""
Hourly mark-to-market equity of a Freqtrade backtest, rebuilt from its exported trades.

Freqtrade's own daily figures count a trade's profit on the day it closes, which hides the
drawdown of a position held for weeks. Here every fill of every trade (entries, position
adjustments, exits, each at its candle's open) moves cash and position, and the position is
marked at each candle's close:

    equity(t) = start + cash(t) + position(t) x close(t)

with cash(t) the sum of ``-signed amount x price - fee x amount x price`` of the fills up to t,
plus the trade's funding accrued evenly over its life. When a trade closes its total is set to
Freqtrade's ``profit_abs`` exactly, so the curve ends at Freqtrade's final balance (a test checks
it); between fills only the funding accrual is an approximation.

Freqtrade's backtester books funding only when a trade closes and never liquidates a position
for it, so a long held for years can pay more funding than the account holds. The report applies
the rule of BitBot's training environment to every curve (:func:`liquidate`): when the equity,
marked at the candle's worst price, falls to the maintenance margin of the position, the account
is liquidated and stays at zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from meta_strategy.data.candles import find_gaps
from meta_strategy.rl.costs import margin_breached


logger = logging.getLogger(__name__)


class EquityError(ValueError):
    """Trades that cannot be placed on the candles (a fill outside them, a gap)."""


@dataclass(frozen=True)
class EquityCurve:
    """
    Hourly account figures of one run, indexed by candle open time, valued at the candle close.

    :param equity: account equity
    :param position: signed position in the base currency (BTC)
    :param close: the candle close the position is marked at
    :param fees: cumulative fees paid
    :param funding: cumulative funding paid (negative: received)
    :param start_value: equity before the first candle
    :param start_price: the first candle's open (the price when the period starts)
    """

    equity: pd.Series
    position: pd.Series
    close: pd.Series
    fees: pd.Series
    funding: pd.Series
    start_value: float
    start_price: float
    liquidated_at: pd.Timestamp | None = None

    @property
    def exposure(self) -> pd.Series:
        """:return: signed notional / equity (1 = fully long at 1x leverage; 0 once wiped out)"""
        equity = self.equity.where(self.equity > 0)
        return (self.position * self.close / equity).fillna(0.0)

    def daily_returns(self) -> pd.Series:
        """:return: daily simple returns; 0 on days that start with nothing left"""
        daily = self.daily()
        previous = daily.shift(1)
        returns = (daily / previous.where(previous > 0) - 1.0).where(previous > 0, 0.0)
        return returns.iloc[1:]

    def daily(self) -> pd.Series:
        """:return: equity at each UTC day's last close, the start value on the day before"""
        daily = self.equity.resample("1D").last().dropna()
        first = daily.index[0] - pd.Timedelta(days=1)
        return pd.concat([pd.Series([self.start_value], index=[first]), daily])


def period_candles(
    candles: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, timeframe: str = "1h"
) -> pd.DataFrame:
    """
    :param candles: candles with ``date``, ``open``, ``close``
    :param start: first candle (inclusive)
    :param end: last candle (inclusive: Freqtrade's ``backtest_end``, where open trades are
        closed at the end of a backtest)
    :param timeframe: their timeframe
    :return: the candles in [start, end], checked to be gap-free
        (:func:`meta_strategy.data.candles.find_gaps`)
    """
    window = candles[(candles["date"] >= start) & (candles["date"] <= end)].reset_index(drop=True)
    if window.empty:
        raise EquityError(f"no candles between {start} and {end}")
    gaps = find_gaps(window, timeframe)
    if gaps:
        raise EquityError(f"the candles between {start} and {end} have gaps, first at {gaps[:3]}")
    return window


def equity_from_trades(
    trades: list[dict], candles: pd.DataFrame, start_value: float
) -> EquityCurve:
    """
    :param trades: Freqtrade's exported trades (with ``orders``) of one strategy
    :param candles: the period's gap-free 1h candles (:func:`period_candles`)
    :param start_value: starting balance
    :return: the hourly curve
    :raises EquityError: when a fill does not fall on a candle of the period
    """
    dates = candles["date"]
    # ms since the epoch, as Freqtrade's order timestamps (whatever the frame's time unit)
    stamps = dates.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ms]")
    stamps = stamps.astype("int64")
    close = candles["close"].to_numpy(dtype=float)
    n = len(candles)
    d_cash = np.zeros(n)
    d_position = np.zeros(n)
    d_fees = np.zeros(n)
    d_funding = np.zeros(n)

    def index_of(ms: int, what: str) -> int:
        i = int(np.searchsorted(stamps, ms))
        if i >= n or stamps[i] != ms:
            raise EquityError(
                f"{what} at {pd.Timestamp(ms, unit='ms', tz='UTC')} is not a candle of the period "
                f"{dates.iloc[0]} .. {dates.iloc[-1]}"
            )
        return i

    for trade in trades:
        side = -1.0 if trade["is_short"] else 1.0
        open_i = index_of(int(trade["open_timestamp"]), f"trade opened {trade['open_date']}")
        close_i = index_of(int(trade["close_timestamp"]), f"trade closed {trade['close_date']}")
        trade_cash = 0.0
        for order in trade["orders"]:
            if order.get("order_filled_timestamp") is None:
                continue  # never filled
            i = index_of(int(order["order_filled_timestamp"]), "an order fill")
            signed = side * float(order["amount"]) * (1.0 if order["ft_is_entry"] else -1.0)
            price = float(order["safe_price"])
            rate = trade["fee_open"] if order["ft_is_entry"] else trade["fee_close"]
            fee = rate * float(order["amount"]) * price
            d_position[i] += signed
            d_cash[i] += -signed * price - fee
            d_fees[i] += fee
            trade_cash += -signed * price - fee
        funding = float(trade.get("funding_fees") or 0.0)  # > 0: received
        hours = max(close_i - open_i, 1)
        d_cash[open_i : open_i + hours] += funding / hours
        d_funding[open_i : open_i + hours] -= funding / hours
        # At the close the trade's total is Freqtrade's profit_abs exactly.
        d_cash[close_i] += float(trade["profit_abs"]) - (trade_cash + funding)
    position = np.cumsum(d_position)
    position[np.abs(position) < 1e-12] = 0.0
    equity = start_value + np.cumsum(d_cash) + position * close
    index = pd.DatetimeIndex(dates)
    return EquityCurve(
        equity=pd.Series(equity, index=index),
        position=pd.Series(position, index=index),
        close=pd.Series(close, index=index),
        fees=pd.Series(np.cumsum(d_fees), index=index),
        funding=pd.Series(np.cumsum(d_funding), index=index),
        start_value=start_value,
        start_price=float(candles["open"].iloc[0]),
    )


def buy_and_hold_curve(
    candles: pd.DataFrame, funding_rates: pd.Series, start_value: float, fee: float
) -> EquityCurve:
    """
    1x long the perpetual over the period: bought at the first open, funding paid on the
    notional (at the candle's open) at each funding event, entry and exit fees charged.

    :param candles: the period's gap-free 1h candles
    :param funding_rates: funding rate by event time
    :param start_value: starting equity
    :param fee: fee per side (incl. slippage)
    :return: the hourly curve
    """
    dates = candles["date"]
    open_ = candles["open"].to_numpy(dtype=float)
    close = candles["close"].to_numpy(dtype=float)
    quantity = start_value * (1.0 - fee) / open_[0]
    rates = dates.map(funding_rates).fillna(0.0).to_numpy(dtype=float)
    paid = np.cumsum(rates * quantity * open_)
    fees = np.full(len(candles), start_value * fee)
    fees[-1] += fee * quantity * close[-1]
    equity = quantity * close - paid
    equity[-1] -= fee * quantity * close[-1]
    index = pd.DatetimeIndex(dates)
    return EquityCurve(
        equity=pd.Series(equity, index=index),
        position=pd.Series(np.full(len(candles), quantity), index=index),
        close=pd.Series(close, index=index),
        fees=pd.Series(fees, index=index),
        funding=pd.Series(paid, index=index),
        start_value=start_value,
        start_price=float(candles["open"].iloc[0]),
    )


def flat_curve(candles: pd.DataFrame, start_value: float) -> EquityCurve:
    """:return: the curve of staying out of the market"""
    index = pd.DatetimeIndex(candles["date"])
    zeros = pd.Series(np.zeros(len(index)), index=index)
    return EquityCurve(
        equity=pd.Series(np.full(len(index), start_value), index=index),
        position=zeros,
        close=pd.Series(candles["close"].to_numpy(dtype=float), index=index),
        fees=zeros,
        funding=zeros,
        start_value=start_value,
        start_price=float(candles["open"].iloc[0]),
    )


def liquidate(curve: EquityCurve, candles: pd.DataFrame, maintenance_margin: float) -> EquityCurve:
    """
    Liquidation as in the training environment (:func:`~meta_strategy.rl.costs.margin_breached`):
    at the first candle where the equity marked at its worst price (low for a long, high for a
    short) is at or below ``maintenance_margin`` x the position's notional at that price, the
    position is closed and what is left is lost; the account stays at zero (it cannot trade on).

    :param curve: the curve, without liquidation
    :param candles: the same candles (``high``, ``low``)
    :param maintenance_margin: fraction of notional
    :return: the curve, liquidated where that happened (``liquidated_at`` set)
    """
    position = curve.position.to_numpy()
    close = curve.close.to_numpy()
    worst = np.where(position > 0, candles["low"].to_numpy(float), candles["high"].to_numpy(float))
    equity_at_worst = curve.equity.to_numpy() - position * (close - worst)
    breached = margin_breached(position, equity_at_worst, worst, maintenance_margin)
    if not breached.any():
        return curve
    i = int(np.argmax(breached))
    equity = curve.equity.copy()
    equity.iloc[i:] = 0.0
    flat = curve.position.copy()
    flat.iloc[i:] = 0.0
    logger.info(
        "Liquidated at %s (equity at the worst price %.2f)", equity.index[i], equity_at_worst[i]
    )
    return EquityCurve(
        equity=equity,
        position=flat,
        close=curve.close,
        fees=curve.fees.where(curve.fees.index < equity.index[i], curve.fees.iloc[i]),
        funding=curve.funding.where(curve.funding.index < equity.index[i], curve.funding.iloc[i]),
        start_value=curve.start_value,
        start_price=curve.start_price,
        liquidated_at=equity.index[i],
    )
