"""
Vote baselines: the registered strategies' directions combined without learning.

* :func:`equal_vote`: the sign of the sum of directions (ties are flat).
* :func:`portfolio`: the mean of the directions: each strategy trades ``1/N`` of the stake and
  the positions net out (the ``1/N`` portfolio, which DeMiguel, Garlappi & Uppal 2009 find hard
  to beat out of sample with any optimised weights).
* :func:`performance_weighted_vote`: each strategy's direction weighted by its trailing
  performance. Strategy ``i`` earns ``d_i(t-1) x r(t)`` on candle ``t`` (the direction it held
  after candle ``t-1`` closed, times candle ``t``'s log return). Its weight at ``t`` is the mean
  of those earnings over the last ``window`` candles up to and including ``t``, floored at 0:
  a strategy that lost recently has no vote. Everything at ``t`` is known at ``t``'s close.
* :func:`follow_the_leader`: the direction of the one strategy with the best trailing net return
  (cost per fill and funding, :func:`~meta_strategy.signals.track_record.following_returns`),
  re-chosen at the first candle of every calendar month: the allocator who trusts whoever has
  been working. "Follow the leader" in online learning (Hannan 1957; Kalai & Vempala 2005).
* :func:`winners_portfolio`: the ``1/K`` portfolio of the ``K`` strategies whose trailing net
  return (the same score) is positive, re-chosen monthly: the parts chosen out of sample, by
  time-series momentum of the strategies themselves (factor momentum: Gupta & Kelly 2019,
  "Factor Momentum Everywhere"; Ehsani & Linnainmaa 2022).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from meta_strategy.signals.track_record import following_returns


logger = logging.getLogger(__name__)


def equal_vote(directions: pd.DataFrame) -> pd.Series:
    """
    :param directions: one column per strategy, values -1 / 0 / +1 (NaN = not yet known)
    :return: the voted direction per candle (-1 / 0 / +1)
    """
    return np.sign(directions.fillna(0.0).sum(axis=1))


def portfolio(directions: pd.DataFrame) -> pd.Series:
    """
    :param directions: one column per strategy, values -1 / 0 / +1 (NaN = not yet known: flat)
    :return: the net exposure per candle of giving each strategy ``1/N`` of the stake (-1 .. 1)
    """
    return directions.fillna(0.0).mean(axis=1)


def trailing_earnings(directions: pd.DataFrame, close: pd.Series, window: int) -> pd.DataFrame:
    """
    :param directions: one column per strategy
    :param close: closes of the traded pair, same index
    :param window: candles in the trailing mean
    :return: mean earnings per candle of each strategy over the trailing window (NaN before
        the window is full)
    """
    log_return = np.log(close.astype(float)).diff()
    earned = directions.shift(1).fillna(0.0).mul(log_return, axis=0)
    return earned.rolling(window, min_periods=window).mean()


def performance_weighted_vote(
    directions: pd.DataFrame, close: pd.Series, window: int = 720
) -> pd.Series:
    """
    :param directions: one column per strategy
    :param close: closes of the traded pair, same index
    :param window: trailing candles for the weights (720 = 30 days of 1h)
    :return: the voted direction per candle (-1 / 0 / +1); flat while no strategy has earned
    """
    weights = trailing_earnings(directions, close, window).clip(lower=0.0).fillna(0.0)
    return np.sign((directions.fillna(0.0) * weights).sum(axis=1))


def trailing_growth(
    directions: pd.DataFrame, close: pd.Series, funding: pd.Series, fee: float, window: int
) -> np.ndarray:
    """
    :param directions: one column per strategy (-1 / 0 / +1, NaN = not yet known)
    :param close: closes of the traded pair, same index
    :param funding: funding rate charged at each candle's open (0 where none), same index
    :param fee: cost of one fill
    :param window: trailing candles
    :return: per candle and strategy, the net log growth of following it over the last
        ``window`` candles up to that candle's close (NaN before its window is full)
    """
    if window < 1:
        raise ValueError(f"trailing window must be >= 1 candle, got {window}")
    returns = {c: following_returns(directions[c], close, funding, fee) for c in directions}
    # a candle that loses everything (or more) counts as almost everything: still a score
    growth = np.log1p(pd.DataFrame(returns, index=directions.index).clip(lower=-1.0 + 1e-12))
    return growth.rolling(window, min_periods=window).sum().to_numpy()


def monthly_choice(chosen: np.ndarray, dates: pd.Series, unset: float) -> np.ndarray:
    """
    :param chosen: per candle, what would be chosen at that candle's close (1-d or 2-d)
    :param dates: candle open times, same length
    :param unset: the value before the first month's choice
    :return: the choice made at the first candle of each calendar month (UTC), held until the
        next month's
    """
    stamp = pd.DatetimeIndex(dates)
    month = stamp.year * 12 + stamp.month
    choose = np.r_[True, month[1:] != month[:-1]]
    mask = choose if chosen.ndim == 1 else choose[:, None]
    held = pd.DataFrame(np.where(mask, chosen, np.nan)).ffill().fillna(unset)
    return held.to_numpy().reshape(chosen.shape)


def follow_the_leader(
    directions: pd.DataFrame,
    close: pd.Series,
    funding: pd.Series,
    dates: pd.Series,
    fee: float,
    window: int = 2160,
) -> pd.DataFrame:
    """
    At the first candle of each calendar month (UTC), the leader is the strategy whose net
    return from following it over the last ``window`` candles (up to that candle's close) is the
    highest (:func:`trailing_growth`); only strategies with a full window compete, ties go to
    the first column. Until the next month's choice the vote is the leader's direction, candle
    by candle; flat before the first month with a leader.

    :param directions: one column per strategy (-1 / 0 / +1, NaN = not yet known)
    :param close: closes of the traded pair, same index
    :param funding: funding rate charged at each candle's open (0 where none), same index
    :param dates: candle open times, same index
    :param fee: cost of one fill
    :param window: trailing candles of the net return (2160 = 90 days of 1h)
    :return: frame on ``directions.index``: ``vote`` (-1 / 0 / +1) and ``leader`` (the column
        number of the strategy followed, -1 while none)
    """
    score = trailing_growth(directions, close, funding, fee, window)
    known = ~np.isnan(score)
    best = np.where(known.any(axis=1), np.argmax(np.where(known, score, -np.inf), axis=1), -1)
    leader = monthly_choice(best.astype(np.float64), dates, -1.0).astype(int)
    held = np.nan_to_num(directions.to_numpy(dtype=np.float64))
    rows = np.arange(len(held))
    vote = np.where(leader >= 0, held[rows, np.maximum(leader, 0)], 0.0)
    return pd.DataFrame({"vote": vote, "leader": leader}, index=directions.index)


def winners_portfolio(
    directions: pd.DataFrame,
    close: pd.Series,
    funding: pd.Series,
    dates: pd.Series,
    fee: float,
    window: int = 2160,
) -> pd.DataFrame:
    """
    At the first candle of each calendar month (UTC), the winners are the strategies whose net
    return from following them over the last ``window`` candles is positive
    (:func:`trailing_growth`; a strategy without a full window is not one). Until the next
    month's choice each winner trades ``1/K`` of the stake (``K`` winners) and the positions
    net out; flat while there is none. Follow the leader keeps only the best of them.

    :param directions: one column per strategy (-1 / 0 / +1, NaN = not yet known)
    :param close: closes of the traded pair, same index
    :param funding: funding rate charged at each candle's open (0 where none), same index
    :param dates: candle open times, same index
    :param fee: cost of one fill
    :param window: trailing candles of the net return (2160 = 90 days of 1h)
    :return: frame on ``directions.index``: ``exposure`` (the net exposure, -1 .. 1) and
        ``winners`` (how many strategies it holds)
    """
    score = trailing_growth(directions, close, funding, fee, window)
    winner = np.where(np.isnan(score), 0.0, (score > 0).astype(np.float64))
    chosen = monthly_choice(winner, dates, 0.0)
    count = chosen.sum(axis=1)
    held = np.nan_to_num(directions.to_numpy(dtype=np.float64))
    exposure = (held * chosen).sum(axis=1) / np.maximum(count, 1.0)
    return pd.DataFrame(
        {"exposure": exposure, "winners": count.astype(int)}, index=directions.index
    )
