"""
Vote baselines: the registered strategies' directions combined without learning.

* :func:`equal_vote`: the sign of the sum of directions (ties are flat).
* :func:`performance_weighted_vote`: each strategy's direction weighted by its trailing
  performance. Strategy ``i`` earns ``d_i(t-1) x r(t)`` on candle ``t`` (the direction it held
  after candle ``t-1`` closed, times candle ``t``'s log return). Its weight at ``t`` is the mean
  of those earnings over the last ``window`` candles up to and including ``t``, floored at 0:
  a strategy that lost recently has no vote. Everything at ``t`` is known at ``t``'s close.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd


logger = logging.getLogger(__name__)


def equal_vote(directions: pd.DataFrame) -> pd.Series:
    """
    :param directions: one column per strategy, values -1 / 0 / +1 (NaN = not yet known)
    :return: the voted direction per candle (-1 / 0 / +1)
    """
    return np.sign(directions.fillna(0.0).sum(axis=1))


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
