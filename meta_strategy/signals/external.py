"""
External signals: a time-indexed file a user brings (sentiment, news flags, exchange flows, open
interest: nothing this project can download) as a registry entry the meta layer listens to.

The file is CSV or feather with a ``date`` column (UTC; ISO text or a datetime) and one or more
numeric value columns, dates strictly increasing::

    date,score
    2024-01-01T00:00:00Z,0.52
    2024-01-01T08:00:00Z,0.71

A value stamped at *t* is visible from the first candle that closes after *t* (a value stamped
exactly at a candle's close belongs to the next candle), and stays until the next value. The
stamp must be when the value became *known*: a daily figure published at the day's end is
stamped at the end, not at midnight before it. Dates are ISO text or datetimes (numbers are
refused: their unit would be a guess); a row without a date or a value is an error (leave it
out: a value holds until the next). The engine reads the file again when it changes on disk,
so a feed that a user's job appends to reaches a running bot. A rule
turns the value into a direction and a strength:

* ``{"kind": "threshold", "long_above": a, "short_below": b}``: long at ``a`` or more, short at
  ``b`` or less, flat between; strength is the position between ``b`` and ``a`` from -1 to +1;
* ``{"kind": "zscore", "window": n, "entry": z}``: the value's z-score against its trailing
  ``n`` base candles; long at ``z`` or more, short at ``-z`` or less; strength ``z / (2 z)``
  clipped to [-1, 1];

and ``"invert": true`` in either turns it contrarian (long where the rule says short).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.signals.scaling import rolling_zscore


logger = logging.getLogger(__name__)

RULE_KEYS = {
    "threshold": {"kind", "long_above", "short_below", "invert"},
    "zscore": {"kind", "window", "entry", "invert"},
}
"""The keys each rule kind takes."""


class ExternalSignalError(ValueError):
    """An external signal's file or rule cannot be used (names the file or key and the problem)."""


def rule_problem(rule: Any) -> str | None:
    """
    :param rule: an entry's ``rule`` object
    :return: what is wrong with it, or None
    """
    if not isinstance(rule, dict) or rule.get("kind") not in RULE_KEYS:
        return f"rule must be an object with a kind of {sorted(RULE_KEYS)}, got {rule!r}"
    unknown = set(rule) - RULE_KEYS[rule["kind"]]
    missing = RULE_KEYS[rule["kind"]] - {"invert"} - set(rule)
    if unknown or missing:
        return (
            f"a {rule['kind']} rule takes {sorted(RULE_KEYS[rule['kind']])}"
            + (f"; unknown: {sorted(unknown)}" if unknown else "")
            + (f"; missing: {sorted(missing)}" if missing else "")
        )
    if not isinstance(rule.get("invert", False), bool):
        return f"rule invert must be true or false, got {rule['invert']!r}"
    numbers = sorted(RULE_KEYS[rule["kind"]] - {"kind", "invert"})
    for key in numbers:
        value = rule[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            return f"rule {key} must be a number, got {value!r}"
    if rule["kind"] == "threshold" and rule["short_below"] > rule["long_above"]:
        return f"rule short_below {rule['short_below']} is above long_above {rule['long_above']}"
    if rule["kind"] == "zscore":
        if not isinstance(rule["window"], int) or rule["window"] < 2:
            return f"rule window must be a whole number of candles >= 2, got {rule['window']!r}"
        if rule["entry"] <= 0:
            return f"rule entry must be > 0, got {rule['entry']!r}"
    return None


def load_external(path: Path | str, column: str) -> pd.Series:
    """
    Read and check an external signal file.

    :param path: the CSV or feather file
    :param column: the value column
    :return: the values, indexed by their UTC time stamps
    :raises ExternalSignalError: missing or unreadable file, no ``date`` or value column,
        unparseable or unsorted dates, non-numeric values (file, column and first bad row named)
    """
    path = Path(path)
    if not path.is_file():
        raise ExternalSignalError(f"External signal file {path} not found.")
    try:
        frame = pd.read_feather(path) if path.suffix == ".feather" else pd.read_csv(path)
    except Exception as e:
        raise ExternalSignalError(f"External signal file {path} cannot be read: {e}") from e
    for name in ("date", column):
        if name not in frame.columns:
            raise ExternalSignalError(
                f"External signal file {path}: no column {name!r}; it has {list(frame.columns)}"
            )
    if pd.api.types.is_numeric_dtype(frame["date"]):
        raise ExternalSignalError(
            f"External signal file {path}, column 'date': numbers, not dates; write ISO times "
            "such as 2024-01-01T08:00:00Z (a number's unit would be a guess)"
        )
    try:
        dates = pd.to_datetime(frame["date"], utc=True)
    except (ValueError, TypeError) as e:
        raise ExternalSignalError(
            f"External signal file {path}, column 'date': not dates ({e})"
        ) from e
    _refuse_missing(dates.isna(), path, "date", "has no date")
    steps = dates.diff().iloc[1:]
    if (steps <= pd.Timedelta(0)).any():
        row = int(np.argmax((steps <= pd.Timedelta(0)).to_numpy())) + 1
        raise ExternalSignalError(
            f"External signal file {path}, column 'date': dates must increase strictly; row {row}"
            f" ({dates.iloc[row]}) does not come after row {row - 1} ({dates.iloc[row - 1]})"
        )
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise ExternalSignalError(
            f"External signal file {path}, column {column!r}: row {row} is "
            f"{frame[column].iloc[row]!r}, not a number"
        )
    _refuse_missing(
        ~np.isfinite(values.to_numpy(dtype=np.float64)), path, column, "is empty or infinite"
    )
    return pd.Series(values.to_numpy(dtype=np.float64), index=pd.DatetimeIndex(dates))


def _refuse_missing(missing: Any, path: Path, column: str, what: str) -> None:
    """:raises ExternalSignalError: naming the first row where ``missing`` holds"""
    missing = np.asarray(missing, dtype=bool)
    if missing.any():
        raise ExternalSignalError(
            f"External signal file {path}, column {column!r}: row {int(np.argmax(missing))} "
            f"{what}; leave the row out instead (a value holds until the next one)"
        )


def visible_values(
    values: pd.Series, candle_dates: pd.Series, timeframe_seconds: int
) -> np.ndarray:
    """
    :param values: :func:`load_external`'s values
    :param candle_dates: the open times of the candles
    :param timeframe_seconds: the candles' length
    :return: per candle, the last value stamped strictly before the candle's close (NaN before
        the first)
    """
    closes = pd.DataFrame(
        {
            "close_time": pd.to_datetime(candle_dates, utc=True)
            + pd.Timedelta(seconds=timeframe_seconds)
        }
    )
    stamped = pd.DataFrame({"stamp": values.index, "value": values.to_numpy()})
    merged = pd.merge_asof(
        closes,
        stamped,
        left_on="close_time",
        right_on="stamp",
        allow_exact_matches=False,
        direction="backward",
    )
    return merged["value"].to_numpy(dtype=np.float64)


def apply_rule(values: np.ndarray, rule: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """
    :param values: per candle, the visible value (NaN where none)
    :param rule: a checked rule (:func:`rule_problem`)
    :return: direction (-1 / 0 / +1, NaN where the value or its z-score is unknown) and
        strength in [-1, 1] (NaN likewise)
    """
    values = np.asarray(values, dtype=np.float64)
    if rule["kind"] == "threshold":
        high, low = float(rule["long_above"]), float(rule["short_below"])
        direction = np.where(values >= high, 1.0, np.where(values <= low, -1.0, 0.0))
        middle, half = (high + low) / 2.0, (high - low) / 2.0
        strength = np.sign(values - middle) if half == 0 else (values - middle) / half
    else:
        score = rolling_zscore(pd.DataFrame({"v": values}), int(rule["window"]))["v"].to_numpy()
        entry = float(rule["entry"])
        direction = np.where(score >= entry, 1.0, np.where(score <= -entry, -1.0, 0.0))
        strength = score / (2.0 * entry)
        values = score
    unknown = np.isnan(values)
    direction = np.where(unknown, np.nan, direction)
    strength = np.where(unknown, np.nan, np.clip(strength, -1.0, 1.0))
    if rule.get("invert", False):
        direction, strength = -direction, -strength
    return direction, strength


def write_example(path: Path | str, start: str = "2024-01-01", periods: int = 24 * 30) -> Path:
    """
    Write an example external signal file (a made-up ``score`` every 8 hours): the format
    :func:`load_external` reads, for the README and the tests.

    :param path: where to write it (``.csv`` or ``.feather``)
    :param start: first time stamp
    :param periods: hours covered
    :return: ``path``
    """
    path = Path(path)
    dates = pd.date_range(start, periods=periods // 8, freq="8h", tz="UTC")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": dates, "score": np.round(rng.uniform(0, 1, len(dates)), 3)})
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".feather":
        frame.to_feather(path)
    else:
        frame.assign(date=dates.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(path, index=False)
    return path
