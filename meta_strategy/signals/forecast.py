"""
Positions from a return forecast, for the supervised baselines.

A forecast of the next ``h`` candles' log return becomes a position only when it clears a
no-trade band tied to the cost of a round trip, and the position is held until the forecast
clears the band on the other side (hysteresis): a forecast that wanders around zero changes
nothing, so the position changes only when the predicted move pays for the trade. This is the
rule of cost-aware forecasting strategies on hourly Bitcoin (Bysik & Slepaczuk; the no-trade
region of Garleanu & Pedersen 2013, in its simplest form).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def forward_log_return(close: pd.Series, horizon: int) -> pd.Series:
    """
    :param close: close prices
    :param horizon: candles ahead
    :return: ``log(close[t + horizon] / close[t])``, NaN for the last ``horizon`` candles (a
        label: it looks forward by design)
    """
    log_close = np.log(close)
    return log_close.shift(-horizon) - log_close


def banded_position(forecast: pd.Series, band: float) -> pd.Series:
    """
    :param forecast: forecast return per candle, NaN where there is none (the position then
        goes flat and waits for the next forecast beyond the band)
    :param band: the no-trade band, as a return (e.g. the round-trip cost)
    :return: 1 from a candle whose forecast is above ``band`` until one below ``-band``, -1
        the other way round, 0 before the first and where the forecast is missing
    """
    if not band >= 0:
        raise ValueError(f"banded_position: the band must be a return of at least 0, got {band!r}")
    values = forecast.to_numpy(dtype=np.float64)
    signal = np.where(values > band, 1.0, np.where(values < -band, -1.0, np.nan))
    signal[np.isnan(values)] = 0.0  # no forecast: flat, the hysteresis starts afresh
    return pd.Series(signal, index=forecast.index).ffill().fillna(0.0)
