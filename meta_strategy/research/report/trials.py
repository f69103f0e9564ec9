"""
The ledger of every configuration ever run, per protocol period: what the deflated Sharpe
ratio's number of trials counts, and what tells how often the test period has been looked at.

Each report appends the configurations it ran (one line of JSON each) to
``<reports>/configurations.jsonl``: the period (``validation``, ``test`` or ``custom``), the
timerange, the configuration's key (:meth:`~meta_strategy.research.report.plan.RunSpec.key`
with ``seedless``: the seeds of one configuration are one trial; a change of code, parameters,
configs or data is a new one), its name, when it was first run and a fingerprint of its trades
(:func:`trades_fingerprint`). A configuration run again is not counted twice. Nor is one whose
trades are those of a configuration already recorded (a rule strategy run again after a change
of code that did not touch it): the same trades are the same returns, not another trial.
Lines recorded before the fingerprint existed count by their key alone. A period's count
includes configurations run over any timerange that overlaps it: a report over 2021 to 2025 has
looked at the test period too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
    trades: str = ""
    """:func:`trades_fingerprint` of its runs (empty on lines recorded before it existed)"""

    @property
    def identity(self) -> str:
        """:return: what makes it another trial: its trades when known, else its key"""
        return f"trades:{self.trades}" if self.trades else self.configuration


def trades_fingerprint(runs: Iterable[list[dict[str, Any]]]) -> str:
    """
    :param runs: each run's trades as Freqtrade's backtest result lists them (one run for a rule
        strategy, one per seed for a meta-learner configuration, in seed order)
    :return: a hash of when each trade opened and closed, its side, its orders' fills and its
        profit: two configurations with the same fingerprint made the same returns
    """
    rows = [
        [
            (
                trade["open_timestamp"],
                trade["close_timestamp"],
                bool(trade["is_short"]),
                round(float(trade["profit_abs"]), 6),
                [
                    (order["order_filled_timestamp"], round(float(order["amount"]), 10))
                    for order in trade.get("orders", [])
                ],
            )
            for trade in trades
        ]
        for trades in runs
    ]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


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
                "period, timerange, configuration, name, first_run (and trades)"
            ) from e
    return trials


def record_trials(reports_dir: Path, trials: Iterable[Trial]) -> list[Trial]:
    """
    Append the configurations not recorded yet, and the fingerprint of those recorded without
    one (a line of the same configuration with its trades: the ledger is only appended to).

    :param reports_dir: the reports' parent folder
    :param trials: the configurations a report ran
    :return: every configuration recorded, these included
    """
    known = read_trials(reports_dir)
    seen: dict[tuple[str, str], bool] = {}  # recorded: with its trades (True) or without
    first_runs: dict[tuple[str, str], str] = {}
    for t in known:
        key = (t.period, t.configuration)
        seen[key] = seen.get(key, False) or bool(t.trades)
        first_runs.setdefault(key, t.first_run)
    new = []
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for trial in trials:
        key = (trial.period, trial.configuration)
        if seen.get(key) or (key in seen and not trial.trades):
            continue
        seen[key] = bool(trial.trades)
        first_run = trial.first_run or first_runs.get(key) or now
        new.append(Trial(**{**asdict(trial), "first_run": first_run}))
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
        of another period or a custom timerange that overlaps it (a look at any of its data);
        those with the same trades once
    """
    span = PERIODS.get(period)
    looked = [t for t in trials if t.period == period or (span and _overlaps(t.timerange, span))]
    known = {t.configuration: t.identity for t in looked if t.trades}
    return len({known.get(t.configuration, t.identity) for t in looked})


def trials_of(results: Iterable[RunResult], period: str, timerange: str) -> list[Trial]:
    """
    :param results: a report's runs
    :param period: its protocol period
    :param timerange: its timerange
    :return: the configurations they are, each with the fingerprint of its trades: each rule
        strategy of the rules run, the stacker, each meta-learner configuration (its seeds are
        one), the as-deployed run
    """
    out = []
    seeds: dict[str, list[RunResult]] = {}
    for result in results:
        if result.spec.kind == "rules":
            stats = result.stats()["strategy"]
            for strategy in result.spec.strategies:
                trades = trades_fingerprint([stats[strategy]["trades"]])
                configuration = f"{result.configuration}:{strategy}"
                out.append(Trial(period, timerange, configuration, strategy, trades=trades))
        else:
            seeds.setdefault(result.configuration, []).append(result)
    for configuration, runs in seeds.items():
        spec = runs[0].spec
        name = spec.name if spec.seed is None else f"meta-{spec.algorithm}"
        if spec.models_of is not None:
            name = spec.name
        runs = sorted(runs, key=lambda r: r.spec.seed or 0)
        trades = trades_fingerprint(
            [r.stats()["strategy"][r.spec.strategies[0]]["trades"] for r in runs]
        )
        out.append(Trial(period, timerange, configuration, name, trades=trades))
    return out
