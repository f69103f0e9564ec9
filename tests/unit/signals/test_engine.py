"""The unified signal schema of the registered strategies (meta_strategy.signals.engine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.signals.engine import (
    SignalEngine,
    candles_since_change,
    close_per_candle,
    direction_from_signals,
    funding_per_candle,
)
from meta_strategy.signals.registry import load_registry
from tests.helpers.frames import future_inputs_changed, prices_scaled_after, with_market_inputs
from tests.helpers.freqtrade import REPO, shipped_config


REGISTRY = REPO / "user_data" / "strategies_registry.json"


@pytest.fixture(scope="module")
def engine() -> SignalEngine:
    return SignalEngine(load_registry(REGISTRY, "1h"), shipped_config())


def test_volatility_sizing_leaves_the_sub_strategies_signals_alone() -> None:
    """With ``bitbot.sizing`` on, every strategy's warm-up covers its volatility window (30 days
    here); the registry's sub-strategies only signal, so their warm-up stays their own and the
    entries' ``lookback_hours`` still cover it (this failed with "lookback_hours 200 is shorter
    than the 721 startup candles" before)."""
    config = shipped_config()
    config["bitbot"] = {**config.get("bitbot", {}), "sizing": {"target_volatility": 0.4}}
    sized = SignalEngine(load_registry(REGISTRY, "1h"), config)
    plain = SignalEngine(load_registry(REGISTRY, "1h"), shipped_config())
    for name, strategy in sized.strategies.items():
        assert strategy.startup_candle_count == plain.strategies[name].startup_candle_count
        assert not strategy.volatility_target.active


def test_direction_state_machine() -> None:
    df = pd.DataFrame(
        {
            "enter_long": [0, 1, 0, 0, 0, 0, 1, 0, 1, 0],
            "exit_long": [0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            "enter_short": [0, 0, 0, 0, 1, 0, 0, 0, 1, 1],
            "exit_short": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        }
    )
    # flat, long, hold, exit, short, hold, reverse to long, hold, both entries -> hold, reverse
    assert list(direction_from_signals(df)) == [0, 1, 1, 0, -1, -1, 1, 1, 1, -1]
    assert list(direction_from_signals(pd.DataFrame({"enter_long": [1, 0]}))) == [1, 1]


def test_age_counts_candles_since_change() -> None:
    assert list(candles_since_change([np.nan, 1, 1, 1, -1, -1, 0]))[1:] == [0, 1, 2, 0, 1, 0]
    assert np.isnan(candles_since_change([np.nan, 1])[0])


def _compute(engine: SignalEngine, base: pd.DataFrame) -> pd.DataFrame:
    """The signals with the candles' funding and reference price (``with_market_inputs``), as
    the strategies hand them over."""
    return engine.compute(base, "BTC/USDT:USDT", base["funding_rate"], base["reference_close"])


def test_signals_schema_on_real_data(
    engine: SignalEngine, btc_1h: pd.DataFrame, binance_datadir: Path
) -> None:
    base = with_market_inputs(btc_1h.iloc[-4000:].reset_index(drop=True), binance_datadir)
    out = _compute(engine, base)
    for entry in engine.registry.enabled:
        d = out[f"{entry.feature_prefix}_direction"]
        s = out[f"{entry.feature_prefix}_strength"]
        a = out[f"{entry.feature_prefix}_age"]
        warmup = entry.lookback_hours
        assert d.iloc[:warmup].isna().all(), "signals are NaN until the lookback is covered"
        valid = d.iloc[warmup:]
        assert set(valid.unique()) <= {-1.0, 0.0, 1.0} and valid.notna().all()
        assert s.iloc[warmup:].between(-1, 1).all()
        assert (a.iloc[warmup:] >= 0).all()
        assert len(set(valid.unique())) >= 2, f"{entry.name} never changes direction"


def test_higher_timeframe_entry_changes_only_at_its_close(
    engine: SignalEngine, any_market_1h: pd.DataFrame, any_market_datadir: Path
) -> None:
    base = with_market_inputs(any_market_1h.iloc[-3000:].reset_index(drop=True), any_market_datadir)
    out = _compute(engine, base)
    d4 = out["%-sig_supertrend_4h_direction"]
    changes = base["date"][d4.ne(d4.shift()) & d4.notna() & d4.shift().notna()]
    assert len(changes) > 0
    # A 4h candle opening at 00:00 closes at 04:00: the 1h candle 03:00 is the first to see it.
    assert set(changes.dt.hour % 4) == {3}


def test_no_lookahead_in_any_signal(
    engine: SignalEngine, any_market_1h: pd.DataFrame, any_market_datadir: Path
) -> None:
    """Changing any candle (or funding, or reference price) after t changes no signal at or
    before t (real and synthetic data)."""
    base = with_market_inputs(any_market_1h.iloc[-3500:].reset_index(drop=True), any_market_datadir)
    full = _compute(engine, base)
    rng = np.random.default_rng(3)
    for cut in (1500, 2222, 3400):
        altered = prices_scaled_after(base, cut, rng, 0.7, 1.4)
        future_inputs_changed(altered, cut, rng)
        part = _compute(engine, altered)
        pd.testing.assert_frame_equal(full.iloc[: cut + 1], part.iloc[: cut + 1])
        truncated = _compute(engine, base.iloc[: cut + 1])
        pd.testing.assert_frame_equal(full.iloc[: cut + 1], truncated)


def test_too_short_for_the_higher_timeframe(engine: SignalEngine, btc_1h: pd.DataFrame) -> None:
    """One base candle: no closed 4h candle yet, so NaN signals rather than an error."""
    one = btc_1h.iloc[-1:].reset_index(drop=True)
    one = one.assign(funding_rate=0.0, reference_close=one["close"])
    out = _compute(engine, one)
    assert len(out) == 1 and out.isna().all(axis=None)


def test_funding_per_candle_sums_within_each_candle() -> None:
    base = pd.date_range("2024-01-01", periods=24 * 21, freq="1h", tz="UTC")  # Monday, 3 weeks
    funding = pd.Series(np.where(np.arange(len(base)) % 8 == 0, 1e-4, 0.0))
    days = pd.date_range("2024-01-01", periods=21, freq="1D", tz="UTC")
    np.testing.assert_allclose(funding_per_candle(base, funding, days, "1d"), 3e-4)
    weeks = pd.date_range("2024-01-01", periods=3, freq="7D", tz="UTC")  # Mondays, as resampled
    np.testing.assert_allclose(funding_per_candle(base, funding, weeks, "1w"), 21e-4)


def test_close_per_candle_is_the_last_known_close_within_it() -> None:
    base = pd.date_range("2024-01-01", periods=24 * 3, freq="1h", tz="UTC")
    closes = pd.Series(np.arange(len(base), dtype=float))
    closes.iloc[47] = np.nan  # the last hour of day 2 unknown: its 22:00 close
    days = pd.date_range("2024-01-01", periods=3, freq="1D", tz="UTC")
    np.testing.assert_array_equal(close_per_candle(base, closes, days, "1d"), [23.0, 46.0, 71.0])
    fours = pd.date_range("2024-01-01", periods=18, freq="4h", tz="UTC")
    np.testing.assert_array_equal(close_per_candle(base, closes, fours, "4h")[:3], [3.0, 7.0, 11.0])
