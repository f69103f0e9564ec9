"""
The table of every meta-learner configuration tried over a period (issue 14's validation sweep):
one row per configuration of every saved report of that period, with the mean and the spread
(sample standard deviation) of its figures over seeds, next to the best rule strategy and the
best baseline of the newest report, and the number of configurations the ledger counts for the
period (the deflated Sharpe's trials).

It reads what ``bitbot report`` saved (``<reports>/<name>/results.json``) and runs nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meta_strategy.paths import FREQAI_OVERLAY, REPORT_RESULTS
from meta_strategy.research.report.paired import (
    PairedComparison,
    saved_paired_comparisons,
    strongest,
)
from meta_strategy.research.report.plan import shipped_digest
from meta_strategy.research.report.saved import SavedReportError, read_results
from meta_strategy.research.report.trials import read_trials, trials_in


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepRow:
    """One configuration of one report: its figures over seeds."""

    report: str
    generated_at: str
    configuration: str
    """The meta-learner's algorithm, or the strategy's label for the reference rows."""
    variant: str
    """What differs from the shipped bot (``shipped`` when nothing does)."""
    seeds: tuple[int, ...]
    sharpe_mean: float
    sharpe_spread: float
    sharpe_worst: float
    total_return_mean: float
    max_drawdown_mean: float
    sharpe_ci: tuple[float, float] | None
    """The pooled run's 95 % interval (a single run's for the reference rows)."""
    deployed_sharpe: float | None = None
    """The mean Sharpe of the report's as-deployed runs (risk controls on: the first seed, or
    every seed with ``deployed_all_seeds``), for the configuration they traded; None without."""
    deployed_seeds: int = 0
    """How many seeds ``deployed_sharpe`` is the mean of."""
    against_strongest: PairedComparison | None = None
    """The seeds' average against the strongest baseline of its report, on the same days
    (:mod:`.paired`); None when the report's daily equity is not there."""


def _variant(data: dict[str, Any], shipped: str | None) -> str:
    """
    :param shipped: the digest of today's shipped overlay (:func:`.plan.shipped_digest`)
    :return: the overlays that changed the runs (``meta: a + b``), else the differences; on
        whose shipped config, when it is not today's or the report did not record it
    """
    settings = data.get("settings") or {}
    shared = [Path(p).stem for p in settings.get("overlays") or []]
    meta = [Path(p).stem for p in settings.get("meta_overlays") or []]
    deployed = [Path(p).stem for p in settings.get("deployed_overlays") or []]
    if shared or meta or deployed:
        named = (("all", shared), ("meta", meta), ("deployed", deployed))
        variant = "; ".join(f"{kind}: {' + '.join(files)}" for kind, files in named if files)
    else:
        variant = "; ".join(data.get("differences_from_shipped") or []) or "shipped"
    recorded = data.get("shipped_digest")
    if recorded is not None and recorded == shipped:
        return variant
    day = str(data.get("generated_at", ""))[:10] or "an unknown day"
    changed = ", since changed" if recorded is not None else ""
    return f"{variant} (on the shipped config of {day}{changed})"


def _deployed_sharpes(data: dict[str, Any]) -> list[float]:
    """:return: the Sharpe ratios of the meta-learner's as-deployed runs (the rules' have no
    seed)"""
    runs = [r for r in data["runs"] if r.get("group") == "deployed" and r.get("metrics")]
    return [
        float(r["metrics"]["sharpe"])
        for r in runs
        if r.get("seed") is not None and r["metrics"].get("sharpe") is not None
    ]


def _interval(figures: dict[str, Any]) -> tuple[float, float] | None:
    """:return: the Sharpe ratio's 95 % interval of a run's or a pooled configuration's figures"""
    if figures.get("sharpe_ci_low") is None:
        return None
    return float(figures["sharpe_ci_low"]), float(figures["sharpe_ci_high"])


def _against_strongest(
    conf: dict[str, Any], saved: dict[str, list[PairedComparison]] | None
) -> PairedComparison | None:
    """:return: the configuration's paired comparison with its report's strongest baseline"""
    rows = [PairedComparison(**r) for r in conf.get("paired") or []]
    if not rows and saved is not None:
        rows = saved.get(conf["label"], [])
    return strongest(rows)


def _saved_pairs(folder: Path) -> dict[str, list[PairedComparison]] | None:
    """:return: a report's paired comparisons from its saved files (a report written before
    they were in ``results.json``), None when its daily equity cannot be read"""
    try:
        return dict(saved_paired_comparisons(folder))
    except SavedReportError as e:
        logger.info("%s: no paired comparison (%s)", folder.name, e)
        return None


def _meta_rows(data: dict[str, Any], folder: Path, shipped: str | None) -> list[SweepRow]:
    rows = []
    deployed = _deployed_sharpes(data)
    configurations = data["configurations"]
    saved = _saved_pairs(folder) if any(not conf.get("paired") for conf in configurations) else None
    for i, conf in enumerate(configurations):
        rows.append(
            SweepRow(
                report=str(data.get("report", "")),
                generated_at=str(data.get("generated_at", "")),
                configuration=f"Meta {conf['algorithm']}",  # the label says shipped for overlays
                variant=_variant(data, shipped),
                seeds=tuple(int(s) for s in conf["seeds"]),
                sharpe_mean=float(conf["sharpe"]["mean"]),
                sharpe_spread=float(conf["sharpe"]["spread"]),
                sharpe_worst=float(conf["sharpe"]["worst"]),
                total_return_mean=float(conf["total_return"]["mean"]),
                max_drawdown_mean=float(conf["max_drawdown"]["mean"]),
                sharpe_ci=_interval(conf.get("pooled") or {}),
                # the as-deployed runs trade the first configuration's models
                deployed_sharpe=float(sum(deployed) / len(deployed))
                if i == 0 and deployed
                else None,
                deployed_seeds=len(deployed) if i == 0 else 0,
                against_strongest=_against_strongest(conf, saved),
            )
        )
    return rows


def _best_of_group(data: dict[str, Any], group: str) -> SweepRow | None:
    """:return: the best run of ``group``; for ``deployed``, of the rules as deployed"""
    runs = [r for r in data["runs"] if r.get("group") == group and r.get("metrics")]
    if group == "deployed":
        runs = [r for r in runs if r.get("seed") is None]
    runs = [r for r in runs if r["metrics"].get("sharpe") is not None]
    if not runs:
        return None
    best = max(runs, key=lambda r: r["metrics"]["sharpe"])
    m = best["metrics"]
    return SweepRow(
        report=str(data.get("report", "")),
        generated_at=str(data.get("generated_at", "")),
        configuration=f"best {group}: {best['label']}",
        variant="reference",
        seeds=(),
        sharpe_mean=float(m["sharpe"]),
        sharpe_spread=0.0,
        sharpe_worst=float(m["sharpe"]),
        total_return_mean=float(m["total_return"]),
        max_drawdown_mean=float(m["max_drawdown"]),
        sharpe_ci=_interval(m),
    )


@dataclass(frozen=True)
class Sweep:
    """Every configuration tried over a period, and the bar they are measured against."""

    period: str
    rows: list[SweepRow]
    references: list[SweepRow]
    trials: int


def sweep_table(reports_dir: Path, period: str, overlay: str | Path = FREQAI_OVERLAY) -> Sweep:
    """
    :param reports_dir: the reports' parent folder
    :param period: ``validation``, ``test`` or ``custom``
    :param overlay: today's shipped FreqAI overlay: a report run on another says on which
    :return: the meta-learner rows of every report of ``period`` (oldest first), the best rule
        strategy and best baseline of the newest one, and the ledger's trial count
    :raises SavedReportError: a report's results file cannot be read (named)
    """
    reports = []
    for path in sorted(Path(reports_dir).glob(f"*/{REPORT_RESULTS}")):
        data = read_results(path)
        if data["period_name"] == period:
            reports.append((data, path.parent))
    reports.sort(key=lambda report: str(report[0].get("generated_at", "")))
    shipped = shipped_digest(overlay)
    rows = [row for data, folder in reports for row in _meta_rows(data, folder, shipped)]
    references = []
    if reports:
        for group in ("strategy", "baseline", "deployed"):
            best = _best_of_group(reports[-1][0], group)
            if best is not None:
                references.append(best)
    return Sweep(period, rows, references, trials_in(period, read_trials(reports_dir)))


def _line(row: SweepRow) -> str:
    ci = f"[{row.sharpe_ci[0]:+.2f}, {row.sharpe_ci[1]:+.2f}]" if row.sharpe_ci else "-"
    seeds = ",".join(str(s) for s in row.seeds) or "-"
    deployed = "-"
    if row.deployed_sharpe is not None:
        deployed = f"{row.deployed_sharpe:+.2f} ({row.deployed_seeds})"
    paired = "-"
    top = row.against_strongest
    if top is not None:
        paired = f"{top.difference:+.2f} [{top.ci_low:+.2f}, {top.ci_high:+.2f}] vs {top.label}"
    return (
        f"| {row.report} | {row.configuration} | {row.variant} | {seeds} | "
        f"{row.sharpe_mean:+.2f} ± {row.sharpe_spread:.2f} | {row.sharpe_worst:+.2f} | {ci} | "
        f"{row.total_return_mean * 100:+.1f} % | {row.max_drawdown_mean * 100:.1f} % | "
        f"{deployed} | {paired} |"
    )


def format_sweep(sweep: Sweep) -> str:
    """:return: the sweep as a Markdown table (for a terminal and for notes)"""
    header = (
        "| report | configuration | variant | seeds | Sharpe mean ± sd | worst | pooled 95 % CI "
        "| return (mean) | max DD (mean) | as deployed (risk on; mean, seeds) "
        "| seeds' average minus the strongest baseline, same days [paired 95 % CI] |\n|"
        + " --- |"
        * 11
    )
    lines = [
        f"Meta-learner configurations tried over the {sweep.period} period "
        f"({len(sweep.rows)} rows; the ledger counts {sweep.trials} configurations for it, "
        "the deflated Sharpe's trials).",
        "",
        header,
    ]
    lines += [_line(row) for row in sweep.rows + sweep.references]
    if not sweep.rows:
        lines.append(f"(no saved report of the {sweep.period} period)")
    return "\n".join(lines)
