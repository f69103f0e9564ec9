"""Slow, obviously-correct pure-Python reference implementations of indicators.

Written straight from the published formulas with plain loops over Python lists: no numba, no
numpy vectorisation, no pandas. They exist to check the fast versions in
``meta_strategy.signals.indicators`` (tests) and to measure their speed-up
(``bench/bench_indicators.py``).
"""

from __future__ import annotations

from collections.abc import Sequence


NAN = float("nan")


def _is_na(x: float) -> bool:
    """Pine's ``na`` test for a float.

    :param x: a number.
    :return: True when ``x`` is NaN.
    """
    return x != x


def _nz(x: float, replacement: float = 0.0) -> float:
    """Pine's ``nz(x, replacement)``.

    :param x: a number, possibly NaN.
    :param replacement: value returned when ``x`` is NaN.
    :return: ``x`` or ``replacement``.
    """
    return replacement if _is_na(x) else x


def ott_reference(
    close: Sequence[float], length: int = 2, percent: float = 1.4, cmo_window: int = 9
) -> tuple[list[float], list[float]]:
    """Anıl Özekşi's VAR and OTT, transcribed line by line from the canonical Pine script.

    Bar by bar (``src = close``; ``x[1]`` is the previous bar's final value, ``na`` before bar 0)::

        valpha = 2 / (length + 1)
        vud1 = src > src[1] ? src - src[1] : 0
        vdd1 = src < src[1] ? src[1] - src : 0
        vUD = sum(vud1, cmo_window)                  // na until cmo_window bars exist
        vDD = sum(vdd1, cmo_window)
        vCMO = nz((vUD - vDD) / (vUD + vDD))         // x / 0 is na in Pine -> 0
        VAR := nz(valpha * abs(vCMO) * src) + (1 - valpha * abs(vCMO)) * nz(VAR[1])
        fark = VAR * percent * 0.01
        longStop = VAR - fark
        longStopPrev = nz(longStop[1], longStop)
        longStop := VAR > longStopPrev ? max(longStop, longStopPrev) : longStop
        shortStop = VAR + fark
        shortStopPrev = nz(shortStop[1], shortStop)
        shortStop := VAR < shortStopPrev ? min(shortStop, shortStopPrev) : shortStop
        dir = nz(dir[1], 1)
        dir := dir == -1 and VAR > shortStopPrev ? 1 : dir == 1 and VAR < longStopPrev ? -1 : dir
        MT = dir == 1 ? longStop : shortStop
        OTT = VAR > MT ? MT * (200 + percent) / 200 : MT * (200 - percent) / 200

    :param close: closing prices.
    :param length: VAR period.
    :param percent: OTT percent.
    :param cmo_window: window of the CMO sums.
    :return: ``(var, ott)`` lists; ``ott`` is ``OTT[2]`` (NaN on the first two bars).
    """
    src = [float(x) for x in close]
    n = len(src)
    valpha = 2 / (length + 1)

    vud1: list[float] = []
    vdd1: list[float] = []
    for i in range(n):
        prev = src[i - 1] if i > 0 else NAN
        # a comparison with na is false in Pine, as with NaN in Python
        vud1.append(src[i] - prev if src[i] > prev else 0.0)
        vdd1.append(prev - src[i] if src[i] < prev else 0.0)

    var_hist: list[float] = []
    long_hist: list[float] = []
    short_hist: list[float] = []
    dir_hist: list[int] = []
    ott_hist: list[float] = []
    for i in range(n):
        if i >= cmo_window - 1:
            v_ud = sum(vud1[i - cmo_window + 1 : i + 1])
            v_dd = sum(vdd1[i - cmo_window + 1 : i + 1])
            v_cmo = _nz((v_ud - v_dd) / (v_ud + v_dd) if (v_ud + v_dd) != 0 else NAN)
        else:
            v_cmo = _nz(NAN)
        var_prev = var_hist[i - 1] if i > 0 else NAN
        var = _nz(valpha * abs(v_cmo) * src[i]) + (1 - valpha * abs(v_cmo)) * _nz(var_prev)
        var_hist.append(var)

        fark = var * percent * 0.01
        long_stop = var - fark
        long_stop_prev = _nz(long_hist[i - 1] if i > 0 else NAN, long_stop)
        long_stop = max(long_stop, long_stop_prev) if var > long_stop_prev else long_stop
        long_hist.append(long_stop)
        short_stop = var + fark
        short_stop_prev = _nz(short_hist[i - 1] if i > 0 else NAN, short_stop)
        short_stop = min(short_stop, short_stop_prev) if var < short_stop_prev else short_stop
        short_hist.append(short_stop)

        direction = dir_hist[i - 1] if i > 0 else 1
        if direction == -1 and var > short_stop_prev:
            direction = 1
        elif direction == 1 and var < long_stop_prev:
            direction = -1
        dir_hist.append(direction)

        mt = long_stop if direction == 1 else short_stop
        ott_hist.append(mt * (200 + percent) / 200 if var > mt else mt * (200 - percent) / 200)

    ott_shifted = [ott_hist[i - 2] if i >= 2 else NAN for i in range(n)]
    return var_hist, ott_shifted


def supertrend_reference(
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    multiplier: float,
    period: int,
) -> tuple[list[float], list[int]]:
    """Supertrend as computed by ``technical.indicators.supertrend``, with plain loops.

    ``TR`` is Wilder's true range (NaN on bar 0), ``ATR`` its simple ``period``-bar mean,
    basic bands ``hl2 +/- multiplier * ATR``, final bands ratcheted from bar ``period`` on
    (0.0 before), the line follows the upper band until the close crosses it, and the direction
    is ``-1`` if ``close < line`` else ``+1`` where the line is ``> 0``, else 0. The line is NaN
    during the warm-up (bars before ``period``), as in
    ``meta_strategy.signals.indicators.supertrend``.

    :param high: highs.
    :param low: lows.
    :param close: closes.
    :param multiplier: ATR multiplier.
    :param period: ATR (SMA of TR) period.
    :return: ``(line, direction)`` lists.
    """
    h = [float(x) for x in high]
    lo = [float(x) for x in low]
    c = [float(x) for x in close]
    n = len(c)
    tr = [NAN] * n
    for i in range(1, n):
        tr[i] = max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1]))
    atr = [NAN] * n
    for i in range(period, n):
        atr[i] = sum(tr[i - period + 1 : i + 1]) / period

    final_ub = [0.0] * n
    final_lb = [0.0] * n
    st = [0.0] * n
    for i in range(period, n):
        basic_ub = (h[i] + lo[i]) / 2 + multiplier * atr[i]
        basic_lb = (h[i] + lo[i]) / 2 - multiplier * atr[i]
        if basic_ub < final_ub[i - 1] or c[i - 1] > final_ub[i - 1]:
            final_ub[i] = basic_ub
        else:
            final_ub[i] = final_ub[i - 1]
        if basic_lb > final_lb[i - 1] or c[i - 1] < final_lb[i - 1]:
            final_lb[i] = basic_lb
        else:
            final_lb[i] = final_lb[i - 1]
        if st[i - 1] == final_ub[i - 1]:
            st[i] = final_ub[i] if c[i] <= final_ub[i] else final_lb[i]
        elif st[i - 1] == final_lb[i - 1]:
            st[i] = final_lb[i] if c[i] >= final_lb[i] else final_ub[i]

    direction = [(-1 if c[i] < st[i] else 1) if st[i] > 0 else 0 for i in range(n)]
    line = [NAN if i < period else st[i] for i in range(n)]
    return line, direction
