"""
A confirmation plan: the designs fixed, before a confirmation period's candles exist, for its
one look, and the command that runs them together (``bitbot confirm``).

The plan file (``user_data/confirmations/fresh.json``) names the period, the day it was fixed,
the seeds, the as-deployed runs and each design's overlays (as ``bitbot report --overlay`` and
``--meta-overlay``). Every design is run whatever the others show, each once: a design whose
report is already written is not run again, its figures stand. The period's minimum length
(:data:`MIN_PERIOD_DAYS`) is checked before any backtest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from meta_strategy.data.timeframes import parse_timerange
from meta_strategy.paths import FREQAI_OVERLAY, REPORT_RESULTS, USER_DATA
from meta_strategy.research.report.plan import (
    CONFIRMATION_PERIODS,
    ReportSettings,
    ReportSettingsError,
)
from meta_strategy.research.report.saved import SavedReportError, read_results


logger = logging.getLogger(__name__)

CONFIRMATION_PLAN = USER_DATA / "confirmations" / "fresh.json"
"""The designs fixed for the fresh period's one look. Not in :mod:`meta_strategy.paths`: that
module is an input of every backtest's key, and a plan of reports changes no backtest."""
PLAN_KEYS = {"period", "fixed", "seeds", "as_deployed", "designs"}
DESIGN_KEYS = {"name", "overlays", "meta_overlays", "why"}
MIN_PERIOD_DAYS: dict[str, int] = {"fresh": 180}
"""Days a period must span before it is run: the fresh period waits for one training window's
worth of candles (fixed on 2026-12-01, before any of them existed), so that its one look is more
than a month's luck."""


def long_enough(period: str, timerange: str) -> str:
    """
    :param period: the report's protocol period
        (:func:`~meta_strategy.research.report.plan.period_of`)
    :param timerange: its closed timerange within the data, e.g. ``20251117-20260601``
    :return: the timerange, when it spans the days :data:`MIN_PERIOD_DAYS` asks for the period
    :raises ReportSettingsError: it is shorter (says how long it is and what it waits for)
    """
    needed = MIN_PERIOD_DAYS.get(period)
    if needed is None:
        return timerange
    start, end = parse_timerange(timerange)
    days = (end - start).days
    if days < needed:
        raise ReportSettingsError(
            f"the {period} period has {days} days of candles ({start:%Y-%m-%d} to "
            f"{end:%Y-%m-%d}); its one look waits for at least {needed} (README, 'What the "
            "fresh period will confirm'): download newer candles first (bitbot download-data)"
        )
    return timerange


class ConfirmationPlanError(ValueError):
    """A confirmation plan file that cannot be run as it is."""


@dataclass(frozen=True)
class ConfirmationDesign:
    """
    One design of a confirmation plan.

    :param name: its report's name (``bitbot report --name``)
    :param overlays: config files merged into every run of its report
    :param meta_overlays: config files merged into its meta-learner's runs only
    :param why: what it is and what it made on validation, in a sentence
    """

    name: str
    overlays: tuple[str, ...]
    meta_overlays: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class ConfirmationPlan:
    """
    The designs fixed for one look at a confirmation period.

    :param period: ``test`` or ``fresh``
    :param fixed: the day the plan was written (before the period's candles existed)
    :param seeds: the meta-learner's seeds, the same for every design
    :param as_deployed: ``first`` or ``all`` (``bitbot report --as-deployed``)
    :param designs: what runs, in order
    """

    period: str
    fixed: str
    seeds: tuple[int, ...]
    as_deployed: str
    designs: tuple[ConfirmationDesign, ...]

    def settings_of(
        self, design: ConfirmationDesign, overlay: str | Path = FREQAI_OVERLAY
    ) -> ReportSettings:
        """:return: the report settings of one design: the shipped ones over the period, with
        the plan's seeds and as-deployed runs and the design's overlays"""
        return replace(
            ReportSettings.for_period(self.period, overlay),
            name=design.name,
            seeds=self.seeds,
            overlays=design.overlays,
            meta_overlays=design.meta_overlays,
            deployed_all_seeds=self.as_deployed == "all",
        )

    def command_of(self, design: ConfirmationDesign, jobs: int) -> str:
        """:return: the ``bitbot report`` command line that runs the same report"""
        words = [
            "bitbot report",
            f"--period {self.period}",
            "--seeds " + " ".join(str(s) for s in self.seeds),
            f"--jobs {jobs}",
            f"--as-deployed {self.as_deployed}",
        ]
        words += [f"--overlay {path}" for path in design.overlays]
        words += [f"--meta-overlay {path}" for path in design.meta_overlays]
        return " ".join([*words, f"--name {design.name}"])


def _paths(plan_file: Path, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfirmationPlanError(f"{plan_file}: {where}: expected a list of file paths")
    for path in value:
        if not Path(path).is_file():
            raise ConfirmationPlanError(
                f"{plan_file}: {where}: no file {path} (paths are relative to the repository "
                "root, where bitbot runs)"
            )
    return tuple(value)


def _design(plan_file: Path, number: int, entry: Any) -> ConfirmationDesign:
    where = f"designs[{number}]"
    if not isinstance(entry, dict):
        raise ConfirmationPlanError(f"{plan_file}: {where}: expected an object")
    if set(entry) != DESIGN_KEYS:
        raise ConfirmationPlanError(
            f"{plan_file}: {where}: expected the keys {sorted(DESIGN_KEYS)}, got {sorted(entry)}"
        )
    name = entry["name"]
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfirmationPlanError(f"{plan_file}: {where}.name: expected a report name")
    return ConfirmationDesign(
        name=name,
        overlays=_paths(plan_file, f"{where}.overlays", entry["overlays"]),
        meta_overlays=_paths(plan_file, f"{where}.meta_overlays", entry["meta_overlays"]),
        why=str(entry["why"]),
    )


def load_confirmation_plan(plan_file: Path) -> ConfirmationPlan:
    """
    :param plan_file: e.g. ``user_data/confirmations/fresh.json``
    :return: the plan
    :raises ConfirmationPlanError: the file is missing or not a plan (names the file and key)
    """
    try:
        raw = json.loads(Path(plan_file).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ConfirmationPlanError(f"{plan_file}: not a readable JSON file ({e})") from e
    if not isinstance(raw, dict) or set(raw) != PLAN_KEYS:
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise ConfirmationPlanError(
            f"{plan_file}: expected an object with the keys {sorted(PLAN_KEYS)}, got {got}"
        )
    if raw["period"] not in CONFIRMATION_PERIODS:
        raise ConfirmationPlanError(
            f"{plan_file}: period: expected one of {list(CONFIRMATION_PERIODS)}, "
            f"got {raw['period']!r}"
        )
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise ConfirmationPlanError(f"{plan_file}: seeds: expected a list of whole numbers")
    if raw["as_deployed"] not in ("first", "all"):
        raise ConfirmationPlanError(
            f"{plan_file}: as_deployed: expected 'first' or 'all', got {raw['as_deployed']!r}"
        )
    if not isinstance(raw["designs"], list) or not raw["designs"]:
        raise ConfirmationPlanError(f"{plan_file}: designs: expected a non-empty list")
    designs = tuple(_design(plan_file, n, entry) for n, entry in enumerate(raw["designs"]))
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise ConfirmationPlanError(f"{plan_file}: designs: a name is listed twice: {names}")
    return ConfirmationPlan(
        period=raw["period"],
        fixed=str(raw["fixed"]),
        seeds=tuple(seeds),
        as_deployed=raw["as_deployed"],
        designs=designs,
    )


def results_of(reports_dir: Path, design: ConfirmationDesign) -> Path:
    """:return: where the design's report writes its figures (``results.json``)"""
    return Path(reports_dir) / design.name / REPORT_RESULTS


def is_confirmed(reports_dir: Path, design: ConfirmationDesign) -> bool:
    """:return: whether the design's report is already written (its one look is taken)"""
    return results_of(reports_dir, design).is_file()


MAX_DRAWDOWN = 0.25
"""The drawdown floor fixed for the shipped default (issue 14): at most 25 %."""
WORST_SEED_GAP = 0.3
"""The worst seed's Sharpe within this much of the mean (issue 14)."""


def floors_of(results: dict[str, Any]) -> list[tuple[str, bool]]:
    """
    The floors fixed for the shipped default (issue 14), judged on one saved report's headline
    configuration (``results.json`` of ``bitbot report``).

    :param results: the report's figures
    :return: each floor, in words with the figure, and whether it holds
    """
    verdict = results["verdict"]
    headline = results["configurations"][0]
    sharpe, pooled = verdict["sharpe"], verdict["pooled"]
    drawdown = headline["max_drawdown"]["mean"]
    missed = [a["label"] for a in verdict["against"] if not a["beaten"]]
    refused = verdict["promotion"].get(headline["name"], ["not judged"])
    multiple = {r["name"]: r["metrics"]["btc_multiple"] for r in results["runs"]}
    own = sum(multiple[name] for name in headline["runs"]) / len(headline["runs"])
    rivals = {
        r["label"]: r["metrics"]["btc_multiple"]
        for r in results["runs"]
        if r["group"] in ("strategy", "baseline")
    }
    best = max(rivals, key=rivals.__getitem__)
    return [
        (
            f"mean Sharpe {sharpe['mean']:.2f} above every baseline of the report"
            + (f" (not: {', '.join(missed)})" if missed else ""),
            not missed,
        ),
        (
            f"the Sharpe's 95 % interval above 0 (from {pooled['sharpe_ci_low']:.2f})",
            pooled["sharpe_ci_low"] > 0,
        ),
        (f"mean max drawdown {drawdown:.1%} at most {MAX_DRAWDOWN:.0%}", drawdown <= MAX_DRAWDOWN),
        (
            f"worst seed {sharpe['worst']:.2f} within {WORST_SEED_GAP} of the mean",
            sharpe["mean"] - sharpe["worst"] <= WORST_SEED_GAP,
        ),
        (
            f"BTC multiple {own:.2f} (mean over seeds) above the best baseline's ({best}, "
            f"{rivals[best]:.2f})",
            own > rivals[best],
        ),
        (
            "passes the promotion rule" + (f" (refused: {'; '.join(refused)})" if refused else ""),
            not refused,
        ),
    ]


def format_floors(plan: ConfirmationPlan, reports_dir: Path) -> str:
    """:return: the floors of every design whose report is written, one block each"""
    lines = [f"Issue 14's floors on the {plan.period} period (each design's headline run):"]
    for design in plan.designs:
        path = results_of(reports_dir, design)
        if not path.is_file():
            lines.append(f"  {design.name}: not run yet")
            continue
        try:
            floors = floors_of(read_results(path, ("verdict", "configurations", "runs")))
        except SavedReportError as e:
            lines.append(f"  {design.name}: {e}")
            continue
        except (KeyError, TypeError) as e:  # a key inside the verdict or a configuration
            lines.append(f"  {design.name}: {path} is not a report's results.json ({e!r})")
            continue
        held = sum(ok for _, ok in floors)
        lines.append(f"  {design.name}: {held} of {len(floors)} floors hold")
        lines += [f"    {'holds ' if ok else 'misses'}  {text}" for text, ok in floors]
    return "\n".join(lines)


def run_confirmation(
    plan: ConfirmationPlan,
    reports_dir: Path,
    build: Callable[[ReportSettings], Any],
    jobs: int = 2,
    dry_run: bool = False,
    log: Callable[[str], None] = print,
) -> list[str]:
    """
    Run every design of the plan that has no report yet, in order, each once.

    :param plan: the plan
    :param reports_dir: the reports' parent folder
    :param build: writes one report from its settings (``bitbot report``'s
        :func:`~meta_strategy.research.report.build.build_report`)
    :param jobs: backtests at a time, for the commands shown
    :param dry_run: only say what would run
    :param log: progress printer
    :return: the names of the designs run (or, with ``dry_run``, that would run)
    :raises ReportSettingsError: a design's overlays cannot be run (before any backtest)
    """
    log(
        f"bitbot confirm: {len(plan.designs)} designs fixed on {plan.fixed} for the "
        f"{plan.period} period, each run once whatever the others show"
    )
    pending = []
    for design in plan.designs:
        settings = plan.settings_of(design)  # every design's overlays checked before any run
        if is_confirmed(reports_dir, design):
            log(f"  {design.name}: already run (its report stands; not run again)")
        else:
            log(f"  {design.name}: {design.why}\n    {plan.command_of(design, jobs)}")
            pending.append((design, settings))
    if dry_run:
        return [design.name for design, _ in pending]
    for number, (design, settings) in enumerate(pending, start=1):
        log(f"bitbot confirm: {number} of {len(pending)}: {design.name}")
        build(settings)
    return [design.name for design, _ in pending]
