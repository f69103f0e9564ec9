"""
Reusable technical indicators as plain functions of an OHLCV DataFrame or a Series.

Every function takes a pandas DataFrame with the columns ``open``, ``high``, ``low``, ``close``,
``volume`` (or a Series) and returns a Series/DataFrame on the same index. Everything is causal:
the value at bar ``t`` depends only on bars ``<= t``.

Vectorised numpy/pandas is used where possible; inherently sequential recursions (Wilder
smoothing, Supertrend bands, OTT stops) run in linear-time numba kernels on float64 arrays.
Nothing is O(N^2).

Reference equalities (checked in ``tests/test_indicators.py``):

* :func:`true_range`, :func:`atr`, :func:`rsi`, :func:`bollinger_bands` equal ta-lib's
  ``TRANGE``, ``ATR``, ``RSI``, ``BBANDS`` to 1e-9 (relative) on clean data; :func:`adx` *is*
  ta-lib's ``ADX``.
* :func:`supertrend` equals ``technical.indicators.supertrend`` after its warm-up.
* :func:`ott` equals a line-by-line transcription of Anıl Özekşi's Pine script
  (``tests/reference_indicators.ott_reference``).
* :func:`rolling_vwap` equals a loop over its definition in the tests; :func:`ema` *is*
  ta-lib's ``EMA``; :func:`donchian_channel` equals ta-lib's ``MAX`` / ``MIN``
  of the previous candles; :func:`donchian_ensemble` equals a candle-by-candle loop written from
  its definition in the tests; :func:`perp_premium` equals a loop over its definition.

Intended differences from those references are listed in each function's docstring.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import talib
from pandas import DataFrame, Series

from meta_strategy.signals.kernels import (
    FloatArray,
    breakout_position_kernel,
    ott_kernel,
    supertrend_kernel,
    true_range_kernel,
    wilder_atr_kernel,
    wilder_rsi_kernel,
)


logger = logging.getLogger(__name__)

__all__ = [
    "adx",
    "atr",
    "bollinger_bands",
    "donchian_channel",
    "donchian_ensemble",
    "ema",
    "ott",
    "rolling_vwap",
    "rsi",
    "supertrend",
    "true_range",
    "typical_price",
]


def _as_float(values: Series | npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a contiguous float64 numpy array (no copy when already float64).

    :param values: a Series or array-like.
    :return: 1-d float64 array.
    """
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64))


def _first_valid(*arrays: FloatArray) -> int:
    """Index of the first bar where every array is non-NaN (ta-lib's ``begidx``).

    The ta-lib Python wrapper skips leading NaNs this way before calling the C function, so the
    first output of an indicator with lookback ``L`` is at ``begidx + L``.

    :param arrays: equally long float64 arrays.
    :return: the first index where all are non-NaN, or ``len`` if there is none.
    """
    n = arrays[0].shape[0]
    ok = np.ones(n, dtype=bool)
    for a in arrays:
        ok &= ~np.isnan(a)
    idx = np.flatnonzero(ok)
    return int(idx[0]) if idx.size else n


def _check_period(name: str, value: int, minimum: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is an int ``>= minimum``.

    :param name: parameter name for the message.
    :param value: the value to check.
    :param minimum: the smallest accepted value.
    :return: None.
    """
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def true_range(df: DataFrame) -> Series:
    """True Range (Wilder 1978), identical to ta-lib ``TRANGE``.

    ``TR[t] = max(high[t] - low[t], |high[t] - close[t-1]|, |low[t] - close[t-1]|)``.

    The first row (no previous close) is NaN, like ta-lib. NaN handling follows ta-lib exactly:
    leading bars up to and including the first bar where high, low and close are all non-NaN
    are NaN; afterwards a NaN previous close is ignored (the max keeps ``high - low``) while a
    NaN high or low gives NaN.

    :param df: OHLCV DataFrame (uses ``high``, ``low``, ``close``).
    :return: Series ``tr`` on ``df.index``.
    """
    values, _ = true_range_kernel(
        _as_float(df["high"]), _as_float(df["low"]), _as_float(df["close"])
    )
    return Series(values, index=df.index, name="tr")


def atr(df: DataFrame, period: int = 14) -> Series:
    """Average True Range with Wilder's smoothing (Wilder 1978), equal to ta-lib ``ATR``.

    ``ATR[period] = mean(TR[1..period])``;
    ``ATR[t] = (ATR[t-1] * (period - 1) + TR[t]) / period`` for ``t > period``.
    The first ``period`` values are NaN (shifted by any leading NaN bars, as ta-lib's wrapper
    does); ``period == 1`` reproduces the true range. As in ta-lib, a NaN true range inside the
    series (NaN high or low) makes every later value NaN. Own implementation (numba recursion),
    not a call to ta-lib.

    :param df: OHLCV DataFrame (uses ``high``, ``low``, ``close``).
    :param period: smoothing period, >= 1.
    :return: Series ``atr`` on ``df.index``.
    """
    _check_period("period", period)
    tr, start = true_range_kernel(
        _as_float(df["high"]), _as_float(df["low"]), _as_float(df["close"])
    )
    values = wilder_atr_kernel(tr, start, int(period))
    return Series(values, index=df.index, name="atr")


def rsi(close: Series, period: int = 14) -> Series:
    """Relative Strength Index with Wilder's smoothing (Wilder 1978), equal to ta-lib ``RSI``.

    ``RSI = 100 * avg_gain / (avg_gain + avg_loss)`` where both averages are seeded with the
    simple mean of the first ``period`` price changes and then smoothed as
    ``avg[t] = (avg[t-1] * (period - 1) + x[t]) / period``. The first ``period`` values are NaN
    (after any leading NaNs). A perfectly flat stretch (both averages 0) gives 0, as ta-lib.

    Intended difference from ta-lib: a NaN *inside* the series poisons Wilder's recursion; ta-lib
    then prints 0.0 for every later bar (an oversold-looking value), we return NaN.

    :param close: price Series.
    :param period: smoothing period, >= 2 (ta-lib's minimum).
    :return: Series ``rsi`` (0..100) on ``close.index``.
    """
    _check_period("period", period, minimum=2)
    x = _as_float(close)
    start = _first_valid(x)
    values = wilder_rsi_kernel(x, start, int(period))
    return Series(values, index=close.index, name="rsi")


def typical_price(df: DataFrame) -> Series:
    """Typical price ``(high + low + close) / 3``.

    :param df: OHLCV DataFrame.
    :return: Series ``typical_price`` on ``df.index``.
    """
    tp = (df["high"].astype(np.float64) + df["low"] + df["close"]) / 3.0
    return tp.rename("typical_price")


def bollinger_bands(series: Series, window: int = 20, stds: float = 2.0) -> DataFrame:
    """Bollinger Bands (John Bollinger, 1980s; "Bollinger on Bollinger Bands", 2001).

    ``mid = SMA(series, window)``, ``upper/lower = mid +/- stds * sigma`` with ``sigma`` the
    *population* standard deviation (ddof=0) over the same window. This equals
    ``talib.BBANDS(series, window, stds, stds, matype=0)`` to ~1e-10 relative. qtpylib's
    ``bollinger_bands`` uses the *sample* standard deviation (ddof=1, bands wider by
    ``sqrt(window / (window - 1))``); we deliberately follow ta-lib (and Bollinger's definition).

    Intended differences from ta-lib (numerics only): ta-lib computes the variance as
    ``E[x^2] - E[x]^2`` with running sums over the whole series, which cancels badly at BTC
    price levels and drifts (~1e-10 relative on the bands over 300k bars), and it clamps
    variances below 1e-8 to 0 (collapsing the bands for sub-cent prices); we use pandas'
    rolling mean/std (compensated, exact 0 for flat windows, no clamp). After a NaN inside the
    series ta-lib stays NaN for ever; we are NaN only while the NaN is inside the window.

    :param series: price Series.
    :param window: look-back window, >= 1.
    :param stds: number of standard deviations for the bands.
    :return: DataFrame with columns ``lower``, ``mid``, ``upper`` on ``series.index``.
    """
    _check_period("window", window)
    s = series.astype(np.float64)
    roll = s.rolling(int(window))
    mid = roll.mean()
    width = roll.std(ddof=0) * stds
    return DataFrame({"lower": mid - width, "mid": mid, "upper": mid + width}, index=s.index)


def adx(df: DataFrame, period: int = 14) -> Series:
    """Average Directional Index (Wilder 1978): a thin wrapper around ta-lib's ``ADX``.

    ta-lib's ADX is Wilder's: +DM/-DM and TR Wilder-summed over ``period``, DX =
    ``100 * |+DI - -DI| / (+DI + -DI)``, ADX the Wilder average of DX; first value at
    ``2 * period - 1``.

    :param df: OHLCV DataFrame (uses ``high``, ``low``, ``close``).
    :param period: smoothing period, >= 2.
    :return: Series ``adx`` on ``df.index``.
    """
    _check_period("period", period, minimum=2)
    high = _as_float(df["high"])
    if high.shape[0] == 0:
        return Series(np.empty(0), index=df.index, name="adx")
    values = talib.ADX(high, _as_float(df["low"]), _as_float(df["close"]), timeperiod=int(period))
    return Series(values, index=df.index, name="adx")


def supertrend(df: DataFrame, multiplier: float, period: int) -> DataFrame:
    """Supertrend (Olivier Seban), reproducing ``technical.indicators.supertrend``.

    Algorithm (that of ``technical`` 1.7, statement for statement):

    * ``ATR = SMA(TR, period)`` -- a *simple* moving average of ta-lib's true range (pandas
      ``rolling(period).mean()``), **not** Wilder's :func:`atr`; first defined at bar ``period``.
    * ``basic_ub/lb = (high + low) / 2 +/- multiplier * ATR``.
    * For ``i >= period`` (bands start at 0.0 before):
      ``final_ub[i] = basic_ub[i] if basic_ub[i] < final_ub[i-1] or close[i-1] > final_ub[i-1]
      else final_ub[i-1]``, and symmetrically ``final_lb`` with ``>`` / ``<``.
    * Line: if ``ST[i-1] == final_ub[i-1]`` then ``ST = final_ub if close <= final_ub else
      final_lb``; elif ``ST[i-1] == final_lb[i-1]`` then ``ST = final_lb if close >= final_lb
      else final_ub`` (``ST[period-1] = 0 = final_ub[period-1]`` starts it on the upper branch).
    * Direction: where ``ST > 0``: ``-1`` ("down") if ``close < ST`` else ``+1`` ("up").

    Intended differences from ``technical`` (all else is identical, line to the last bit):

    * Returns a DataFrame (``supertrend`` float64, ``direction`` int8) instead of a tuple of
      an ndarray and an object ndarray of ``"up"``/``"down"``/``None``; argument order is
      ``(multiplier, period)``.
    * Warm-up bars ``0 .. period-1``: ``supertrend`` is NaN (``technical``: 0.0).
    * ``direction`` is 0 wherever ``technical`` gives ``None`` (``ST <= 0``: the warm-up, and
      degenerate cases such as ``multiplier * ATR >= (high + low) / 2``); there the line keeps
      ``technical``'s value (0.0) after the warm-up.

    :param df: OHLCV DataFrame (uses ``high``, ``low``, ``close``).
    :param multiplier: ATR multiplier of the bands.
    :param period: SMA period of the true range, >= 1.
    :return: DataFrame with columns ``supertrend`` and ``direction`` on ``df.index``.
    """
    _check_period("period", period)
    period = int(period)
    high = _as_float(df["high"])
    low = _as_float(df["low"])
    close = _as_float(df["close"])
    tr, _ = true_range_kernel(high, low, close)
    sma_tr = Series(tr).rolling(period).mean().to_numpy()
    basic_ub = (high + low) / 2 + multiplier * sma_tr
    basic_lb = (high + low) / 2 - multiplier * sma_tr
    st = supertrend_kernel(basic_ub, basic_lb, close, period)
    direction = np.where(st > 0, np.where(close < st, -1, 1), 0).astype(np.int8)
    line = st.copy()
    line[: min(period, line.shape[0])] = np.nan
    return DataFrame({"supertrend": line, "direction": direction}, index=df.index)


def ott(df: DataFrame, length: int = 2, percent: float = 1.4, cmo_window: int = 9) -> DataFrame:
    """Optimized Trend Tracker (Anıl Özekşi) on VAR, his Variable Index Dynamic Average.

    Canonical Pine script, ``src = close``::

        valpha = 2 / (length + 1)
        vud1 = src > src[1] ? src - src[1] : 0 ;  vdd1 = src < src[1] ? src[1] - src : 0
        vUD = sum(vud1, cmo_window) ;  vDD = sum(vdd1, cmo_window)
        vCMO = nz((vUD - vDD) / (vUD + vDD))
        VAR := nz(valpha * abs(vCMO) * src) + (1 - valpha * abs(vCMO)) * nz(VAR[1])
        fark = VAR * percent * 0.01
        longStop = VAR - fark ; longStopPrev = nz(longStop[1], longStop)
        longStop := VAR > longStopPrev ? max(longStop, longStopPrev) : longStop
        shortStop = VAR + fark ; shortStopPrev = nz(shortStop[1], shortStop)
        shortStop := VAR < shortStopPrev ? min(shortStop, shortStopPrev) : shortStop
        dir = nz(dir[1], 1)
        dir := dir == -1 and VAR > shortStopPrev ? 1 : dir == 1 and VAR < longStopPrev ? -1 : dir
        MT = dir == 1 ? longStop : shortStop
        OTT = VAR > MT ? MT * (200 + percent) / 200 : MT * (200 - percent) / 200

    and the strategy plots ``OTT[2]``. The reference Freqtrade strategy (freqtrade-strategies
    ``OTT.py``) computes this with an O(N^2) pandas loop; here it is one linear numba pass,
    checked against a line-by-line pure-Python transcription of the Pine script.

    Warm-up (Pine's ``nz`` semantics, deliberately kept): for bars ``0 .. cmo_window-2`` the
    window sums are undefined, so CMO is 0 and VAR stays 0.0 there (a 0/0 CMO on a flat window
    is 0 too). VAR then starts from 0 and converges to price geometrically at the rate
    ``1 - valpha*|CMO|`` per bar, so the first few dozen bars after the warm-up are biased low;
    drop a start-up period (Freqtrade's ``startup_candle_count``) before using the values.
    The ``ott`` column is OTT shifted by 2 bars: NaN on bars 0 and 1 (Pine's ``nz(OTT[2])``
    would print 0), then 0.0 while VAR is 0.

    :param df: OHLCV DataFrame (uses ``close``).
    :param length: VAR period, >= 1 (``valpha = 2 / (length + 1)``).
    :param percent: OTT band in percent, >= 0.
    :param cmo_window: Chande momentum window of VAR, >= 1 (9 in the original).
    :return: DataFrame with columns ``var`` and ``ott`` (``OTT[2]``) on ``df.index``.
    """
    _check_period("length", length)
    _check_period("cmo_window", cmo_window)
    if not percent >= 0:
        raise ValueError(f"percent must be >= 0, got {percent!r}")
    src = _as_float(df["close"])
    var, ott2 = ott_kernel(src, int(length), float(percent), int(cmo_window))
    return DataFrame({"var": var, "ott": ott2}, index=df.index, copy=False)


def ema(series: Series, period: int) -> Series:
    """Exponential moving average: a thin wrapper around ta-lib's ``EMA``.

    ta-lib seeds the average with the simple mean of the first ``period`` values, then
    ``ema_t = ema_{t-1} + 2 / (period + 1) * (x_t - ema_{t-1})``; NaN before index
    ``period - 1``. The seed's weight after ``k`` more candles is ``(1 - 2 / (period + 1)) ** k``.

    :param series: values (e.g. ``close``)
    :param period: span, >= 2
    :return: Series on ``series.index``
    """
    _check_period("period", period, minimum=2)
    values = _as_float(series)
    if values.shape[0] == 0:
        return Series(np.empty(0), index=series.index)
    return Series(talib.EMA(values, timeperiod=int(period)), index=series.index)


def donchian_channel(df: DataFrame, lookback: int) -> DataFrame:
    """Donchian channel of the ``lookback`` candles *before* each candle (Donchian 1960).

    ``upper_t = max(high_{t-lookback} .. high_{t-1})``, ``lower_t = min(low_{t-lookback} ..
    low_{t-1})``: a close above ``upper_t`` is a breakout to a new ``lookback``-candle high.

    :param df: OHLCV DataFrame (uses ``high``, ``low``)
    :param lookback: candles in the channel, >= 1
    :return: DataFrame with ``upper`` and ``lower`` on ``df.index`` (NaN for the first
        ``lookback`` candles)
    """
    _check_period("lookback", lookback)
    upper = df["high"].astype(np.float64).rolling(int(lookback)).max().shift(1)
    lower = df["low"].astype(np.float64).rolling(int(lookback)).min().shift(1)
    return DataFrame({"upper": upper, "lower": lower}, index=df.index)


def donchian_ensemble(df: DataFrame, lookbacks: list[int], exit_fraction: float = 0.5) -> Series:
    """Mean position of an ensemble of Donchian breakout systems (the Turtle rules, one system
    per lookback, as in Zarattini, Pagani & Barbon 2025, "Catching crypto trends").

    System ``N``: long when the close breaks above the ``N``-candle channel, short when it
    breaks below; a long exits when the close falls below the lower channel of
    ``max(1, round(exit_fraction * N))`` candles, a short when it rises above that channel's
    upper band (exits on the opposite, shorter channel), and either exits ``N`` candles after
    the system's last breakout in its direction (a trend that made no new ``N``-candle extreme
    for ``N`` candles is over). That time stop bounds the system's memory: its position at
    ``t`` depends only on the ``2 N`` candles up to ``t``, not on where the data starts.

    :param df: OHLCV DataFrame (uses ``high``, ``low``, ``close``)
    :param lookbacks: entry channel lengths in candles, each >= 1
    :param exit_fraction: exit channel length as a fraction of the entry channel, in (0, 1]
    :return: Series in [-1, 1] on ``df.index``: the mean of the systems' positions (-1 / 0 / +1)
    """
    if not lookbacks:
        raise ValueError("donchian_ensemble needs at least one lookback")
    if not 0 < exit_fraction <= 1:
        raise ValueError(f"exit_fraction must be in (0, 1], got {exit_fraction}")
    close = df["close"].astype(np.float64)
    total = np.zeros(len(df))
    for lookback in lookbacks:
        entry = donchian_channel(df, lookback)
        exit_ = donchian_channel(df, max(1, round(exit_fraction * lookback)))
        total += breakout_position_kernel(
            (close > entry["upper"]).to_numpy(),
            (close < entry["lower"]).to_numpy(),
            (close < exit_["lower"]).to_numpy(),
            (close > exit_["upper"]).to_numpy(),
            int(lookback),
        )
    return Series(total / len(lookbacks), index=df.index)


def rolling_vwap(df: DataFrame, window: int) -> Series:
    """Volume-weighted average price of the last ``window`` candles (the current one included).

    ``vwap_t = sum(typical_i * volume_i) / sum(volume_i)`` over ``i = t - window + 1 .. t``, with
    the typical price ``(high + low + close) / 3``; NaN for the first ``window - 1`` candles and
    where the window traded no volume.

    :param df: OHLCV DataFrame
    :param window: candles, >= 1
    :return: Series on ``df.index``
    """
    _check_period("window", window)
    volume = df["volume"].astype(np.float64)
    traded = (typical_price(df) * volume).rolling(int(window)).sum()
    total = volume.rolling(int(window)).sum()
    return traded / total.where(total > 0)


def perp_premium(close: Series, reference_close: Series, smoothing: int = 1) -> Series:
    """The perpetual's premium over its reference price (spot or index), smoothed.

    ``premium_t = mean(close_i / reference_i - 1)`` over ``i = t - smoothing + 1 .. t``; NaN
    until ``smoothing`` candles with a reference close are in the window. A positive premium
    means longs pay up for leverage (crowded longs), a negative one the reverse.

    :param close: the perpetual's closes
    :param reference_close: the reference price's closes at the same candles
    :param smoothing: candles of the simple average, >= 1
    :return: Series on ``close.index``
    """
    _check_period("smoothing", smoothing)
    reference = reference_close.astype(np.float64)
    premium = close.astype(np.float64) / reference.where(reference > 0) - 1.0
    return premium.rolling(int(smoothing)).mean()
