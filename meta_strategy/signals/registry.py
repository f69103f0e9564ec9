"""
The strategy registry: which sub-strategies the meta layer listens to, and how.

``user_data/strategies_registry.json``::

    {
      "base_timeframe": "1h",
      "strategies": [
        {"name": "supertrend_4h", "strategy": "SupertrendStrategy", "timeframe": "4h",
         "lookback_hours": 1200, "enabled": true, "params": {"buy_m1": 3}}
      ]
    }

Each entry names a Freqtrade strategy class (found in the strategy path), the timeframe it runs
at (resampled from the base timeframe, never finer), how many hours of history it needs before
its signals are trusted (at least its ``startup_candle_count`` at that timeframe), and parameter
overrides. An entry of ``"type": "external"`` reads a signal file instead
(:mod:`meta_strategy.signals.external`)::

    {"name": "sentiment", "type": "external", "source": "user_data/external/sentiment.csv",
     "column": "score", "rule": {"kind": "threshold", "long_above": 0.6, "short_below": 0.4},
     "timeframe": "1h", "lookback_hours": 24}
 Adding an entry needs no code change anywhere else. :func:`load_registry` checks all
of it and raises :class:`RegistryError` naming the file, the entry and the problem.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from freqtrade.exceptions import OperationalException

from meta_strategy.data.timeframes import timeframe_to_seconds
from meta_strategy.paths import STRATEGY_REGISTRY
from meta_strategy.signals.external import rule_problem


logger = logging.getLogger(__name__)

_KEYS = {"name", "strategy", "timeframe", "lookback_hours", "enabled", "params", "type"}
_EXTERNAL_KEYS = {
    "name",
    "type",
    "source",
    "column",
    "rule",
    "timeframe",
    "lookback_hours",
    "enabled",
}
ENTRY_TYPES = ("strategy", "external")
"""Entry kinds: a strategy class's signals, or an external signal file
(:mod:`meta_strategy.signals.external`)."""


class RegistryError(OperationalException, ValueError):
    """
    The registry file is missing, malformed or names something that does not exist. A Freqtrade
    ``OperationalException``: a command stops at start-up with exit code 2 and the message.
    """


@dataclass(frozen=True)
class RegistryEntry:
    """
    One signal the meta layer uses: a strategy class (``kind`` ``strategy``), or an external
    signal file (``kind`` ``external``: ``source``, its value ``column`` and the ``rule``).
    """

    name: str
    strategy: str
    timeframe: str
    lookback_hours: int
    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = "strategy"
    source: str | None = None
    column: str | None = None
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_prefix(self) -> str:
        """:return: the prefix of this entry's FreqAI feature columns"""
        return f"%-sig_{self.name}"


@dataclass(frozen=True)
class Registry:
    """The validated registry."""

    path: Path
    base_timeframe: str
    entries: tuple[RegistryEntry, ...]

    @property
    def enabled(self) -> tuple[RegistryEntry, ...]:
        """:return: the entries the meta layer uses"""
        return tuple(e for e in self.entries if e.enabled)

    @property
    def max_lookback_hours(self) -> int:
        """:return: the longest history any enabled entry needs"""
        return max((e.lookback_hours for e in self.enabled), default=0)


def _fail(path: Path, where: str, problem: str) -> RegistryError:
    return RegistryError(f"Strategy registry {path}: {where}: {problem}")


def parse_registry(doc: Any, path: Path) -> Registry:
    """
    Check the structure of a registry document (no strategy classes are loaded).

    :param doc: the parsed JSON
    :param path: where it came from (for messages)
    :return: the registry
    :raises RegistryError: on the first problem
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("strategies"), list):
        raise _fail(path, "top level", "expected an object with a 'strategies' list")
    base = doc.get("base_timeframe", "1h")
    try:
        timeframe_to_seconds(base)
    except ValueError as e:
        raise _fail(path, "base_timeframe", str(e)) from e
    entries: list[RegistryEntry] = []
    for i, raw in enumerate(doc["strategies"]):
        where = f"entry {i}" + (f" ({raw.get('name')!r})" if isinstance(raw, dict) else "")
        entry = _parse_entry(raw, path, where, base)
        if entry.name in {e.name for e in entries}:
            raise _fail(path, where, f"duplicate name {entry.name!r}")
        entries.append(entry)
    if not any(e.enabled for e in entries):
        raise _fail(path, "strategies", "no enabled entry")
    return Registry(path=path, base_timeframe=base, entries=tuple(entries))


def _parse_entry(raw: Any, path: Path, where: str, base: str) -> RegistryEntry:
    """:raises RegistryError: the first problem of one entry"""
    if not isinstance(raw, dict):
        raise _fail(path, where, "expected an object")
    kind = raw.get("type", "strategy")
    if kind not in ENTRY_TYPES:
        raise _fail(path, where, f"type {kind!r} is not one of {list(ENTRY_TYPES)}")
    allowed = _KEYS if kind == "strategy" else _EXTERNAL_KEYS
    unknown = set(raw) - allowed
    if unknown:
        raise _fail(path, where, f"unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    required = ("strategy",) if kind == "strategy" else ("source", "column", "rule")
    for key in ("name", *required, "timeframe", "lookback_hours"):
        if key not in raw:
            raise _fail(path, where, f"missing '{key}'")
    name = raw["name"]
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise _fail(path, where, f"name {name!r} must be letters, digits and underscores")
    _check_timeframe(raw["timeframe"], base, path, where)
    lookback = raw["lookback_hours"]
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback <= 0:
        raise _fail(path, where, f"lookback_hours must be a positive integer, got {lookback!r}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(path, where, f"enabled must be true or false, got {enabled!r}")
    if kind == "external":
        problem = rule_problem(raw["rule"])
        candles = lookback * 3600 // timeframe_to_seconds(base)
        if problem is None and raw["rule"]["kind"] == "zscore" and candles < raw["rule"]["window"]:
            problem = (
                f"lookback_hours {lookback} is shorter than the rule's z-score window of "
                f"{raw['rule']['window']} candles"
            )
        if raw["timeframe"] != base:
            problem = f"an external signal runs at the base timeframe {base}"
        for key in ("source", "column"):
            if not isinstance(raw[key], str) or not raw[key]:
                problem = f"{key} must be a non-empty string, got {raw[key]!r}"
        if problem:
            raise _fail(path, where, problem)
        return RegistryEntry(
            name,
            "external",
            raw["timeframe"],
            lookback,
            enabled,
            {},
            kind,
            raw["source"],
            raw["column"],
            dict(raw["rule"]),
        )
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise _fail(path, where, "params must be an object of parameter overrides")
    return RegistryEntry(name, raw["strategy"], raw["timeframe"], lookback, enabled, dict(params))


def _check_timeframe(timeframe: Any, base: str, path: Path, where: str) -> None:
    """:raises RegistryError: unknown, finer than the base or not a multiple of it"""
    try:
        seconds = timeframe_to_seconds(timeframe)
    except ValueError as e:
        raise _fail(path, where, str(e)) from e
    base_seconds = timeframe_to_seconds(base)
    if seconds < base_seconds:
        raise _fail(
            path,
            where,
            f"timeframe {timeframe} is finer than the base timeframe {base}; "
            "sub-strategies run on candles resampled from the base timeframe",
        )
    if seconds % base_seconds:
        raise _fail(path, where, f"timeframe {timeframe} is not a multiple of the base {base}")


def load_registry(
    path: Path | str = STRATEGY_REGISTRY, base_timeframe: str | None = None
) -> Registry:
    """
    Read and check the registry file.

    :param path: registry JSON file
    :param base_timeframe: the strategy's timeframe; must equal the registry's when given
    :return: the registry
    :raises RegistryError: missing or malformed file
    """
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"Strategy registry {path} not found.")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise RegistryError(f"Strategy registry {path} is not valid JSON: {e}") from e
    registry = parse_registry(doc, path)
    if base_timeframe is not None and base_timeframe != registry.base_timeframe:
        raise _fail(
            path,
            "base_timeframe",
            f"{registry.base_timeframe} differs from the strategy's timeframe {base_timeframe}",
        )
    return registry


def load_configured_registry(config: dict[str, Any], base_timeframe: str) -> Registry:
    """
    :param config: Freqtrade configuration; ``bitbot.registry`` names the file (default
        ``user_data/strategies_registry.json``)
    :param base_timeframe: the calling strategy's timeframe
    :return: the validated registry
    """
    path = (config.get("bitbot") or {}).get("registry", STRATEGY_REGISTRY)
    return load_registry(Path(path), base_timeframe)


def parameter_problem(parameter: Any, value: Any) -> str | None:
    """
    :param parameter: a Freqtrade hyperopt parameter (Int, Decimal, Real, Boolean, Categorical)
    :param value: the value the registry sets
    :return: what is wrong with the value (type, declared range or categories), None when good
    """
    from freqtrade.strategy.parameters import (
        BooleanParameter,
        CategoricalParameter,
        IntParameter,
        NumericParameter,
    )

    if isinstance(parameter, BooleanParameter):
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if isinstance(parameter, CategoricalParameter):
        choices = list(parameter.opt_range)
        return None if value in choices else f"expected one of {choices}, got {value!r}"
    if isinstance(parameter, NumericParameter):
        whole = isinstance(parameter, IntParameter)
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            return f"expected {'a whole number' if whole else 'a number'}, got {value!r}"
        low, high = parameter.low, parameter.high
        if not low <= value <= high:
            return f"{value!r} is outside its declared range [{low}, {high}]"
    return None


def configure_entry_strategy(entry: RegistryEntry, strategy: Any, path: Path) -> None:
    """
    Set the entry's parameters on its loaded strategy, after checking them, then check that the
    entry's lookback covers the strategy's startup candles with those parameters.

    :param entry: registry entry
    :param strategy: the loaded Freqtrade strategy instance (its parameters are set)
    :param path: registry file (for messages)
    :raises RegistryError: unknown parameter, a value of the wrong type or outside the
        parameter's declared range, or lookback shorter than the startup candles
    """
    from freqtrade.strategy.parameters import BaseParameter

    where = f"entry {entry.name!r}"
    for key, value in entry.params.items():
        parameter = getattr(strategy, key, None)
        if not isinstance(parameter, BaseParameter):
            known = sorted(n for n, _ in strategy.enumerate_parameters())
            raise _fail(
                path, where, f"{entry.strategy} has no parameter {key!r}; its parameters: {known}"
            )
        problem = parameter_problem(parameter, value)
        if problem:
            raise _fail(path, where, f"parameter {key!r} of {entry.strategy}: {problem}")
    for key, value in entry.params.items():
        getattr(strategy, key).value = value
    candles = startup_candles(strategy)
    needed_hours = candles * timeframe_to_seconds(entry.timeframe) / 3600
    if entry.lookback_hours < needed_hours:
        raise _fail(
            path,
            where,
            f"lookback_hours {entry.lookback_hours} is shorter than the {candles} startup "
            f"candles {entry.strategy} needs ({candles} x {entry.timeframe} = "
            f"{needed_hours:g} hours)",
        )


def startup_candles(strategy: Any) -> int:
    """
    :param strategy: a loaded strategy, at its timeframe and with its parameters set
    :return: the candles of history it needs: its ``startup_candles()`` when it has one (the
        need of its current timeframe and parameter values; its ``startup_candle_count`` then
        covers, for Freqtrade, the worst case of its hyperopt ranges at its own timeframe), else
        its ``startup_candle_count``
    """
    method = getattr(strategy, "startup_candles", None)
    return int(method()) if callable(method) else int(strategy.startup_candle_count)
