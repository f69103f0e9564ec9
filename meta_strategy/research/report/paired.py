"""
The meta layer against each baseline on the same days: paired Sharpe differences.

A meta-learner configuration (the seeds' average account, as in
:mod:`~meta_strategy.research.report.verdict`) and a baseline trade the same market over the
same days, so most of their daily moves are shared. Their separate 95 % intervals (about +-1.1
Sharpe over the three validation years) overlap whatever the gap; the interval of the
*difference*, resampling both on the same days, is what says whether the meta layer is better
(:func:`~meta_strategy.research.metrics.sharpe_difference`, after Ledoit & Wolf, 2008).

:func:`paired_comparisons` serves the report as it is built; :func:`saved_paired_comparisons`
reads a finished report (``results.json`` and ``daily_equity.csv``) and runs nothing
(``bitbot paired``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.paths import REPORT_RESULTS, VOTE_STRATEGIES
from meta_strategy.research.metrics import SharpeDifference, interval_verdict, sharpe_difference
from meta_strategy.research.report.analysis import (
    BOOTSTRAP_BLOCK_DAYS,
    BOOTSTRAP_SAMPLES,
    DAYS,
    RunFigures,
)
from meta_strategy.research.report.plan import VOL_TARGETED_SUFFIX
from meta_strategy.research.report.saved import SavedReportError, read_results


logger = logging.getLogger(__name__)

DAILY_EQUITY_FILE = "daily_equity.csv"


class PairedError(SavedReportError):
    """A saved report cannot be compared."""


def baseline_runs(figures: list[RunFigures]) -> dict[str, RunFigures]:
    """
    :param figures: every run's figures
    :return: the baselines a meta-learner configuration is judged against, by key:
        ``best_rule`` (best POC strategy), ``best_vote``, ``best_vol_targeted`` (the best
        volatility-targeted rule or vote), ``stacker``, ``buy_and_hold``, ``flat``; each the
        run with the highest Sharpe of its kind
    """

    def best(runs: list[RunFigures]) -> RunFigures | None:
        return max(runs, key=lambda r: r.metrics["sharpe"]) if runs else None

    found = {
        "best_rule": best([f for f in figures if f.group == "strategy"]),
        "best_vote": best([f for f in figures if f.name in VOTE_STRATEGIES]),
        "best_vol_targeted": best([f for f in figures if f.name.endswith(VOL_TARGETED_SUFFIX)]),
        "stacker": best([f for f in figures if f.name == "StackerStrategy"]),
        "buy_and_hold": best([f for f in figures if f.name == "buy_and_hold"]),
        "flat": best([f for f in figures if f.name == "flat"]),
    }
    return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class PairedComparison:
    """A configuration's Sharpe minus one baseline's, over the same days."""

    baseline: str
    """The baseline's key (:func:`baseline_runs`)."""
    label: str
    run: str
    sharpe: float
    """The baseline's Sharpe."""
    difference: float
    ci_low: float
    ci_high: float
    share_not_above: float
    """Share of the bootstrap samples where the configuration is not above the baseline."""
    same_direction: float | None = None
    """Share of the hours the configuration's runs hold the baseline's direction (long, short
    or flat), the mean over its runs; None where the positions are not known (a saved report's
    as-deployed runs, a report from before 2026-12-02)."""

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON-ready figures"""
        return asdict(self)

    @property
    def verdict(self) -> str:
        """:return: ``above`` / ``below`` when the interval excludes 0, else ``undecided``"""
        return interval_verdict(self.ci_low, self.ci_high)

    def describe(self) -> str:
        """:return: one line, e.g. ``+0.08 [-0.30, +0.46] against Volatility System (1.45)``"""
        return (
            f"{self.difference:+.2f} [{self.ci_low:+.2f}, {self.ci_high:+.2f}] against "
            f"{self.label} ({self.sharpe:.2f}; not above it in {self.share_not_above:.0%} of "
            f"the paired bootstrap samples{agreement_text(self.same_direction)})"
        )


def agreement_text(same_direction: float | None) -> str:
    """:return: ``; in its direction 98.8% of the hours``, or nothing when not known"""
    if same_direction is None:
        return ""
    return f"; in its direction {same_direction:.1%} of the hours"


def strongest(comparisons: list[PairedComparison]) -> PairedComparison | None:
    """:return: the comparison against the baseline with the highest Sharpe (None without any)"""
    return max(comparisons, key=lambda c: c.sharpe) if comparisons else None


def daily_sharpe_difference(returns: pd.Series, other: pd.Series) -> SharpeDifference:
    """
    :param returns: daily returns of the run judged, indexed by day
    :param other: daily returns of the run it is compared with
    :return: the Sharpe difference on the days both have, with the report's paired interval
        (its block length and samples, seed 0)
    """
    both = pd.concat([returns, other], axis=1, join="inner").dropna()
    return sharpe_difference(
        both.iloc[:, 0].to_numpy(),
        both.iloc[:, 1].to_numpy(),
        DAYS,
        block=BOOTSTRAP_BLOCK_DAYS,
        samples=BOOTSTRAP_SAMPLES,
        seed=0,
    )


POSITION_TOLERANCE = 1e-9
"""A position smaller than this (in BTC) is flat: what is left of rounding after a close."""


def position_direction(position: pd.Series) -> pd.Series:
    """:return: +1 long, -1 short, 0 flat, per candle of an hourly position"""
    return np.sign(position.where(position.abs() > POSITION_TOLERANCE, 0.0))


def same_direction(directions: dict[str, pd.Series], runs: list[str], baseline: str) -> float:
    """
    :param directions: every run's hourly position sign (+1 long, -1 short, 0 flat), by name
    :param runs: a configuration's runs
    :param baseline: the baseline's run
    :return: the share of hours each run holds the baseline's direction, the mean over runs
    """
    other = directions[baseline]
    shares = [
        float((both.iloc[:, 0] == both.iloc[:, 1]).mean())
        for both in (
            pd.concat([directions[run], other], axis=1, join="inner").dropna() for run in runs
        )
    ]
    return float(np.mean(shares))


def paired_comparisons(
    returns: pd.Series,
    baselines: dict[str, RunFigures],
    daily_returns: dict[str, pd.Series],
    directions: dict[str, pd.Series] | None = None,
    runs: list[str] | None = None,
) -> list[PairedComparison]:
    """
    :param returns: the configuration's daily returns (the seeds' average)
    :param baselines: :func:`baseline_runs` (flat is skipped: the difference is the Sharpe)
    :param daily_returns: every run's daily returns, by run name
    :param directions: every run's hourly position sign, by name (None: not known)
    :param runs: the configuration's runs, for :func:`same_direction`
    :return: one comparison per baseline, on the days both have
    """
    out = []
    for key, run in baselines.items():
        if key == "flat":
            continue
        paired = daily_sharpe_difference(returns, daily_returns[run.name])
        agreement = (
            same_direction(directions, runs, run.name) if directions is not None and runs else None
        )
        out.append(
            PairedComparison(
                baseline=key,
                label=run.label,
                run=run.name,
                sharpe=float(run.metrics["sharpe"]),
                difference=paired.difference,
                ci_low=paired.ci_low,
                ci_high=paired.ci_high,
                share_not_above=paired.share_not_above,
                same_direction=agreement,
            )
        )
    return out


def daily_returns_of(equity: pd.DataFrame) -> dict[str, pd.Series]:
    """
    :param equity: daily equity per run (``daily_equity.csv``: the day before the period first)
    :return: daily simple returns per run, 0 on days that start with nothing left (as
        :meth:`~meta_strategy.research.report.equity.EquityCurve.daily_returns`)
    """
    previous = equity.shift(1)
    returns = (equity / previous.where(previous > 0) - 1.0).where(previous > 0, 0.0)
    return {name: returns[name].iloc[1:] for name in equity.columns}


def _read_saved(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    results = read_results(folder / REPORT_RESULTS, ("runs", "configurations"))
    equity_path = folder / DAILY_EQUITY_FILE
    try:
        equity = pd.read_csv(equity_path, index_col="date", parse_dates=["date"])
    except (OSError, ValueError) as e:
        raise PairedError(f"{equity_path}: not a readable daily equity table ({e})") from e
    runs = [r["name"] for r in results["runs"]]
    missing = [name for name in runs if name not in equity.columns]
    if missing:
        raise PairedError(f"{equity_path}: no column for the runs {missing}")
    if equity[runs].isna().any().any() or (equity[runs] < 0).any().any():
        bad = [name for name in runs if equity[name].isna().any() or (equity[name] < 0).any()]
        raise PairedError(
            f"{equity_path}: columns {bad} hold empty or negative equity; expected the report's "
            "daily equity (1 at the start)"
        )
    return results, equity


def saved_paired_comparisons(folder: Path) -> list[tuple[str, list[PairedComparison]]]:
    """
    Paired comparisons of a finished report: every meta-learner configuration (the seeds'
    average), and its as-deployed runs' average when the report has them, against each baseline.

    :param folder: the report's folder (``user_data/reports/<name>``)
    :return: (configuration label, its comparisons) per configuration
    :raises SavedReportError: the report's files are missing or not what ``bitbot report``
        writes (:class:`PairedError` for its daily equity)
    """
    results, equity = _read_saved(folder)
    figures = [
        RunFigures(
            name=r["name"],
            group=r["group"],
            label=r["label"],
            algorithm=r.get("algorithm"),
            seed=r.get("seed"),
            metrics=r["metrics"],
        )
        for r in results["runs"]
    ]
    daily = daily_returns_of(equity)
    baselines = baseline_runs(figures)
    out = []
    for config in results["configurations"]:
        groups = [(config["label"], config["runs"])]
        deployed = [
            f.name
            for f in figures
            if f.group == "deployed" and f.algorithm == config.get("algorithm")
        ]
        if deployed:
            groups.append((f"{config['label']} as deployed (risk on)", deployed))
        # the report computed the seeds' agreement from their positions (not saved)
        recorded = {row["baseline"]: row.get("same_direction") for row in config.get("paired", [])}
        for i, (label, names) in enumerate(groups):
            pooled = pd.concat([daily[n] for n in names], axis=1).mean(axis=1)
            rows = paired_comparisons(pooled, baselines, daily)
            if i == 0:
                rows = [replace(r, same_direction=recorded.get(r.baseline)) for r in rows]
            out.append((label, rows))
    return out


def format_paired(folder: Path, comparisons: list[tuple[str, list[PairedComparison]]]) -> str:
    """:return: the comparisons as text, one block per configuration"""
    lines = [
        f"{folder.name}: each configuration's seeds' average minus each baseline's Sharpe, on the "
        f"same days; paired stationary-bootstrap 95 % interval ({BOOTSTRAP_SAMPLES} samples, "
        f"{BOOTSTRAP_BLOCK_DAYS}-day mean blocks)"
    ]
    for label, rows in comparisons:
        lines.append(label)
        for row in rows:
            lines.append(f"  {row.verdict:<10} {row.describe()}")
    if not comparisons:
        lines.append("no meta-learner configuration in this report")
    return "\n".join(lines)
