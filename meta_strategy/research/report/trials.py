"""
The ledger of every configuration ever run, per protocol period: what the deflated Sharpe
ratio's number of trials counts, and what tells how often the test period has been looked at.

Each report appends the configurations it ran (one line of JSON each) to
``<reports>/configurations.jsonl``: the period (``validation``, ``test`` or ``custom``), the
timerange, the configuration's key (:meth:`~meta_strategy.research.report.plan.RunSpec.key`
with ``seedless``: the seeds of one configuration are one trial; a change of code, parameters,
configs or data is a new one), its name and when it was first run. A configuration run again
is not counted twice. A period's count includes configurations run over any timerange that
overlaps it: a report over 2021 to 2025 has looked at the test period too.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from meta_strategy.data.timeframes import parse_timerange
from meta_strategy.research.report.plan import PERIODS
from meta_strategy.research.report.runs import RunResult


logger = logging.getLogger(__name__)

LEDGER = "configurations.jsonl"


class TrialLedgerError(ValueError):
    """The ledger file cannot be read."""


@dataclass(frozen=True)
class Trial:
    """One configuration run over one period."""

    period: str
    timerange: str
    configuration: str
    name: str
    first_run: str = ""


def read_trials(reports_dir: Path) -> list[Trial]:
    """
    :param reports_dir: the reports' parent folder
    :return: every configuration recorded so far (none when there is no ledger yet)
    :raises TrialLedgerError: a line that is not a recorded configuration (names file and line)
    """
    path = Path(reports_dir) / LEDGER
    if not path.is_file():
        return []
    trials = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            trials.append(Trial(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as e:
            raise TrialLedgerError(
                f"{path}, line {number}: not a recorded configuration ({e}); expected the keys "
                "period, timerange, configuration, name, first_run"
            ) from e
    return trials


def record_trials(reports_dir: Path, trials: Iterable[Trial]) -> list[Trial]:
    """
    Append the configurations not recorded yet.

    :param reports_dir: the reports' parent folder
    :param trials: the configurations a report ran
    :return: every configuration recorded, these included
    """
    known = read_trials(reports_dir)
    seen = {(t.period, t.configuration) for t in known}
    new = []
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for trial in trials:
        if (trial.period, trial.configuration) in seen:
            continue
        seen.add((trial.period, trial.configuration))
        new.append(Trial(**{**asdict(trial), "first_run": trial.first_run or now}))
    if new:
        path = Path(reports_dir) / LEDGER
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            for trial in new:
                f.write(json.dumps(asdict(trial), sort_keys=True) + "\n")
    return known + new


def _overlaps(timerange: str, other: str) -> bool:
    """:return: whether two Freqtrade timeranges share any time (an open side is unbounded)"""
    start, stop = parse_timerange(timerange)
    other_start, other_stop = parse_timerange(other)
    starts_before_other_ends = other_stop is None or start is None or start < other_stop
    ends_after_other_starts = stop is None or other_start is None or stop > other_start
    return starts_before_other_ends and ends_after_other_starts


def trials_in(period: str, trials: Iterable[Trial]) -> int:
    """
    :param period: a protocol period (``validation``, ``test``) or ``custom``
    :return: how many configurations were run over ``period``: those recorded for it, and those
        of another period or a custom timerange that overlaps it (a look at any of its data)
    """
    span = PERIODS.get(period)
    return len(
        {
            t.configuration
            for t in trials
            if t.period == period or (span is not None and _overlaps(t.timerange, span))
        }
    )


def trials_of(results: Iterable[RunResult], period: str, timerange: str) -> list[Trial]:
    """
    :param results: a report's runs
    :param period: its protocol period
    :param timerange: its timerange
    :return: the configurations they are: each rule strategy of the rules run, the stacker,
        each meta-learner configuration (its seeds are one), the as-deployed run
    """
    out = []
    for result in results:
        if result.spec.kind == "rules":
            for strategy in result.spec.strategies:
                out.append(Trial(period, timerange, f"{result.configuration}:{strategy}", strategy))
        else:
            name = result.spec.name if result.spec.seed is None else f"meta-{result.spec.algorithm}"
            if result.spec.models_of is not None:
                name = result.spec.name
            out.append(Trial(period, timerange, result.configuration, name))
    return out
