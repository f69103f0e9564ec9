"""External signals (meta_strategy.signals.external): the file, the closed-candle rule, the rules,
clear errors, and a registry entry of type external through the signal engine."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.signals.engine import SignalEngine
from meta_strategy.signals.external import (
    ExternalSignalError,
    apply_rule,
    load_external,
    rule_problem,
    visible_values,
    write_example,
)
from meta_strategy.signals.registry import RegistryError, load_registry, parse_registry
from tests.helpers.frames import ohlcv_frame
from tests.helpers.freqtrade import shipped_config


THRESHOLD = {"kind": "threshold", "long_above": 0.6, "short_below": 0.4}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".feather"])
def test_the_example_file_loads(tmp_path: Path, suffix: str) -> None:
    values = load_external(write_example(tmp_path / f"example{suffix}"), "score")
    assert len(values) == 90 and str(values.index.tz) == "UTC"
    assert values.index.is_monotonic_increasing and values.between(0, 1).all()


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("time,score\n2024-01-01,1\n", "score", "no column 'date'"),
        ("date,value\n2024-01-01,1\n", "score", "no column 'score'"),
        ("date,score\nyesterday,1\n", "score", "column 'date': not dates"),
        ("date,score\n2024-01-02,1\n2024-01-01,2\n", "score", "row 1 .* does not come after"),
        ("date,score\n2024-01-01,1\n2024-01-01,2\n", "score", "dates must increase strictly"),
        ("date,score\n2024-01-01,1\n2024-01-02,high\n", "score", "row 1 is 'high', not a number"),
        ("date,score\n2024-01-01,1\n,2\n", "score", "column 'date': row 1 has no date"),
        ("date,score\n1704067200,1\n", "score", "numbers, not dates"),
        ("date,score\n2024-01-01,1\n2024-01-02,\n", "score", "column 'score': row 1 is empty"),
    ],
)
def test_a_bad_file_names_file_column_and_row(
    tmp_path: Path, text: str, column: str, message: str
) -> None:
    path = _write(tmp_path / "signal.csv", text)
    with pytest.raises(ExternalSignalError, match=message) as info:
        load_external(path, column)
    assert str(path) in str(info.value)
    with pytest.raises(ExternalSignalError, match="not found"):
        load_external(tmp_path / "missing.csv", "score")


def test_a_value_is_visible_from_the_first_candle_that_closes_after_it(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.csv",
        "date,score\n2024-01-01T02:00:00Z,1\n2024-01-01T03:30:00Z,2\n2024-01-01T05:00:00Z,3\n",
    )
    candles = ohlcv_frame(8)  # hourly from 2024-01-01 00:00
    seen = visible_values(load_external(path, "score"), candles["date"], 3600)
    # 02:00 is the close of the 01:00 candle: it belongs to the candle 02:00-03:00
    expected = [np.nan, np.nan, 1, 2, 2, 3, 3, 3]
    np.testing.assert_array_equal(seen, expected)


def test_later_values_change_nothing_earlier(tmp_path: Path) -> None:
    dates = pd.date_range("2024-01-01", periods=300, freq="3h", tz="UTC")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"date": dates, "score": rng.uniform(0, 1, 300)})
    candles = ohlcv_frame(800)
    rule = {"kind": "zscore", "window": 48, "entry": 1.0}
    full = apply_rule(visible_values(frame.set_index("date")["score"], candles["date"], 3600), rule)
    cut = 500  # candle 500 closes at 2024-01-21 21:00
    changed = frame.copy()
    later = changed["date"] >= candles["date"][cut] + pd.Timedelta(hours=1)
    changed.loc[later, "score"] = rng.uniform(5, 9, int(later.sum()))
    part = apply_rule(
        visible_values(changed.set_index("date")["score"], candles["date"], 3600), rule
    )
    for a, b in zip(full, part, strict=True):
        np.testing.assert_array_equal(a[: cut + 1], b[: cut + 1])
        assert not np.array_equal(a[cut + 1 :], b[cut + 1 :], equal_nan=True)


def test_rules() -> None:
    values = np.array([np.nan, 0.1, 0.4, 0.5, 0.6, 0.9])
    direction, strength = apply_rule(values, THRESHOLD)
    np.testing.assert_array_equal(direction, [np.nan, -1, -1, 0, 1, 1])
    np.testing.assert_allclose(strength, [np.nan, -1, -1, 0, 1, 1], atol=1e-12)
    inverted, _ = apply_rule(values, {**THRESHOLD, "invert": True})
    np.testing.assert_array_equal(inverted, [np.nan, 1, 1, 0, -1, -1])
    steps = np.concatenate([np.zeros(10), [5.0], np.zeros(5), [-5.0]]) + np.arange(17) * 1e-3
    direction, strength = apply_rule(steps, {"kind": "zscore", "window": 10, "entry": 2.0})
    assert np.isnan(direction[:9]).all()
    assert direction[10] == 1 and direction[16] == -1 and (direction[11:16] == 0).all()
    assert np.nanmax(np.abs(strength)) <= 1.0


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "vibes"}, "kind of"),
        ({"kind": "threshold", "long_above": 1}, "missing: \\['short_below'\\]"),
        ({**THRESHOLD, "window": 3}, "unknown: \\['window'\\]"),
        ({**THRESHOLD, "long_above": "high"}, "long_above must be a number"),
        ({**THRESHOLD, "short_below": 0.9}, "short_below 0.9 is above long_above 0.6"),
        ({"kind": "zscore", "window": 1, "entry": 1}, "window must be a whole number"),
        ({"kind": "zscore", "window": 10, "entry": 0}, "entry must be > 0"),
        ({**THRESHOLD, "invert": "yes"}, "invert must be true or false"),
    ],
)
def test_rule_problems(rule: dict, message: str) -> None:
    problem = rule_problem(rule)
    assert problem is not None and re.search(message, problem), problem
    assert rule_problem(THRESHOLD) is None


def _external(**kw) -> dict:
    return {
        "name": "sentiment",
        "type": "external",
        "source": "s.csv",
        "column": "score",
        "rule": THRESHOLD,
        "timeframe": "1h",
        "lookback_hours": 1,
        **kw,
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_external(type="rumour"), "type 'rumour' is not one of"),
        (_external(params={}), "unknown keys \\['params'\\]"),
        ({k: v for k, v in _external().items() if k != "column"}, "missing 'column'"),
        (_external(rule={"kind": "threshold"}), "missing"),
        (_external(timeframe="4h"), "runs at the base timeframe 1h"),
        (_external(source=""), "source must be a non-empty string"),
        (
            _external(rule={"kind": "zscore", "window": 48, "entry": 1.5}, lookback_hours=24),
            "lookback_hours 24 is shorter than the rule's z-score window of 48 candles",
        ),
    ],
)
def test_external_entry_errors(entry: dict, message: str) -> None:
    with pytest.raises(RegistryError, match=message) as info:
        parse_registry({"strategies": [entry]}, Path("reg.json"))
    assert "reg.json" in str(info.value) and "sentiment" in str(info.value)


def test_an_external_entry_through_the_engine(tmp_path: Path, btc_like: pd.DataFrame) -> None:
    source = write_example(tmp_path / "sentiment.csv", start="2024-01-01", periods=24 * 60)
    registry_file = tmp_path / "registry.json"
    entries = [
        {"name": "ott", "strategy": "OTTStrategy", "timeframe": "1h", "lookback_hours": 300},
        _external(source=str(source), lookback_hours=24),
    ]
    registry_file.write_text(json.dumps({"base_timeframe": "1h", "strategies": entries}))
    engine = SignalEngine(load_registry(registry_file, "1h"), shipped_config())
    signals = engine.compute(btc_like, "BTC/USDT:USDT")
    direction = signals["%-sig_sentiment_direction"]
    assert direction.iloc[:24].isna().all()  # its lookback
    assert set(direction.dropna().unique()) <= {-1.0, 0.0, 1.0}
    assert {-1.0, 1.0} <= set(direction.dropna().unique())
    assert signals["%-sig_sentiment_age"].notna().sum() > 1000
    # the engine reads the file again when it changes: a running bot sees the feed's new rows
    frame = pd.read_csv(source)
    frame["score"] = 0.9  # everything long from now on
    frame.to_csv(source, index=False)
    os.utime(source, (source.stat().st_atime, source.stat().st_mtime + 10))
    again = engine.compute(btc_like, "BTC/USDT:USDT")["%-sig_sentiment_direction"]
    assert set(again.dropna().unique()) == {1.0}
    # a broken file stops the engine with the entry and the file named
    source.write_text("date,score\n2024-01-02,1\n2024-01-01,2\n")
    with pytest.raises(RegistryError, match=r"entry 'sentiment': External signal file .*increase"):
        SignalEngine(load_registry(registry_file, "1h"), shipped_config())


@pytest.fixture
def btc_like() -> pd.DataFrame:
    """1,440 hourly candles from 2024-01-01, a random walk."""
    frame = ohlcv_frame(24 * 60)
    rng = np.random.default_rng(2)
    close = 40_000 * np.exp(np.cumsum(rng.normal(0, 0.01, len(frame))))
    return frame.assign(
        open=np.concatenate([[close[0]], close[:-1]]),
        close=close,
        high=close * 1.004,
        low=close * 0.996,
    )


def test_the_readme_shows_what_write_example_writes(tmp_path: Path) -> None:
    from tests.helpers.freqtrade import REPO

    readme = (REPO / "README.md").read_text()
    head = write_example(tmp_path / "s.csv").read_text().splitlines()[:3]
    assert "\n".join(head) in readme
