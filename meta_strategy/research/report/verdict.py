"""
Verdicts from distributions, never from the best of N.

A meta-learner *configuration* is every seed of one setting (here: one RL algorithm with the
report's windows, cycles and network). For each the report gives the distribution over its seeds
(mean, median, worst, best and spread of the Sharpe ratio, return and drawdown) and the figures
of the configuration as a whole: the daily returns of the seeds' average (the account that splits
its stake evenly across the seeds), with their Sharpe, its 95 % bootstrap interval and its
deflated Sharpe ratio over every configuration recorded for the period
(:mod:`~meta_strategy.research.report.trials`).

The headline compares the *shipped* configuration's mean over seeds with every baseline: the
best rule strategy (a POC strategy), the best vote, the stacker, buy-and-hold and flat, with
the seeds' average's paired Sharpe difference to each (:mod:`~meta_strategy.research.report.
paired`), and applies the promotion rule (:class:`~meta_strategy.models.promotion.PromotionRule`)
to it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.models.promotion import PromotionRule
from meta_strategy.research.metrics import (
    bootstrap_sharpe_ci,
    deflated_sharpe_ratio,
    sharpe_ratio,
)
from meta_strategy.research.report.analysis import (
    BOOTSTRAP_BLOCK_DAYS,
    BOOTSTRAP_SAMPLES,
    DAYS,
    RunFigures,
)
from meta_strategy.research.report.paired import (
    agreement_text,
    baseline_runs,
    paired_comparisons,
)


logger = logging.getLogger(__name__)


def _spread(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float)
    return {
        "mean": float(array.mean()),
        "median": float(np.median(array)),
        "worst": float(array.min()),
        "best": float(array.max()),
        "spread": float(array.std(ddof=1)) if len(array) > 1 else 0.0,
    }


@dataclass
class ConfigurationFigures:
    """One meta-learner configuration over its seeds."""

    name: str
    label: str
    algorithm: str
    shipped: bool
    seeds: list[int]
    runs: list[str]
    sharpe: dict[str, float]
    total_return: dict[str, float]
    max_drawdown: dict[str, float]
    pooled: dict[str, float] = field(default_factory=dict)
    paired: list[dict[str, Any]] = field(default_factory=list)
    """The seeds' average against each baseline on the same days
    (:class:`~meta_strategy.research.report.paired.PairedComparison`)."""

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON-ready figures"""
        return asdict(self)


def summarise_configurations(
    figures: list[RunFigures],
    daily_returns: dict[str, pd.Series],
    shipped_algorithm: str,
    trials: int,
    trial_sharpe_variance: float,
    variant: bool = False,
    directions: dict[str, pd.Series] | None = None,
) -> list[ConfigurationFigures]:
    """
    :param figures: every run's figures
    :param daily_returns: every run's daily returns, by run name
    :param shipped_algorithm: the algorithm of ``config.freqai.json``
    :param variant: the meta-learner's runs differ from the shipped bot
        (:meth:`~meta_strategy.research.report.plan.ReportSettings.meta_is_shipped`): its
        configuration is labelled a variant, not the shipped one
    :param trials: configurations recorded for the period (the deflated Sharpe's N)
    :param trial_sharpe_variance: variance of the per-day Sharpe ratios across the trials
    :param directions: every run's hourly position sign, by name, for the share of hours each
        configuration holds each baseline's direction (None: not computed)
    :return: one entry per meta-learner configuration, the shipped one first
    """
    algorithms = list(dict.fromkeys(f.algorithm for f in figures if f.group == "meta"))
    baselines = baseline_runs(figures)
    algorithms.sort(key=lambda a: a != shipped_algorithm)
    out = []
    for algorithm in algorithms:
        runs = [f for f in figures if f.group == "meta" and f.algorithm == algorithm]
        pooled_returns = pd.concat([daily_returns[r.name] for r in runs], axis=1).mean(axis=1)
        values = pooled_returns.to_numpy(dtype=float)
        low, high = bootstrap_sharpe_ci(
            values, DAYS, block=BOOTSTRAP_BLOCK_DAYS, samples=BOOTSTRAP_SAMPLES, seed=0
        )
        out.append(
            ConfigurationFigures(
                name=f"meta-{algorithm.lower()}",
                label=f"Meta {algorithm}"
                + (
                    (" (variant)" if variant else " (shipped)")
                    if algorithm == shipped_algorithm
                    else ""
                ),
                algorithm=algorithm,
                shipped=algorithm == shipped_algorithm,
                seeds=[int(r.seed or 0) for r in runs],
                runs=[r.name for r in runs],
                sharpe=_spread([r.metrics["sharpe"] for r in runs]),
                total_return=_spread([r.metrics["total_return"] for r in runs]),
                max_drawdown=_spread([r.metrics["max_drawdown"] for r in runs]),
                pooled={
                    "sharpe": sharpe_ratio(values, DAYS),
                    "sharpe_ci_low": low,
                    "sharpe_ci_high": high,
                    "deflated_sharpe": deflated_sharpe_ratio(values, trials, trial_sharpe_variance),
                    "total_return": float(np.prod(1.0 + values) - 1.0),
                },
                paired=[
                    c.to_dict()
                    for c in paired_comparisons(
                        pooled_returns,
                        baselines,
                        daily_returns,
                        directions,
                        [r.name for r in runs],
                    )
                ],
            )
        )
    return out


def baseline_sharpes(figures: list[RunFigures]) -> dict[str, tuple[str, float]]:
    """
    :return: the baselines the rule and the headline compare with, as (label, Sharpe):
        ``best_rule`` (best POC strategy), ``best_vote``, ``best_vol_targeted`` (the best
        volatility-targeted rule or vote), ``stacker``, ``buy_and_hold``, ``flat``
        (:func:`~meta_strategy.research.report.paired.baseline_runs`)
    """
    return {
        key: (run.label, float(run.metrics["sharpe"]))
        for key, run in baseline_runs(figures).items()
    }


def promotion_evidence(
    config: ConfigurationFigures,
    baselines: dict[str, tuple[str, float]],
    trials: int,
    period: str,
    configuration_key: str,
) -> dict[str, Any]:
    """
    :return: what the promotion rule reads, as recorded with each of the configuration's models
        (``run_metrics``)
    """
    return {
        "configuration": configuration_key,
        "config_seeds": len(config.seeds),
        "config_sharpe_mean": config.sharpe["mean"],
        "config_sharpe_worst": config.sharpe["worst"],
        "config_sharpe_ci_low": config.pooled["sharpe_ci_low"],
        "config_sharpe_ci_high": config.pooled["sharpe_ci_high"],
        "config_deflated_sharpe": config.pooled["deflated_sharpe"],
        "best_rule_sharpe": baselines.get("best_rule", (None, None))[1],
        "best_vote_sharpe": baselines.get("best_vote", (None, None))[1],
        "best_vol_targeted_sharpe": baselines.get("best_vol_targeted", (None, None))[1],
        "flat_sharpe": baselines.get("flat", (None, 0.0))[1],
        "config_paired": [
            {k: row[k] for k in ("baseline", "label", "difference", "ci_low", "ci_high")}
            for row in config.paired
        ],
        "trials": trials,
        "period_name": period,
    }


def headline_verdict(
    configs: list[ConfigurationFigures],
    baselines: dict[str, tuple[str, float]],
    evidence: dict[str, dict[str, Any]],
    rule: PromotionRule | None = None,
) -> dict[str, Any]:
    """
    :param configs: the configurations, the shipped one first
    :param baselines: :func:`baseline_sharpes`
    :param evidence: :func:`promotion_evidence` per configuration name
    :param rule: the promotion rule
    :return: the shipped configuration's mean over seeds against every baseline, and the rule's
        verdict for every configuration
    """
    rule = rule or PromotionRule()
    verdicts = {c.name: rule.failures(evidence[c.name]) for c in configs}
    if not configs:
        return {"configuration": None, "against": [], "promotion": verdicts}
    shipped = configs[0]
    mean = shipped.sharpe["mean"]
    paired = {row["baseline"]: row for row in shipped.paired}
    return {
        "configuration": shipped.label,
        "seeds": shipped.seeds,
        "sharpe": shipped.sharpe,
        "total_return": shipped.total_return,
        "pooled": shipped.pooled,
        "against": [
            {
                "baseline": key,
                "label": label,
                "sharpe": sharpe,
                "beaten": bool(mean > sharpe),
                **(
                    {
                        "paired_difference": paired[key]["difference"],
                        "paired_ci": [paired[key]["ci_low"], paired[key]["ci_high"]],
                        "same_direction": paired[key].get("same_direction"),
                    }
                    if key in paired
                    else {}
                ),
            }
            for key, (label, sharpe) in baselines.items()
        ],
        "promotion": verdicts,
        "rule": rule.describe(),
    }


@dataclass
class Judgement:
    """What a report concludes: configurations over seeds, the headline, the rule's evidence."""

    configurations: list[ConfigurationFigures]
    verdict: dict[str, Any]
    evidence_by_run: dict[str, dict[str, Any]]


def judge(
    figures: list[RunFigures],
    daily_returns: dict[str, pd.Series],
    configuration_keys: dict[str, str],
    shipped_algorithm: str,
    trials: int,
    trial_sharpe_variance: float,
    period: str,
    variant: bool = False,
    directions: dict[str, pd.Series] | None = None,
) -> Judgement:
    """
    :param figures: every run's figures
    :param daily_returns: every run's daily returns, by run name
    :param configuration_keys: run name -> configuration key
    :param shipped_algorithm: the algorithm of ``config.freqai.json``
    :param trials: configurations recorded for the period
    :param trial_sharpe_variance: variance of the per-day Sharpe ratios across the trials
    :param period: the protocol period
    :param variant: the meta-learner's runs differ from the shipped config
    :param directions: every run's hourly position sign, by name (None: not computed)
    :return: the judgement
    """
    configs = summarise_configurations(
        figures,
        daily_returns,
        shipped_algorithm,
        trials,
        trial_sharpe_variance,
        variant,
        directions,
    )
    baselines = baseline_sharpes(figures)
    evidence = {
        c.name: promotion_evidence(
            c, baselines, trials, period, configuration_keys.get(c.runs[0], c.name)
        )
        for c in configs
    }
    # the first configuration's as-deployed runs (risk controls on): its first seed, or every
    # seed with ``deployed_all_seeds``; the rules as deployed have no algorithm
    deployed = [f for f in figures if f.group == "deployed" and f.algorithm is not None]
    if configs and deployed:
        sharpes = [float(f.metrics["sharpe"]) for f in deployed]
        evidence[configs[0].name]["deployed_sharpe"] = float(np.mean(sharpes))
        evidence[configs[0].name]["deployed_seeds"] = len(sharpes)
    by_run = {run: evidence[c.name] for c in configs for run in c.runs}
    return Judgement(configs, headline_verdict(configs, baselines, evidence), by_run)


def summary_lines(
    figures: list[RunFigures], judgement: Judgement, differences: list[str]
) -> list[str]:
    """:return: the comparison as a text table, then the verdict from the means over seeds"""
    order = {"meta": 0, "deployed": 1, "baseline": 2, "strategy": 3}
    lines = [
        f"{'run':<44}{'return':>10}{'Sharpe':>8}  {'95% CI':<16}{'DSR':>6}{'max DD':>9}"
        f"{'trades':>8}{'BTC x':>7}"
    ]
    for f in sorted(figures, key=lambda f: (order.get(f.group, 4), f.name)):
        m = f.metrics
        ci = f"[{m['sharpe_ci_low']:.2f}, {m['sharpe_ci_high']:.2f}]"
        dsr = "-" if m.get("deflated_sharpe") is None else f"{m['deflated_sharpe']:.2f}"
        lines.append(
            f"{f.label:<44}{m['total_return']:>+10.2%}{m['sharpe']:>8.2f}  {ci:<16}{dsr:>6}"
            f"{m['max_drawdown']:>9.2%}{m['trades']:>8}{m['btc_multiple']:>7.2f}"
            + (f"  liquidated {m['liquidated_at'][:10]}" if m.get("liquidated_at") else "")
        )
    for c in judgement.configurations:
        sh, ret = c.sharpe, c.total_return
        lines.append(
            f"{c.label} over {len(c.seeds)} seeds: Sharpe mean {sh['mean']:.2f} (median "
            f"{sh['median']:.2f}, worst {sh['worst']:.2f}, best {sh['best']:.2f}, spread "
            f"{sh['spread']:.2f}); return mean {ret['mean']:+.2%} (worst {ret['worst']:+.2%}); "
            f"seeds' average: Sharpe {c.pooled['sharpe']:.2f} [{c.pooled['sharpe_ci_low']:.2f}, "
            f"{c.pooled['sharpe_ci_high']:.2f}], deflated {c.pooled['deflated_sharpe']:.2f}"
        )
    verdict = judgement.verdict
    for row in verdict.get("against", []):
        paired = (
            f"; seeds' average minus it, paired: {row['paired_difference']:+.2f} "
            f"[{row['paired_ci'][0]:+.2f}, {row['paired_ci'][1]:+.2f}]"
            if "paired_ci" in row
            else ""
        ) + agreement_text(row.get("same_direction"))
        lines.append(
            f"  mean Sharpe {'beats' if row['beaten'] else 'does NOT beat'} {row['label']} "
            f"({row['sharpe']:.2f}){paired}"
        )
    for name, failed in verdict.get("promotion", {}).items():
        lines.append(
            f"  {name}: " + ("promotable" if not failed else "NOT promotable: " + "; ".join(failed))
        )
    lines += [f"NOT the shipped bot: {d}" for d in differences]
    return lines
