"""Track records and market regimes: against slow references, by hand, and without look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from meta_strategy.signals.regimes import (
    REGIMES,
    RegimeSettings,
    efficiency_ratio,
    market_regimes,
    regime_shares,
    volatility_percentile,
)
from meta_strategy.signals.track_record import (
    following_returns,
    open_trade_return,
    track_records,
    warmup_candles,
)
from tests.helpers.frames import prices_scaled_after


FEE = 0.0007


def _walk(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    direction = pd.Series(rng.choice([-1.0, 0.0, 1.0], n)).where(np.arange(n) >= 5)
    funding = pd.Series(np.where(np.arange(n) % 8 == 0, rng.normal(1e-4, 1e-4, n), 0.0))
    return pd.DataFrame({"close": close, "direction": direction, "funding": funding})


# ---------------------------------------------------------------------------- track records


def test_following_returns_by_hand() -> None:
    close = pd.Series([100.0, 110.0, 99.0, 99.0, 108.9])
    direction = pd.Series([0.0, 1.0, 1.0, -1.0, 0.0])
    funding = pd.Series([0.0, 0.0, 0.001, 0.0, 0.002])
    returns = following_returns(direction, close, funding, FEE)
    assert np.isnan(returns[:2]).all()  # a return needs the two directions before it
    # candle 2: long (decided at 1's close, one fill) through -10 %, paying 0.1 % funding
    assert returns[2] == pytest.approx(-0.1 - FEE - 0.001)
    # candle 3: still long at the open (the flip is decided at 3's close): flat price
    assert returns[3] == pytest.approx(0.0)
    # candle 4: short after a flip (two fills) through +10 %; a short receives the funding
    assert returns[4] == pytest.approx(-0.1 - 2 * FEE + 0.002)
    with pytest.raises(ValueError, match="fee"):
        following_returns(direction, close, funding, -0.1)


def _reference_records(frame: pd.DataFrame, candles_per_day: int) -> dict[str, list[float]]:
    """The records written from their definition, one candle at a time."""
    close, direction, funding = (frame[c].tolist() for c in ("close", "direction", "funding"))
    n = len(close)
    returns = [math.nan] * n
    for t in range(2, n):
        held, before = direction[t - 1], direction[t - 2]
        returns[t] = (
            held * (close[t] / close[t - 1] - 1) - FEE * abs(held - before) - held * funding[t]
        )
    out: dict[str, list[float]] = {}
    for days in (7, 30, 90):
        w = days * candles_per_day
        values = [math.nan] * n
        for t in range(w - 1, n):
            window = returns[t - w + 1 : t + 1]
            if not any(math.isnan(r) for r in window):
                values[t] = math.prod(1 + r for r in window) - 1
        out[f"ret_{days}d"] = values
    w = 30 * candles_per_day
    values = [math.nan] * n
    for t in range(w - 1, n):
        window = returns[t - w + 1 : t + 1]
        if not any(math.isnan(r) for r in window):
            values[t] = float(
                np.mean(window) / np.std(window, ddof=1) * math.sqrt(365 * candles_per_day)
            )
    out["sharpe_30d"] = values
    return out


def test_track_records_match_the_reference() -> None:
    frame = _walk(400)
    records = track_records(frame["direction"], frame["close"], frame["funding"], FEE, 2)
    expected = _reference_records(frame, 2)
    for column, values in expected.items():
        np.testing.assert_allclose(records[column], values, rtol=1e-9, atol=1e-12, err_msg=column)
    first = records.notna().all(axis=1).idxmax()
    assert first == 5 + warmup_candles(2) - 1  # the directions start at candle 5


def test_a_strategy_that_stays_flat_has_a_sharpe_of_zero() -> None:
    frame = _walk(200)
    flat = pd.Series(0.0, index=frame.index)
    records = track_records(flat, frame["close"], frame["funding"], FEE, 2)
    assert (records["sharpe_30d"].dropna() == 0).all() and records["sharpe_30d"].notna().any()
    assert (records["ret_7d"].dropna() == 0).all()


def _reference_open_trade(frame: pd.DataFrame) -> list[float]:
    """
    The open trade's return, one candle at a time: its value compounds each candle's net
    return (:func:`following_returns`' convention: the fills are paid in the trade's first
    candle, with its move and funding).
    """
    close, direction, funding = (frame[c].tolist() for c in ("close", "direction", "funding"))
    out = [math.nan] * len(close)
    value, side, fills = 1.0, 0.0, 0.0
    for t, now in enumerate(direction):
        if t > 0 and side != 0:  # the trade held over candle t
            move = close[t] / close[t - 1] - 1
            value *= 1 + side * move - FEE * fills - side * funding[t]
            fills = 0.0
        if math.isnan(now):
            continue
        if now != side:  # a new trade (or flat) from t's close
            value, fills, side = 1.0, abs(now - side), now
        out[t] = value - 1 if side != 0 else 0.0
    return out


def test_open_trade_return_matches_the_reference() -> None:
    frame = _walk(300)
    got = open_trade_return(frame["direction"], frame["close"], frame["funding"], FEE)
    np.testing.assert_allclose(got, _reference_open_trade(frame), rtol=1e-9, atol=1e-12)
    assert got.iloc[:5].isna().all() and got.iloc[5:].notna().all()
    records = track_records(
        frame["direction"], frame["close"], frame["funding"], FEE, 2, open_trade=True
    )
    np.testing.assert_array_equal(records["open_trade"], got)
    assert "open_trade" not in track_records(
        frame["direction"], frame["close"], frame["funding"], FEE, 2
    )


def test_open_trade_return_by_hand() -> None:
    close = pd.Series([100.0, 100.0, 110.0, 121.0, 121.0, 108.9])
    direction = pd.Series([np.nan, 1.0, 1.0, -1.0, -1.0, 0.0])
    funding = pd.Series([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    got = open_trade_return(direction, close, funding, FEE).tolist()
    assert math.isnan(got[0]) and got[1] == 0.0  # opened at 1's close
    assert got[2] == pytest.approx(0.1 - FEE)  # +10 %, one fill
    assert got[3] == 0.0  # flipped to short at 3's close
    assert got[4] == pytest.approx(-2 * FEE)  # two fills, a flat candle
    assert got[5] == 0.0  # flat


def test_open_trade_return_reads_only_the_past() -> None:
    frame = _walk(300)
    changed = frame.copy()
    changed.loc[200:, "close"] *= 1.3
    changed.loc[200:, "direction"] = -changed.loc[200:, "direction"]
    before = open_trade_return(frame["direction"], frame["close"], frame["funding"], FEE)
    after = open_trade_return(changed["direction"], changed["close"], changed["funding"], FEE)
    np.testing.assert_array_equal(before[:200], after[:200])
    assert not np.allclose(before[200:], after[200:])


# ---------------------------------------------------------------------------- regimes


def test_efficiency_ratio_matches_the_reference() -> None:
    close = _walk(300)["close"]
    expected = [math.nan] * len(close)
    for t in range(10, len(close)):
        path = sum(abs(close[i] - close[i - 1]) for i in range(t - 9, t + 1))
        expected[t] = abs(close[t] - close[t - 10]) / path
    np.testing.assert_allclose(efficiency_ratio(close, 10), expected, rtol=1e-9)
    line = pd.Series(np.arange(50, dtype=float) + 100)
    assert (efficiency_ratio(line, 10).dropna() == 1.0).all()  # a straight line
    assert (efficiency_ratio(pd.Series(np.full(30, 5.0)), 10).dropna() == 0.0).all()


def test_volatility_percentile_matches_the_reference() -> None:
    close = _walk(400)["close"]
    percentile = volatility_percentile(close, 20, 50)
    volatility = np.log(close).diff().rolling(20).std()
    for t in (68, 69, 150, 399):
        window = volatility[t - 49 : t + 1]
        expected = (window <= volatility[t]).mean() if window.notna().all() else math.nan
        assert percentile[t] == pytest.approx(expected, nan_ok=True), t
    assert np.isnan(percentile[68]) and not np.isnan(percentile[69])


def test_regime_codes_and_one_hot() -> None:
    settings = RegimeSettings(efficiency_window=10, volatility_window=10, percentile_window=30)
    frame = _walk(600)
    regimes = market_regimes(frame, settings)
    known = regimes["regime"].notna()
    assert known.idxmax() == settings.warmup
    trending = regimes["efficiency"] >= settings.trend_threshold
    volatile = regimes["volatility_percentile"] >= settings.volatile_threshold
    expected = trending.astype(int) + 2 * volatile.astype(int)
    assert (regimes.loc[known, "regime"] == expected[known]).all()
    one_hot = regimes[[f"regime_{name}" for name in REGIMES]]
    assert (one_hot[known].sum(axis=1) == 1).all() and (one_hot[~known].sum(axis=1) == 0).all()
    shares = regime_shares(regimes["regime"])
    assert sum(shares.values()) == pytest.approx(1.0) and min(shares.values()) > 0
    assert regime_shares(pd.Series([np.nan])) == dict.fromkeys(REGIMES, 0.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("efficiency_window", 1), ("percentile_window", 2.5), ("trend_threshold", 1.0)],
)
def test_bad_regime_settings(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        RegimeSettings(**{field: value})


# ---------------------------------------------------------------------------- no look-ahead


def test_records_and_regimes_do_not_look_ahead(any_market_1h: pd.DataFrame) -> None:
    """Changing every candle after t changes no track record and no regime at or before t."""
    candles = any_market_1h.iloc[-6000:].reset_index(drop=True)
    rng = np.random.default_rng(5)
    direction = pd.Series(np.sign(np.sin(np.arange(len(candles)) / 50.0)))
    funding = pd.Series(np.where(np.arange(len(candles)) % 8 == 0, 1e-4, 0.0))

    def features(frame: pd.DataFrame) -> pd.DataFrame:
        records = track_records(direction, frame["close"], funding, FEE, 24)
        return pd.concat([records, market_regimes(frame)], axis=1)

    full = features(candles)
    assert full.iloc[-1].notna().all()
    for cut in (3001, 4502, 5997):
        part = features(prices_scaled_after(candles, cut, rng, 0.8, 1.25))
        pd.testing.assert_frame_equal(full.loc[:cut], part.loc[:cut])
        assert not full.loc[cut + 1 :].equals(part.loc[cut + 1 :])


# ---------------------------------------------------------------------------- scaling


def test_rolling_zscore_matches_its_definition() -> None:
    from meta_strategy.signals.scaling import rolling_zscore

    frame = _walk(300)[["close"]].assign(flat=7.0)
    scaled = rolling_zscore(frame, window=50, clip=2.0)
    close = frame["close"].tolist()
    for t in (48, 49, 120, 299):
        window = close[t - 49 : t + 1] if t >= 49 else None
        if window is None:
            assert np.isnan(scaled["close"][t])
            continue
        expected = (close[t] - np.mean(window)) / np.std(window, ddof=1)
        assert scaled["close"][t] == pytest.approx(max(-2.0, min(2.0, expected))), t
    assert (scaled["flat"].iloc[49:] == 0.0).all() and scaled["flat"].iloc[:49].isna().all()
    assert scaled["close"].abs().max() <= 2.0
    with pytest.raises(ValueError, match="window"):
        rolling_zscore(frame, window=1)
    with pytest.raises(ValueError, match="clip"):
        rolling_zscore(frame, clip=0)
