"""Registry validation and the unified signal schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade.configuration import Configuration

from meta_strategy.registry import RegistryError, load_registry, parse_registry
from meta_strategy.signals import SignalEngine, candles_since_change, direction_from_signals
from tests.conftest import REPO


REGISTRY = REPO / "user_data" / "strategies_registry.json"


def _config() -> dict:
    config = Configuration.from_files(
        [str(REPO / "user_data" / "config.json"), str(REPO / "user_data" / "config.binance.json")]
    )
    config["strategy_path"] = str(REPO / "user_data" / "strategies")
    return config


@pytest.fixture(scope="module")
def engine() -> SignalEngine:
    return SignalEngine(load_registry(REGISTRY, "1h"), _config())


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


def _entry(**kw) -> dict:
    return {"name": "a", "strategy": "OTTStrategy", "timeframe": "1h", "lookback_hours": 500, **kw}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"strategies": [_entry(timeframe="15m")]}, "finer than the base timeframe 1h"),
        ({"strategies": [_entry(timeframe="90m")]}, "not a multiple of the base 1h"),
        ({"strategies": [_entry(), _entry()]}, "duplicate name 'a'"),
        ({"strategies": [_entry(lookback_hours=0)]}, "lookback_hours must be a positive integer"),
        ({"strategies": [_entry(colour="red")]}, "unknown keys"),
        ({"strategies": [_entry(enabled=False)]}, "no enabled entry"),
        ({"strategies": [{"name": "a"}]}, "missing 'strategy'"),
        ({"strats": []}, "expected an object with a 'strategies' list"),
    ],
)
def test_registry_structure_errors(doc: dict, message: str) -> None:
    with pytest.raises(RegistryError, match=message) as info:
        parse_registry(doc, Path("reg.json"))
    assert "reg.json" in str(info.value)


def test_registry_errors_that_need_the_strategy(tmp_path: Path) -> None:
    path = tmp_path / "reg.json"
    for entry, message in [
        (_entry(strategy="NoSuchStrategy"), "cannot load strategy class 'NoSuchStrategy'"),
        (_entry(lookback_hours=10), "shorter than OTTStrategy's startup_candle_count"),
        (_entry(params={"no_such_param": 3}), "OTTStrategy has no parameter 'no_such_param'"),
    ]:
        path.write_text(json.dumps({"strategies": [entry]}))
        with pytest.raises(Exception, match=message) as info:
            SignalEngine(load_registry(path, "1h"), _config())
        assert str(path) in str(info.value)


def test_missing_or_corrupt_registry(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not found"):
        load_registry(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(RegistryError, match="not valid JSON"):
        load_registry(tmp_path / "bad.json")
    with pytest.raises(RegistryError, match="differs from the strategy's timeframe 4h"):
        load_registry(REGISTRY, "4h")


def test_params_override_reaches_the_strategy(tmp_path: Path) -> None:
    path = tmp_path / "reg.json"
    path.write_text(json.dumps({"strategies": [_entry(params={"adx_exit": 45})]}))
    engine = SignalEngine(load_registry(path, "1h"), _config())
    assert engine.strategies["a"].adx_exit.value == 45


def test_signals_schema_on_real_data(engine: SignalEngine, btc_1h: pd.DataFrame) -> None:
    base = btc_1h.iloc[-4000:].reset_index(drop=True)
    out = engine.compute(base, "BTC/USDT:USDT")
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
    engine: SignalEngine, btc_1h: pd.DataFrame
) -> None:
    base = btc_1h.iloc[-3000:].reset_index(drop=True)
    out = engine.compute(base, "BTC/USDT:USDT")
    d4 = out["%-sig_supertrend_4h_direction"]
    changes = base["date"][d4.ne(d4.shift()) & d4.notna() & d4.shift().notna()]
    assert len(changes) > 0
    # A 4h candle opening at 00:00 closes at 04:00: the 1h candle 03:00 is the first to see it.
    assert set(changes.dt.hour % 4) == {3}


def test_no_lookahead_in_any_signal(engine: SignalEngine, btc_1h: pd.DataFrame) -> None:
    """Changing any candle after t changes no signal at or before t."""
    base = btc_1h.iloc[-3500:].reset_index(drop=True)
    full = engine.compute(base, "BTC/USDT:USDT")
    rng = np.random.default_rng(3)
    for cut in (1500, 2222, 3400):
        altered = base.copy()
        factor = rng.uniform(0.7, 1.4, len(base) - cut - 1)
        for col in ("open", "high", "low", "close"):
            altered.loc[cut + 1 :, col] = altered.loc[cut + 1 :, col].to_numpy() * factor
        part = engine.compute(altered, "BTC/USDT:USDT")
        pd.testing.assert_frame_equal(full.iloc[: cut + 1], part.iloc[: cut + 1])
        truncated = engine.compute(base.iloc[: cut + 1], "BTC/USDT:USDT")
        pd.testing.assert_frame_equal(full.iloc[: cut + 1], truncated)


def test_too_short_for_the_higher_timeframe(engine: SignalEngine, btc_1h: pd.DataFrame) -> None:
    """One base candle: no closed 4h candle yet, so NaN signals rather than an error."""
    out = engine.compute(btc_1h.iloc[-1:].reset_index(drop=True), "BTC/USDT:USDT")
    assert len(out) == 1 and out.isna().all(axis=None)
