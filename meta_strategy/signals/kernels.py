"""
Linear-time numba kernels of the sequential indicator recursions (Wilder smoothing, Supertrend
bands, OTT stops) and of the position a stream of entry / exit signals leaves, on numpy arrays.
The public functions in :mod:`meta_strategy.signals.indicators` and
:mod:`meta_strategy.signals.engine` prepare their inputs and wrap their outputs.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from numba import njit


logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


@njit(cache=True)
def true_range_kernel(
    high: FloatArray, low: FloatArray, close: FloatArray
) -> tuple[FloatArray, int]:  # pragma: no cover
    """ta-lib's ``TA_TRANGE`` C loop, after the wrapper's skip of leading NaN bars.

    :return: (true range, ``start`` = first bar where high, low and close are all non-NaN,
        ``len`` if none); the range is NaN up to and including ``start``.
    """
    n = high.shape[0]
    out = np.full(n, np.nan)
    start = n
    for i in range(n):
        if not (np.isnan(high[i]) or np.isnan(low[i]) or np.isnan(close[i])):
            start = i
            break
    for i in range(start + 1, n):
        prev_close = close[i - 1]
        greatest = high[i] - low[i]
        val2 = abs(prev_close - high[i])
        if val2 > greatest:
            greatest = val2
        val3 = abs(low[i] - prev_close)
        if val3 > greatest:
            greatest = val3
        out[i] = greatest
    return out, start


@njit(cache=True)
def wilder_atr_kernel(tr: FloatArray, start: int, period: int) -> FloatArray:  # pragma: no cover
    """Wilder-smoothed ATR exactly as ta-lib's ``TA_ATR``.

    Seed: ``ATR[start+period] = sum(TR[start+1 .. start+period]) / period`` (summed left to
    right, as ta-lib's ``INT_SMA``); then ``ATR[i] = (ATR[i-1] * (period-1) + TR[i]) / period``.
    """
    n = tr.shape[0]
    out = np.full(n, np.nan)
    first = start + period
    if first >= n:
        return out
    total = 0.0
    for i in range(start + 1, first + 1):
        total += tr[i]
    prev = total / period
    out[first] = prev
    for i in range(first + 1, n):
        prev = prev * (period - 1)
        prev = prev + tr[i]
        prev = prev / period
        out[i] = prev
    return out


@njit(cache=True)
def _add_move(d: float, gain: float, loss: float) -> tuple[float, float]:  # pragma: no cover
    """:return: (gain, loss) with the price move ``d`` added to the side it belongs to"""
    if d < 0.0:
        return gain, loss - d
    return gain + d, loss


@njit(cache=True)
def wilder_rsi_kernel(x: FloatArray, start: int, period: int) -> FloatArray:  # pragma: no cover
    """Wilder RSI exactly as ta-lib's ``TA_RSI`` (non-Metastock, unstable period 0).

    Average gain/loss are seeded with the plain mean of the first ``period`` changes after
    ``start`` and then smoothed as ``avg = (avg * (period-1) + change) / period``.
    ``RSI = 100 * avg_gain / (avg_gain + avg_loss)``, 0 when both averages are 0.
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    first = start + period
    if first >= n:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(start + 1, first + 1):
        gain, loss = _add_move(x[i] - x[i - 1], gain, loss)
    loss /= period
    gain /= period
    s = gain + loss
    out[first] = 100.0 * (gain / s) if s != 0.0 else 0.0
    for i in range(first + 1, n):
        gain, loss = _add_move(x[i] - x[i - 1], gain * (period - 1), loss * (period - 1))
        loss /= period
        gain /= period
        s = gain + loss
        # NaN s (a NaN input poisoned the averages) gives NaN here; ta-lib prints 0.0.
        out[i] = 100.0 * (gain / s) if s != 0.0 else 0.0
    return out


@njit(cache=True)
def supertrend_kernel(
    basic_ub: FloatArray, basic_lb: FloatArray, close: FloatArray, period: int
) -> FloatArray:  # pragma: no cover
    """Final bands and Supertrend line, statement for statement as ``technical``'s loops.

    Arrays start at 0.0 (as ``technical``'s ``np.zeros``) and the recursion starts at
    ``period``; the two loops of ``technical`` are fused (the line at ``i`` needs only the
    bands up to ``i``), which does not change any value.
    """
    n = close.shape[0]
    fub = np.zeros(n)
    flb = np.zeros(n)
    st = np.zeros(n)
    for i in range(period, n):
        if basic_ub[i] < fub[i - 1] or close[i - 1] > fub[i - 1]:
            fub[i] = basic_ub[i]
        else:
            fub[i] = fub[i - 1]
        if basic_lb[i] > flb[i - 1] or close[i - 1] < flb[i - 1]:
            flb[i] = basic_lb[i]
        else:
            flb[i] = flb[i - 1]
        if st[i - 1] == fub[i - 1]:
            st[i] = fub[i] if close[i] <= fub[i] else flb[i]
        elif st[i - 1] == flb[i - 1]:
            st[i] = flb[i] if close[i] >= flb[i] else fub[i]
    return st


@njit(cache=True)
def window_sums(x: FloatArray, window: int) -> FloatArray:  # pragma: no cover
    """``out[i] = x[i-window+1] + ... + x[i]`` summed oldest first, 0.0 where undefined.

    Every window is summed afresh in the same left-to-right order as Python's ``sum`` over the
    slice (O(N * window), no running-sum drift, bit-identical to the pure-Python reference).
    Windows are processed in L1-sized blocks, ``window`` vectorisable passes per block.
    """
    n = x.shape[0]
    out = np.zeros(n)
    block = 512
    acc = np.zeros(block)
    for start in range(window - 1, n, block):
        m = min(block, n - start)
        lo = start - window + 1
        for j in range(m):
            acc[j] = 0.0
        for k in range(window):
            seg = x[lo + k : lo + k + m]
            for j in range(m):
                acc[j] += seg[j]
        out[start : start + m] = acc[:m]
    return out


@njit(cache=True)
def ott_kernel(
    src: FloatArray, length: int, percent: float, cmo_window: int
) -> tuple[FloatArray, FloatArray]:  # pragma: no cover
    """Özekşi's VAR and OTT (see :func:`ott`) in linear passes; returns (VAR, OTT[2]).

    Every value is computed with the same floating-point operations, in the same order, as
    the pure-Python transcription of the Pine script (bit-identical results). The passes are
    split so that only the two short recursions (VAR, then stops/direction) are sequential.
    """
    n = src.shape[0]
    valpha = 2.0 / (length + 1)
    # 1. vud1/vdd1: Pine's src > src[1] with src[1] = na on bar 0 is false -> 0 (NaN too).
    #    src > src[1] <=> src - src[1] > 0, and src[1] - src == -(src - src[1]) exactly.
    vud1 = np.zeros(n)
    vdd1 = np.zeros(n)
    for i in range(1, n):
        diff = src[i] - src[i - 1]
        vud1[i] = diff if diff > 0.0 else 0.0
        vdd1[i] = -diff if diff < 0.0 else 0.0
    # 2. CMO weight valpha * |nz(CMO)|: 0 in the warm-up (sums undefined) and for 0/0.
    v_ud = window_sums(vud1, cmo_window)
    v_dd = window_sums(vdd1, cmo_window)
    weight = np.zeros(n)
    for i in range(cmo_window - 1, n):
        den = v_ud[i] + v_dd[i]
        if den != 0.0:
            weight[i] = valpha * abs((v_ud[i] - v_dd[i]) / den)
    # 3. VAR := nz(a * src) + (1 - a) * nz(VAR[1]), VAR starting at 0.
    var = np.empty(n)
    var_prev = 0.0
    for i in range(n):
        a = weight[i]
        term = a * src[i]
        if np.isnan(term):
            term = 0.0
        var_prev = term + (1.0 - a) * var_prev
        var[i] = var_prev
    # 4. trailing stops, direction and OTT, written two bars later (OTT[2]).
    ott2 = np.full(n, np.nan)
    long_prev = 0.0
    short_prev = 0.0
    dir_prev = 1
    for i in range(n):
        v = var[i]
        fark = v * percent * 0.01
        long_stop = v - fark
        long_stop_prev = long_prev if i > 0 else long_stop
        if v > long_stop_prev:
            long_stop = max(long_stop, long_stop_prev)
        short_stop = v + fark
        short_stop_prev = short_prev if i > 0 else short_stop
        if v < short_stop_prev:
            short_stop = min(short_stop, short_stop_prev)
        d = dir_prev
        if d == -1 and v > short_stop_prev:
            d = 1
        elif d == 1 and v < long_stop_prev:
            d = -1
        mt = long_stop if d == 1 else short_stop
        if i + 2 < n:
            if v > mt:
                ott2[i + 2] = mt * (200.0 + percent) / 200.0
            else:
                ott2[i + 2] = mt * (200.0 - percent) / 200.0
        long_prev = long_stop
        short_prev = short_stop
        dir_prev = d
    return var, ott2


@njit(cache=True)
def position_kernel(
    enter_long: npt.NDArray[np.bool_],
    enter_short: npt.NDArray[np.bool_],
    exit_long: npt.NDArray[np.bool_],
    exit_short: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int8]:  # pragma: no cover - compiled
    """
    The position held after each candle from entry and exit signals (the state machine of
    :func:`meta_strategy.signals.engine.direction_from_signals`).

    :return: int8 array of -1 / 0 / +1
    """
    n = len(enter_long)
    out = np.zeros(n, dtype=np.int8)
    pos = 0
    for i in range(n):
        long_in = enter_long[i] and not enter_short[i]
        short_in = enter_short[i] and not enter_long[i]
        if pos == 1:
            if short_in:
                pos = -1
            elif exit_long[i]:
                pos = 0
        elif pos == -1:
            if long_in:
                pos = 1
            elif exit_short[i]:
                pos = 0
        if pos == 0:
            if long_in and not exit_long[i]:
                pos = 1
            elif short_in and not exit_short[i]:
                pos = -1
        out[i] = pos
    return out


@njit(cache=True)
def breakout_position_kernel(
    up: npt.NDArray[np.bool_],
    down: npt.NDArray[np.bool_],
    exit_long: npt.NDArray[np.bool_],
    exit_short: npt.NDArray[np.bool_],
    max_hold: int,
) -> npt.NDArray[np.int8]:  # pragma: no cover - compiled
    """
    The position of one breakout system: a breakout up opens (or renews) a long, a breakout down
    a short; a long closes on ``exit_long``, a short on ``exit_short``, and either closes
    ``max_hold`` candles after the last breakout in its direction. The position at ``t``
    therefore depends only on the last ``max_hold`` candles' events.

    :return: int8 array of -1 / 0 / +1
    """
    n = len(up)
    out = np.zeros(n, dtype=np.int8)
    pos = 0
    since = 0
    for i in range(n):
        if up[i] and not down[i]:
            pos = 1
            since = 0
        elif down[i] and not up[i]:
            pos = -1
            since = 0
        elif pos != 0:
            since += 1
            if (pos == 1 and exit_long[i]) or (pos == -1 and exit_short[i]) or since >= max_hold:
                pos = 0
        out[i] = pos
    return out
