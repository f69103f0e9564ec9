"""Registry validation (meta_strategy.signals.registry): clear errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meta_strategy.signals.engine import SignalEngine
from meta_strategy.signals.registry import RegistryError, load_registry, parse_registry
from tests.helpers.freqtrade import REPO, shipped_config


REGISTRY = REPO / "user_data" / "strategies_registry.json"


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
        (_entry(lookback_hours=10), "shorter than the 300 startup candles OTTStrategy needs"),
        (_entry(params={"no_such_param": 3}), "OTTStrategy has no parameter 'no_such_param'"),
    ]:
        path.write_text(json.dumps({"strategies": [entry]}))
        with pytest.raises(Exception, match=message) as info:
            SignalEngine(load_registry(path, "1h"), shipped_config())
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
    engine = SignalEngine(load_registry(path, "1h"), shipped_config())
    assert engine.strategies["a"].adx_exit.value == 45
