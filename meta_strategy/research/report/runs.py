"""
Run (or reuse) the Freqtrade backtests of a report plan.

Each run has its own folder ``<report>/runs/<name>/`` with the overlay it used, Freqtrade's log,
the exported backtest result and ``run.json`` (its key and wall time). A run whose key (see
:meth:`~meta_strategy.research.report.plan.RunSpec.key`) matches the saved one is reused, not
rerun; FreqAI runs get an identifier derived from the key, so their trained models are reused
too and never mixed between configurations. Runs are independent subprocesses (``--jobs`` at a
time), each limited to one thread so that parallel runs do not fight over the cores.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from meta_strategy.data.files import candle_file
from meta_strategy.freqtrade_bridge import TRAINING_FAILED
from meta_strategy.paths import MODELS_ROOT
from meta_strategy.research.report.inputs import changed_inputs, registry_files, run_inputs
from meta_strategy.research.report.plan import ReportSettings, RunSpec
from meta_strategy.rl.costs import CostConfigError, cost_per_fill


logger = logging.getLogger(__name__)

RUN_FILE = "run.json"


class RunError(RuntimeError):
    """A backtest of the report failed."""


@dataclass(frozen=True)
class RunResult:
    """A finished (or reused) run."""

    spec: RunSpec
    key: str
    folder: Path
    result_file: Path
    wall_s: float
    reused: bool
    identifier: str | None
    configuration: str = ""
    """Key of the run's configuration (the same for every seed of it)."""
    _stats: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def stats(self) -> dict[str, Any]:
        """:return: Freqtrade's backtest statistics of the run, read from its result file once
        (the period check, the ledger and the analysis all read them; none changes them)"""
        if self._stats is None:
            from freqtrade.data.btanalysis import load_backtest_stats

            object.__setattr__(self, "_stats", load_backtest_stats(self.result_file))
        return self._stats


def data_signature(datadir: Path, pair: str) -> str:
    """:return: names and sizes of the data files a run reads (changes when the data does)"""
    parts = []
    for candle_type in ("futures", "mark", "funding_rate"):
        timeframe = "8h" if candle_type == "funding_rate" else "1h"
        path = candle_file(datadir, pair, timeframe, candle_type)
        if not path.is_file() and candle_type == "funding_rate":
            path = candle_file(datadir, pair, "1h", candle_type)
        parts.append(f"{path.name}:{path.stat().st_size if path.is_file() else 'absent'}")
    return f"{datadir.resolve()}|" + "|".join(parts)


def merged_cost_per_fill(configs: tuple[str, ...]) -> float:
    """
    :param configs: config files, merged in Freqtrade's order
    :return: what every fill of a run costs: the merged ``fee`` plus ``bitbot.slippage_bps``
        (:func:`meta_strategy.rl.costs.cost_per_fill`; ``bitbot backtesting`` folds the same
        slippage into the fee Freqtrade charges and the environment trains with)
    :raises RunError: no config sets ``fee``, or a cost setting is invalid
    """
    from freqtrade.configuration.load_config import load_from_files

    try:
        return cost_per_fill(load_from_files(list(configs)))
    except CostConfigError as e:
        raise RunError(f"{list(configs)}: {e}") from e


def _latest_result(folder: Path) -> Path | None:
    from freqtrade.data.btanalysis import get_latest_backtest_filename

    try:
        return folder / get_latest_backtest_filename(folder)
    except (ValueError, FileNotFoundError):
        return None


def _saved_info(folder: Path) -> dict[str, Any] | None:
    """:return: the saved run's ``run.json``, or None when there is none (or it is unreadable)"""
    try:
        return json.loads((folder / RUN_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _load_saved(
    folder: Path, key: str, info: dict[str, Any] | None, configuration: str
) -> RunResult | None:
    result = _latest_result(folder)
    if info is None or info.get("key") != key or result is None or not result.is_file():
        return None
    return RunResult(
        spec=RunSpec(**{**info["spec"], "strategies": tuple(info["spec"]["strategies"])}),
        key=key,
        folder=folder,
        result_file=result,
        wall_s=float(info["wall_s"]),
        reused=True,
        identifier=info.get("identifier"),
        configuration=configuration,
    )


def _what_changed(info: dict[str, Any], inputs: dict[str, str]) -> str:
    """:return: which inputs changed since a saved run, for the log"""
    if "inputs" not in info:
        return "it was saved without its inputs (code, parameters, library versions)"
    changed = changed_inputs(info["inputs"], inputs)
    if not changed:
        return "its configs, period, costs or data changed"
    more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
    return "changed " + ", ".join(changed[:8]) + more


def bitbot_executable() -> str:
    """:return: the ``bitbot`` console script of this environment"""
    candidate = Path(sys.executable).parent / "bitbot"
    return str(candidate) if candidate.exists() else "bitbot"


def _clear_previous(
    spec: RunSpec, folder: Path, identifier: str | None, rerun: bool, log: Callable[[str], None]
) -> None:
    """Remove a previous run's backtest results and, for a rerun, its FreqAI models."""
    if rerun and identifier and (MODELS_ROOT / identifier).is_dir():
        # FreqAI would load the saved models and predictions: a rerun retrains them.
        log(f"  {spec.name}: removing {MODELS_ROOT / identifier} to retrain")
        shutil.rmtree(MODELS_ROOT / identifier)
    for old in folder.glob("backtest-result-*"):
        old.unlink()
    (folder / ".last_result.json").unlink(missing_ok=True)


def _run_configs(spec: RunSpec, folder: Path, identifier: str | None) -> list[str]:
    """
    :return: the run's config files: the spec's, then its overlay (with the FreqAI identifier),
        written to ``overlay.json`` in the run's folder, when there is one
    """
    configs = list(spec.configs)
    overlay: dict[str, Any] = json.loads(json.dumps(spec.overlay))
    if identifier:
        overlay.setdefault("freqai", {})["identifier"] = identifier
    if overlay:
        overlay_file = folder / "overlay.json"
        overlay_file.write_text(json.dumps(overlay, indent=2))
        configs.append(str(overlay_file))
    return configs


def _backtest_argv(
    spec: RunSpec,
    settings: ReportSettings,
    datadir: Path,
    configs: list[str],
    folder: Path,
) -> list[str]:
    """:return: the ``bitbot backtesting`` command line of the run"""
    argv = [bitbot_executable(), "backtesting"]
    for c in configs:
        argv += ["-c", c]
    argv += [
        "--datadir",
        str(datadir),
        "--strategy-list",
        *spec.strategies,
        "--timerange",
        settings.timerange,
        "--export",
        "trades",
        "--backtest-directory",
        str(folder),
        "--cache",
        "none",
    ]
    return argv


def _run_backtest(
    spec: RunSpec, argv: list[str], folder: Path, log: Callable[[str], None]
) -> tuple[Path, float]:
    """
    Run the backtest, one thread, its output into ``freqtrade.log`` in the run's folder.

    :return: the backtest result file and the wall time (seconds)
    :raises RunError: when Freqtrade fails, a FreqAI window failed to train, or no result
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COLUMNS": "200"}
    log(f"  {spec.name}: running {' '.join(spec.strategies)} ...")
    started = time.perf_counter()
    log_file = folder / "freqtrade.log"
    with log_file.open("w") as out:
        code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
    wall = time.perf_counter() - started
    text = log_file.read_text(errors="replace")
    if code != 0:
        raise RunError(f"{spec.name}: freqtrade exited with {code}; see {log_file}")
    if TRAINING_FAILED in text:
        raise RunError(f"{spec.name}: a FreqAI window failed to train; see {log_file}")
    result = _latest_result(folder)
    if result is None:
        raise RunError(f"{spec.name}: freqtrade wrote no backtest result; see {log_file}")
    return result, wall


def run_one(
    spec: RunSpec,
    settings: ReportSettings,
    datadir: Path,
    pair: str,
    out_dir: Path,
    *,
    rerun: bool = False,
    log: Callable[[str], None] = print,
    models: RunResult | None = None,
) -> RunResult:
    """
    Run one backtest of the plan, or reuse its saved result.

    :param spec: the run
    :param settings: report settings
    :param datadir: Freqtrade data directory
    :param pair: the traded pair (for the data signature)
    :param out_dir: the report folder
    :param rerun: run even when a saved result with the same key exists, and retrain FreqAI's
        models (otherwise FreqAI reuses the saved models and predictions of the identifier)
    :param log: progress printer
    :param models: for a run with ``models_of``, that run's result (its models are traded)
    :return: the result
    :raises RunError: when Freqtrade fails or a FreqAI window failed to train
    """
    inputs = run_inputs(registries=registry_files(spec.configs))
    if models is not None:  # the models' key is part of this run's result
        inputs = {**inputs, "models": models.key}
    signature = data_signature(datadir, pair)
    key = spec.key(settings, signature, inputs)
    configuration = spec.key(settings, signature, inputs, seedless=True)
    folder = out_dir / "runs" / spec.name
    info = _saved_info(folder)
    if not rerun and (saved := _load_saved(folder, key, info, configuration)) is not None:
        log(f"  {spec.name}: reusing the saved result ({saved.wall_s:.0f} s when it ran)")
        return saved
    if info is not None and info.get("key") != key:
        log(f"  {spec.name}: running again: {_what_changed(info, inputs)}")
    folder.mkdir(parents=True, exist_ok=True)
    identifier = f"report-{spec.name}-{key}" if spec.kind in ("rl", "stacker") else None
    if models is not None:
        identifier = models.identifier
    _clear_previous(spec, folder, identifier, rerun and models is None, log)
    configs = _run_configs(spec, folder, identifier)
    fee = merged_cost_per_fill(spec.configs)
    argv = _backtest_argv(spec, settings, datadir, configs, folder)
    result, wall = _run_backtest(spec, argv, folder, log)
    (folder / RUN_FILE).write_text(
        json.dumps(
            {
                "key": key,
                "configuration": configuration,
                "inputs": inputs,
                "spec": asdict(spec),
                "identifier": identifier,
                "wall_s": round(wall, 1),
                "fee_per_side": fee,
                "command": argv[1:],
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
    )
    log(f"  {spec.name}: done in {wall:.0f} s")
    return RunResult(spec, key, folder, result, wall, False, identifier, configuration)


def run_plan(
    plan: list[RunSpec],
    settings: ReportSettings,
    datadir: Path,
    pair: str,
    out_dir: Path,
    *,
    jobs: int = 1,
    rerun: bool = False,
    log: Callable[[str], None] = print,
) -> list[RunResult]:
    """
    Run every backtest of the plan, ``jobs`` at a time; the results come back in plan order.

    :raises RunError: for the first run that failed (the others still finish)
    """
    first = [spec for spec in plan if spec.models_of is None]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(run_one, spec, settings, datadir, pair, out_dir, rerun=rerun, log=log)
            for spec in first
        ]
        done = {spec.name: f.result() for spec, f in zip(first, futures, strict=True)}
        later = [spec for spec in plan if spec.models_of is not None]
        futures = [
            pool.submit(
                run_one,
                spec,
                settings,
                datadir,
                pair,
                out_dir,
                rerun=rerun,
                log=log,
                models=done[spec.models_of],
            )
            for spec in later
        ]
        done |= {spec.name: f.result() for spec, f in zip(later, futures, strict=True)}
    return [done[spec.name] for spec in plan]


def check_same_period(results: list[RunResult]) -> None:
    """
    Every run of a report must trade the same period, or their figures do not compare.
    Freqtrade moves a backtest's start when the data before it is shorter than the strategy's
    start-up candles (plus, with FreqAI, the training window): then the runs differ.

    :param results: the report's finished runs
    :raises RunError: the runs traded different periods (names them, and what to change)
    """
    by_span: dict[tuple[str, str], list[str]] = {}
    for result in results:
        for name, stats in result.stats()["strategy"].items():
            span = (str(stats["backtest_start"]), str(stats["backtest_end"]))
            by_span.setdefault(span, []).append(f"{result.spec.name}:{name}")
    if len(by_span) < 2:
        return
    described = "; ".join(
        f"{', '.join(names[:4])}{' and more' if len(names) > 4 else ''} from {start} to {end}"
        for (start, end), names in sorted(by_span.items())
    )
    first_common_day = max(pd.Timestamp(start) for start, _ in by_span).ceil("D")
    raise RunError(
        f"the runs traded different periods: {described}. Freqtrade starts a backtest later "
        "when the data before it is shorter than the strategy's start-up candles plus the "
        f"training window; start the report on {first_common_day:%Y-%m-%d} or later "
        f"(--timerange {first_common_day:%Y%m%d}-...) or train on fewer days (--train-days)"
    )
