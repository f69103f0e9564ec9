"""
Tests of meta_strategy.signals.indicators against ta-lib, technical and pure-Python references.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib
from pandas import DataFrame
from technical.indicators import supertrend as technical_supertrend

from meta_strategy.signals import indicators as ind
from tests.helpers.freqtrade import real_data_dir
from tests.helpers.reference_indicators import ott_reference, supertrend_reference


REAL_ROWS = 20_000
RTOL = 1e-9
ATOL = 1e-8  # absolute slack for values near 0; prices are ~1e4..1e5, so rtol dominates
SUPERTREND_PARAMS = [(4, 8), (7, 9), (1, 8), (1, 16), (3, 18), (6, 18)]
OTT_PARAMS = [(2, 1.4, 9), (1, 0.5, 9), (5, 2.0, 14), (3, 1.0, 3)]


def make_random_ohlc(n: int = 3000, seed: int = 42, start: float = 30_000.0) -> DataFrame:
    """Seeded geometric random walk with BTC-like prices, rounded to a 0.1 tick."""
    rng = np.random.default_rng(seed)
    close = np.round(start * np.exp(np.cumsum(rng.normal(0.0, 0.008, n))), 1)
    open_ = np.round(np.concatenate([[start], close[:-1]]), 1)
    body_hi = np.maximum(open_, close)
    body_lo = np.minimum(open_, close)
    high = np.round(body_hi * (1 + np.abs(rng.normal(0.0, 0.003, n))), 1)
    low = np.round(body_lo * (1 - np.abs(rng.normal(0.0, 0.003, n))), 1)
    volume = rng.gamma(2.0, 500.0, n)
    return DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume})


@pytest.fixture(scope="module")
def random_ohlc() -> DataFrame:
    return make_random_ohlc()


@pytest.fixture(scope="module")
def real_ohlc() -> DataFrame:
    path = real_data_dir() / "futures" / "BTC_USDT_USDT-1h-futures.feather"
    if not path.is_file():
        pytest.skip(f"real data not found at {path}; set BITBOT_DATA")
    df = pd.read_feather(path)
    cols = ["open", "high", "low", "close", "volume"]
    return df[cols].iloc[-REAL_ROWS:].reset_index(drop=True).astype(np.float64)


@pytest.fixture(params=["random", "real"])
def ohlc(request: pytest.FixtureRequest) -> DataFrame:
    return request.getfixturevalue(f"{request.param}_ohlc")


def assert_same(actual: object, expected: object, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Identical NaN masks and values equal to rtol/atol."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg="NaN masks differ")
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


def hlc(df: DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (df["high"].to_numpy(float), df["low"].to_numpy(float), df["close"].to_numpy(float))


def technical_direction(stx: np.ndarray) -> np.ndarray:
    """Map technical's 'up'/'down'/None to +1/-1/0."""
    return np.array([{"up": 1, "down": -1, None: 0}[v] for v in stx], dtype=np.int8)


# ---------------------------------------------------------------------------- ta-lib equality


def test_true_range_matches_talib(ohlc: DataFrame) -> None:
    tr = ind.true_range(ohlc)
    assert np.isnan(tr.iloc[0])
    assert_same(tr, talib.TRANGE(*hlc(ohlc)))


@pytest.mark.parametrize("period", [1, 2, 14, 30])
def test_atr_matches_talib(ohlc: DataFrame, period: int) -> None:
    assert_same(ind.atr(ohlc, period), talib.ATR(*hlc(ohlc), timeperiod=period))


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_matches_talib(ohlc: DataFrame, period: int) -> None:
    assert_same(ind.rsi(ohlc["close"], period), talib.RSI(ohlc["close"].to_numpy(), period))


@pytest.mark.parametrize(("window", "stds"), [(20, 2.0), (10, 1.5), (50, 3.0)])
def test_bollinger_matches_talib(ohlc: DataFrame, window: int, stds: float) -> None:
    bb = ind.bollinger_bands(ohlc["close"], window, stds)
    assert list(bb.columns) == ["lower", "mid", "upper"]
    upper, mid, lower = talib.BBANDS(ohlc["close"].to_numpy(), window, stds, stds, matype=0)
    assert_same(bb["upper"], upper)
    assert_same(bb["mid"], mid)
    assert_same(bb["lower"], lower)


def test_bollinger_is_population_std(random_ohlc: DataFrame) -> None:
    close = random_ohlc["close"]
    bb = ind.bollinger_bands(close, 20, 2.0)
    i = 500
    window = close.iloc[i - 19 : i + 1].to_numpy()
    assert bb["upper"].iloc[i] == pytest.approx(window.mean() + 2 * window.std(ddof=0), rel=1e-12)


def test_adx_is_talib(ohlc: DataFrame) -> None:
    assert_same(ind.adx(ohlc, 14), talib.ADX(*hlc(ohlc), timeperiod=14), rtol=0, atol=0)


def test_typical_price(random_ohlc: DataFrame) -> None:
    expected = (random_ohlc["high"] + random_ohlc["low"] + random_ohlc["close"]) / 3
    assert_same(ind.typical_price(random_ohlc), expected)


def test_leading_nans_like_talib(random_ohlc: DataFrame) -> None:
    df = random_ohlc.iloc[:300].copy()
    df.loc[:4, "close"] = np.nan
    df.loc[:6, "high"] = np.nan
    assert_same(ind.true_range(df), talib.TRANGE(*hlc(df)))
    assert_same(ind.atr(df, 14), talib.ATR(*hlc(df), timeperiod=14))
    assert_same(ind.rsi(df["close"], 14), talib.RSI(df["close"].to_numpy(), 14))
    upper, _, _ = talib.BBANDS(df["close"].to_numpy(), 20, 2.0, 2.0, matype=0)
    assert_same(ind.bollinger_bands(df["close"])["upper"], upper)


def test_interior_nans_like_talib(random_ohlc: DataFrame) -> None:
    df = random_ohlc.iloc[:300].copy()
    df.loc[120, "close"] = np.nan  # ta-lib's TR ignores a NaN previous close
    df.loc[200, "high"] = np.nan  # ... but a NaN high poisons TR and Wilder's ATR from here on
    assert_same(ind.true_range(df), talib.TRANGE(*hlc(df)))
    for period in (1, 14):
        assert_same(ind.atr(df, period), talib.ATR(*hlc(df), timeperiod=period))


def test_rsi_interior_nan_is_nan_not_zero(random_ohlc: DataFrame) -> None:
    """Intended difference: ta-lib prints 0.0 after an interior NaN, we print NaN."""
    close = random_ohlc["close"].iloc[:200].copy()
    close.iloc[100] = np.nan
    ours = ind.rsi(close, 14).to_numpy()
    theirs = talib.RSI(close.to_numpy(), 14)
    assert_same(ours[:100], theirs[:100])
    assert np.isnan(ours[100:]).all()
    assert (theirs[101:] == 0.0).all()


# ---------------------------------------------------------------------------- supertrend


@pytest.mark.parametrize(("multiplier", "period"), SUPERTREND_PARAMS)
def test_supertrend_matches_technical(ohlc: DataFrame, multiplier: float, period: int) -> None:
    st_ref, stx_ref = technical_supertrend(ohlc, period=period, multiplier=multiplier)
    ours = ind.supertrend(ohlc, multiplier, period)
    assert list(ours.columns) == ["supertrend", "direction"]
    assert ours["direction"].dtype == np.int8
    line = ours["supertrend"].to_numpy()
    # Intended difference: warm-up line is NaN here, 0.0 in technical.
    assert np.isnan(line[:period]).all()
    assert (np.asarray(st_ref[:period]) == 0.0).all()
    assert_same(line[period:], st_ref[period:])
    # Direction: exact, 0 where technical has None.
    np.testing.assert_array_equal(ours["direction"].to_numpy(), technical_direction(stx_ref))
    assert set(np.unique(ours["direction"].to_numpy()[period:])) <= {-1, 1}


def test_supertrend_reference_agrees(random_ohlc: DataFrame) -> None:
    df = random_ohlc.iloc[:1500]
    for multiplier, period in [(3, 10), (1, 8)]:
        line, direction = supertrend_reference(*hlc(df), multiplier, period)
        ours = ind.supertrend(df, multiplier, period)
        assert_same(ours["supertrend"], line)
        np.testing.assert_array_equal(ours["direction"].to_numpy(), direction)


# ---------------------------------------------------------------------------- OTT


@pytest.mark.parametrize(("length", "percent", "cmo_window"), OTT_PARAMS)
def test_ott_matches_reference(
    ohlc: DataFrame, length: int, percent: float, cmo_window: int
) -> None:
    var_ref, ott_ref = ott_reference(ohlc["close"].tolist(), length, percent, cmo_window)
    ours = ind.ott(ohlc, length, percent, cmo_window)
    assert list(ours.columns) == ["var", "ott"]
    assert_same(ours["var"], var_ref)
    assert_same(ours["ott"], ott_ref)
    # warm-up convention: VAR is 0 until the CMO window is full, OTT[2] is NaN on bars 0 and 1
    assert (ours["var"].to_numpy()[: cmo_window - 1] == 0.0).all()
    assert np.isnan(ours["ott"].to_numpy()[:2]).all()
    assert not np.isnan(ours["ott"].to_numpy()[2:]).any()


def test_ott_default_tracks_price(random_ohlc: DataFrame) -> None:
    out = ind.ott(random_ohlc)
    close = random_ohlc["close"].to_numpy()
    tail = slice(500, None)
    rel = np.abs(out["var"].to_numpy()[tail] / close[tail] - 1)
    assert rel.max() < 0.2
    assert (np.abs(out["ott"].to_numpy()[tail] / close[tail] - 1) < 0.25).all()


@pytest.mark.parametrize("period", [2, 12, 50])
def test_ema_is_talib(ohlc: DataFrame, period: int) -> None:
    close = ohlc["close"].to_numpy(float)
    assert_same(ind.ema(ohlc["close"], period), talib.EMA(close, period))


@pytest.mark.parametrize("lookback", [2, 20, 240])
def test_donchian_channel_is_the_previous_candles_extremes(ohlc: DataFrame, lookback: int) -> None:
    channel = ind.donchian_channel(ohlc, lookback)
    high, low, _ = hlc(ohlc)
    upper = np.concatenate([[np.nan], talib.MAX(high, lookback)[:-1]])
    lower = np.concatenate([[np.nan], talib.MIN(low, lookback)[:-1]])
    assert_same(channel["upper"], upper)
    assert_same(channel["lower"], lower)
    one = ind.donchian_channel(ohlc, 1)  # ta-lib's MAX needs 2: the previous candle itself
    assert_same(one["upper"], ohlc["high"].shift(1))


def test_rolling_vwap_matches_its_definition(ohlc: DataFrame) -> None:
    df = ohlc.iloc[:3000]
    high, low, close, volume = (df[c].tolist() for c in ("high", "low", "close", "volume"))
    window = 24
    expected = [np.nan] * len(df)
    for t in range(window - 1, len(df)):
        rows = range(t - window + 1, t + 1)
        traded = sum((high[i] + low[i] + close[i]) / 3 * volume[i] for i in rows)
        expected[t] = traded / sum(volume[i] for i in rows)
    assert_same(ind.rolling_vwap(df, window), expected)
    quiet = df.assign(volume=0.0)
    assert ind.rolling_vwap(quiet, window).isna().all()  # no volume, no price


def test_perp_premium_matches_its_definition(ohlc: DataFrame) -> None:
    close = ohlc["close"].iloc[:2000]
    rng = np.random.default_rng(5)
    reference = close * (1 + rng.normal(0, 5e-4, len(close)))
    reference.iloc[100] = np.nan  # a missing reference candle
    smoothing = 8
    expected = [np.nan] * len(close)
    for t in range(smoothing - 1, len(close)):
        window = [close.iloc[i] / reference.iloc[i] - 1 for i in range(t - smoothing + 1, t + 1)]
        expected[t] = sum(window) / smoothing  # NaN while the missing candle is in the window
    assert_same(ind.perp_premium(close, reference, smoothing), expected)
    assert ind.perp_premium(close, reference, smoothing).iloc[100:108].isna().all()
    with pytest.raises(ValueError, match="smoothing"):
        ind.perp_premium(close, reference, 0)


def donchian_ensemble_reference(
    high: list[float], low: list[float], close: list[float], lookbacks: list[int], exit_share: float
) -> list[float]:
    """The ensemble written from its definition, one system and one candle at a time."""
    total = [0.0] * len(close)
    for n in lookbacks:
        m = max(1, round(exit_share * n))
        position, since = 0, 0
        for t in range(len(close)):
            up = t >= n and close[t] > max(high[t - n : t])
            down = t >= n and close[t] < min(low[t - n : t])
            exit_long = t >= m and close[t] < min(low[t - m : t])
            exit_short = t >= m and close[t] > max(high[t - m : t])
            if up and not down:
                position, since = 1, 0
            elif down and not up:
                position, since = -1, 0
            elif position != 0:
                since += 1
                ended = exit_long if position == 1 else exit_short
                if ended or since >= n:  # the opposite channel, or n candles without a breakout
                    position = 0
            total[t] += position
    return [x / len(lookbacks) for x in total]


@pytest.mark.parametrize(("lookbacks", "exit_share"), [([5, 12, 30], 0.5), ([24, 240], 1.0)])
def test_donchian_ensemble_matches_reference(
    ohlc: DataFrame, lookbacks: list[int], exit_share: float
) -> None:
    df = ohlc.iloc[:5000]
    high, low, close = (df[c].tolist() for c in ("high", "low", "close"))
    expected = donchian_ensemble_reference(high, low, close, lookbacks, exit_share)
    assert_same(ind.donchian_ensemble(df, lookbacks, exit_share), expected)
    assert {-1.0, 1.0} <= set(expected), "both directions"
    # bounded memory: from 2 N candles on, where the data starts changes nothing
    start = 2 * max(lookbacks)
    late = ind.donchian_ensemble(df.iloc[start:].reset_index(drop=True), lookbacks, exit_share)
    assert_same(late.iloc[start:], np.asarray(expected)[2 * start :])


# ---------------------------------------------------------------------------- properties


INDICATORS: dict[str, Callable[[DataFrame], DataFrame | pd.Series]] = {
    "true_range": ind.true_range,
    "atr": lambda d: ind.atr(d, 14),
    "rsi": lambda d: ind.rsi(d["close"], 14),
    "typical_price": ind.typical_price,
    "bollinger_bands": lambda d: ind.bollinger_bands(d["close"], 20, 2.0),
    "adx": lambda d: ind.adx(d, 14),
    "supertrend": lambda d: ind.supertrend(d, 3, 10),
    "ott": lambda d: ind.ott(d),
    "ema": lambda d: ind.ema(d["close"], 20),
    "rolling_vwap": lambda d: ind.rolling_vwap(d, 24),
    "donchian_channel": lambda d: ind.donchian_channel(d, 20),
    "donchian_ensemble": lambda d: ind.donchian_ensemble(d, [5, 12, 30]),
    # the open stands in for the reference price: it changes after the cut too
    "perp_premium": lambda d: ind.perp_premium(d["close"], d["open"], 8),
}


@pytest.mark.parametrize("name", list(INDICATORS))
def test_no_lookahead(random_ohlc: DataFrame, name: str) -> None:
    func = INDICATORS[name]
    df = random_ohlc.iloc[:1200]
    full = func(df)
    alt = df.copy()
    later = alt.index > 700
    rng = np.random.default_rng(7)
    for col in ("open", "high", "low", "close"):
        alt.loc[later, col] = alt.loc[later, col] * rng.uniform(0.5, 1.5, later.sum())
    altered = func(alt)
    for t in (0, 1, 5, 13, 30, 700):
        truncated = func(df.iloc[: t + 1])
        np.testing.assert_array_equal(
            np.asarray(truncated, dtype=float), np.asarray(full, dtype=float)[: t + 1]
        )
    np.testing.assert_array_equal(
        np.asarray(altered, dtype=float)[:701], np.asarray(full, dtype=float)[:701]
    )


def test_constant_price() -> None:
    n = 200
    price = 42_000.5
    df = DataFrame({c: np.full(n, price) for c in ("open", "high", "low", "close")})
    df["volume"] = 1.0
    close = df["close"].to_numpy()
    # RSI of a flat series is 0 in ta-lib's convention (0/0 averages)
    assert_same(ind.rsi(df["close"], 14), talib.RSI(close, 14))
    atr = ind.atr(df, 14).to_numpy()
    assert (atr[14:] == 0.0).all()
    bb = ind.bollinger_bands(df["close"], 20, 2.0)
    assert (bb.iloc[19:].to_numpy() == price).all()
    # OTT: CMO is 0/0 -> 0, so VAR never leaves 0 and neither does OTT
    out = ind.ott(df)
    var_ref, ott_ref = ott_reference(close, 2, 1.4, 9)
    assert_same(out["var"], var_ref)
    assert_same(out["ott"], ott_ref)
    assert (out["var"].to_numpy() == 0.0).all()
    assert (out["ott"].to_numpy()[2:] == 0.0).all()
    st_ref, stx_ref = technical_supertrend(df, period=10, multiplier=3)
    st = ind.supertrend(df, 3, 10)
    assert_same(st["supertrend"].to_numpy()[10:], st_ref[10:])
    np.testing.assert_array_equal(st["direction"].to_numpy(), technical_direction(stx_ref))


@pytest.mark.parametrize("n", [0, 1, 2, 5, 13])
def test_short_input(random_ohlc: DataFrame, n: int) -> None:
    df = random_ohlc.iloc[:n]
    assert ind.true_range(df).shape == (n,)
    assert ind.atr(df, 14).isna().all()
    assert ind.rsi(df["close"], 14).isna().all()
    assert ind.bollinger_bands(df["close"], 20).isna().all().all()
    assert ind.adx(df, 14).isna().all()
    st = ind.supertrend(df, 3, 14)
    assert st["supertrend"].isna().all()
    assert (st["direction"] == 0).all()
    out = ind.ott(df)
    assert out.shape == (n, 2)
    assert np.isnan(out["ott"].to_numpy()[:2]).all()
    var_ref, ott_ref = ott_reference(df["close"].tolist())
    assert_same(out["var"], var_ref)
    assert_same(out["ott"], ott_ref)


def test_index_preserved(random_ohlc: DataFrame) -> None:
    df = random_ohlc.iloc[100:400]
    for func in INDICATORS.values():
        out = func(df)
        assert out.index.equals(df.index)


def test_bad_parameters(random_ohlc: DataFrame) -> None:
    with pytest.raises(ValueError):
        ind.atr(random_ohlc, 0)
    with pytest.raises(ValueError, match="period"):
        ind.ema(random_ohlc["close"], 1)
    with pytest.raises(ValueError, match="lookback"):
        ind.donchian_channel(random_ohlc, 0)
    with pytest.raises(ValueError, match="exit_fraction"):
        ind.donchian_ensemble(random_ohlc, [5], exit_fraction=0)
    with pytest.raises(ValueError, match="at least one lookback"):
        ind.donchian_ensemble(random_ohlc, [])
    with pytest.raises(ValueError):
        ind.rsi(random_ohlc["close"], 1)
    with pytest.raises(ValueError):
        ind.supertrend(random_ohlc, 3, 0)
    with pytest.raises(ValueError):
        ind.ott(random_ohlc, length=0)
    with pytest.raises(ValueError):
        ind.ott(random_ohlc, percent=-1.0)
