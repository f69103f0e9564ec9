"""
Track records: how each registered strategy's signal has been doing lately, as features.

Following a strategy means holding its direction ``d_t`` (decided at candle *t*'s close) over the
next candle. Its net return on candle *t* is

    r_t = d_{t-1} * (close_t / close_{t-1} - 1) - fee * |d_{t-1} - d_{t-2}| - d_{t-1} * f_t

with ``fee`` the cost of one fill (a flip is two fills) and ``f_t`` the funding rate charged at
*t*'s open (longs pay a positive rate). From these: the compounded return over the trailing 7,
30 and 90 days, and the annualised Sharpe ratio of the last 30 days (0 for a strategy that stayed
flat). Everything at *t* uses candles up to *t*'s close; NaN until the windows are full.

Optionally, the open trade's return: the compounded net return since the strategy's direction
last changed (entry fee and funding included; 0 while it is flat), what a trader reads off a
position's unrealised P&L. A meta-labelling model decides better with the trade's run-up than
with its age alone (López de Prado 2018, ch. 3).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pandas import DataFrame, Series


logger = logging.getLogger(__name__)

RETURN_WINDOWS_DAYS = (7, 30, 90)
"""Trailing windows of the track-record returns."""
SHARPE_WINDOW_DAYS = 30
"""Trailing window of the track-record Sharpe ratio."""


def following_returns(direction: Series, close: Series, funding: Series, fee: float) -> Series:
    """
    :param direction: the strategy's direction per candle, -1 / 0 / +1 (NaN while unknown)
    :param close: closes
    :param funding: funding rate charged at each candle's open (0 where none)
    :param fee: cost of one fill, as a fraction of the notional
    :return: net return per candle of following the direction (NaN until two directions are
        known)
    """
    if fee < 0:
        raise ValueError(f"fee must be >= 0, got {fee}")
    held = direction.astype(np.float64).shift(1)
    moved = close.astype(np.float64).pct_change(fill_method=None)
    traded = (held - held.shift(1)).abs()
    return held * moved - fee * traded - held * funding.astype(np.float64)


def open_trade_return(direction: Series, close: Series, funding: Series, fee: float) -> Series:
    """
    :param direction: the strategy's direction per candle (NaN while unknown)
    :param close: closes
    :param funding: funding rate charged at each candle's open (0 where none)
    :param fee: cost of one fill
    :return: per candle, the compounded net return of following the direction since the
        candle whose close set it (0 on that candle and while flat; NaN while unknown)
    """
    held = direction.astype(np.float64)
    # a trade opened from the unknown warm-up pays its entry like one opened from flat
    returns = following_returns(held.fillna(0.0), close, funding, fee)
    growth = np.log1p(returns).fillna(0.0).cumsum()
    opened = held.ne(held.shift())
    since = growth - growth.where(opened).ffill()
    return np.expm1(since).where(held != 0, 0.0).where(held.notna())


def track_records(
    direction: Series,
    close: Series,
    funding: Series,
    fee: float,
    candles_per_day: int,
    open_trade: bool = False,
) -> DataFrame:
    """
    :param direction: the strategy's direction per candle (NaN while unknown)
    :param close: closes
    :param funding: funding rate charged at each candle's open (0 where none)
    :param fee: cost of one fill
    :param candles_per_day: candles in a day at the base timeframe
    :param open_trade: add ``open_trade`` (:func:`open_trade_return`)
    :return: frame on ``direction.index`` with ``ret_<n>d`` for each of
        :data:`RETURN_WINDOWS_DAYS` and ``sharpe_<n>d`` for :data:`SHARPE_WINDOW_DAYS`
    """
    returns = following_returns(direction, close, funding, fee)
    log_growth = np.log1p(returns)
    out = {}
    for days in RETURN_WINDOWS_DAYS:
        window = days * candles_per_day
        out[f"ret_{days}d"] = np.expm1(log_growth.rolling(window).sum())
    window = SHARPE_WINDOW_DAYS * candles_per_day
    mean = returns.rolling(window).mean()
    std = returns.rolling(window).std()
    sharpe = (mean / std.where(std > 1e-12)) * np.sqrt(365.0 * candles_per_day)
    out[f"sharpe_{SHARPE_WINDOW_DAYS}d"] = sharpe.where(std > 1e-12, 0.0).where(std.notna())
    if open_trade:
        out["open_trade"] = open_trade_return(direction, close, funding, fee)
    return pd.DataFrame(out, index=direction.index)


def warmup_candles(candles_per_day: int) -> int:
    """
    :return: candles after a direction is first known until every track record is (a return
        needs the two directions before it)
    """
    return max(*RETURN_WINDOWS_DAYS, SHARPE_WINDOW_DAYS) * candles_per_day + 2
