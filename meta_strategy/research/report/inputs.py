"""
What decides a backtest's result besides its configs, period and data, fingerprinted for the
report's run keys (:meth:`~meta_strategy.research.report.plan.RunSpec.key`): the source of every
strategy class (``user_data/strategies/*.py``) and FreqAI model class
(``user_data/freqaimodels/*.py``), tuned parameter files (``<Strategy>.json``), the strategy
registry, the ``meta_strategy`` modules that run inside a backtest, and the versions of the
libraries that compute its numbers. A saved run whose inputs differ is run again (and its FreqAI
models retrained, since their identifier derives from the key); :func:`changed_inputs` says which.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from meta_strategy.paths import STRATEGY_REGISTRY, USER_DATA


logger = logging.getLogger(__name__)

STRATEGY_FILES = ("strategies/*.py", "strategies/*.json", "freqaimodels/*.py")
"""Under ``user_data``: strategy and model classes, and tuned parameter files."""
BACKTEST_CODE = (
    "meta_strategy/data",
    "meta_strategy/signals",
    "meta_strategy/rl",
    "meta_strategy/trading",
    "meta_strategy/paths.py",
    "meta_strategy/freqtrade_bridge.py",
)
"""The library code a backtest runs (not the CLI, the research report or operations)."""
LIBRARIES = (
    "freqtrade",
    "stable-baselines3",
    "sb3-contrib",
    "torch",
    "lightgbm",
    "ta-lib",
    "numpy",
    "pandas",
)
"""Distributions whose version can change a result."""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _source_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for pattern in STRATEGY_FILES:
        files += sorted((root / USER_DATA).glob(pattern))
    for entry in BACKTEST_CODE:
        path = root / entry
        if path.is_dir():
            files += sorted(path.rglob("*.py"))
        elif path.is_file():
            files.append(path)
    return files


def registry_files(configs: Iterable[str | Path]) -> list[Path]:
    """
    :param configs: the run's config files
    :return: the strategy registry and any other one a config names (``bitbot.registry``)
    """
    found = [STRATEGY_REGISTRY]
    for config in configs:
        try:
            named = (json.loads(Path(config).read_text()).get("bitbot") or {}).get("registry")
        except (OSError, ValueError):
            continue  # RunSpec.key reports unreadable configs
        if named and Path(named) not in found:
            found.append(Path(named))
    return found


def run_inputs(root: Path = Path("."), registries: Iterable[Path] = (STRATEGY_REGISTRY,)) -> dict:
    """
    :param root: the repository root (where ``user_data`` and ``meta_strategy`` are)
    :param registries: strategy registry files the run reads, relative to ``root``
    :return: input name -> a short sha256 of the file, or ``version:<distribution>`` -> version
        (``absent`` for a registry file or distribution that is not there)
    """
    inputs = {str(path.relative_to(root)): _digest(path) for path in _source_files(Path(root))}
    for registry in registries:
        path = Path(root) / registry
        inputs[str(registry)] = _digest(path) if path.is_file() else "absent"
    for distribution in LIBRARIES:
        try:
            inputs[f"version:{distribution}"] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            inputs[f"version:{distribution}"] = "absent"
    return inputs


def changed_inputs(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """
    :param before: the inputs of a saved run
    :param after: the inputs now
    :return: the inputs that changed, appeared (``+``) or disappeared (``-``), sorted
    """
    changed = [name for name in sorted(set(before) & set(after)) if before[name] != after[name]]
    changed += [f"+{name}" for name in sorted(set(after) - set(before))]
    changed += [f"-{name}" for name in sorted(set(before) - set(after))]
    return changed
