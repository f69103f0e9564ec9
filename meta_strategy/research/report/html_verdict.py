"""
The verdict of the research report in HTML: the headline (the shipped configuration's mean over
seeds against every baseline, and the promotion rule's verdict) and the table of every
meta-learner configuration over its seeds.
"""

from __future__ import annotations

import html
import logging

from meta_strategy.research.report.paired import PairedComparison, agreement_text, strongest


logger = logging.getLogger(__name__)


def _signed(value: float, text: str) -> str:
    cls = "neg" if value < 0 else "pos" if value > 0 else ""
    return f'<span class="{cls}">{text}</span>'


def _paired(row: dict) -> str:
    """:return: ``, paired +0.08 [-0.30, +0.46]`` for a headline row that has it"""
    if "paired_ci" not in row:
        return ""
    difference = row["paired_difference"]
    low, high = row["paired_ci"]
    return f", paired {_signed(difference, format(difference, '+.2f'))} [{low:+.2f}, {high:+.2f}]"


def _against_strongest(paired: list[dict]) -> str:
    """:return: the seeds' average minus the baseline with the highest Sharpe, paired"""
    row = strongest([PairedComparison(**r) for r in paired])
    if row is None:
        return "-"
    return (
        f"{_signed(row.difference, format(row.difference, '+.2f'))} [{row.ci_low:+.2f}, "
        f"{row.ci_high:+.2f}] vs {html.escape(row.label)}{agreement_text(row.same_direction)}"
    )


def configurations_table(configs: list[dict]) -> str:
    """:return: per meta-learner configuration: its distribution over seeds, the seeds' average"""
    if not configs:
        return "<p>No meta-learner run.</p>"
    rows = []
    for c in configs:
        sh, ret, dd, pooled = c["sharpe"], c["total_return"], c["max_drawdown"], c["pooled"]
        rows.append(
            f'<tr class="meta"><td class="l">{html.escape(c["label"])}</td>'
            f"<td>{len(c['seeds'])}</td>"
            f"<td>{_signed(sh['mean'], format(sh['mean'], '.2f'))}</td><td>{sh['median']:.2f}</td>"
            f"<td>{sh['worst']:.2f}</td><td>{sh['best']:.2f}</td><td>{sh['spread']:.2f}</td>"
            f"<td>{_signed(ret['mean'], format(ret['mean'], '+.2%'))}</td>"
            f"<td>{ret['worst']:+.2%}</td><td>{ret['best']:+.2%}</td><td>{dd['mean']:.2%}</td>"
            f"<td>{pooled['sharpe']:.2f} [{pooled['sharpe_ci_low']:.2f}, "
            f"{pooled['sharpe_ci_high']:.2f}]</td><td>{pooled['deflated_sharpe']:.2f}</td>"
            f"<td>{_against_strongest(c.get('paired') or [])}</td></tr>"
        )
    return (
        '<table id="configurations"><tr><th class="l">Configuration</th><th>Seeds</th>'
        "<th>Mean Sharpe</th><th>Median</th><th>Worst</th><th>Best</th><th>Spread (sd)</th>"
        "<th>Mean return</th><th>Worst</th><th>Best</th><th>Mean max DD</th>"
        "<th>Seeds' average: Sharpe [95% CI]</th><th>Deflated Sharpe</th>"
        "<th>Minus the strongest baseline, same days [paired 95% CI]</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def headline(results: dict) -> str:
    """
    :return: the report's verdict in plain words, losing results included: the shipped
        configuration's mean over seeds against every baseline, and the promotion rule
    """
    verdict = results["verdict"]
    runs = results["runs"]
    lines = []
    if verdict.get("configuration"):
        sh, ret, pooled = verdict["sharpe"], verdict["total_return"], verdict["pooled"]
        beaten = [r for r in verdict["against"] if r["beaten"]]
        lines.append(
            f"{html.escape(verdict['configuration'])}, mean over {len(verdict['seeds'])} seeds: "
            f"Sharpe {sh['mean']:.2f} (worst seed {sh['worst']:.2f}, best {sh['best']:.2f}), "
            f"return {ret['mean']:+.2%} (worst {ret['worst']:+.2%}); the seeds' average has a "
            f"Sharpe of {pooled['sharpe']:.2f}, 95% CI [{pooled['sharpe_ci_low']:.2f}, "
            f"{pooled['sharpe_ci_high']:.2f}], deflated Sharpe {pooled['deflated_sharpe']:.2f} "
            f"over {results['configurations_tried']} configurations recorded for this period. "
            f"It beats {len(beaten)} of {len(verdict['against'])} baselines by mean Sharpe."
        )
        lines.append(
            "Against each (with the seeds' average's Sharpe minus the baseline's on the same "
            "days and its paired 95% interval): "
            + "; ".join(
                f"{html.escape(r['label'])} {r['sharpe']:.2f} "
                f"({'beaten' if r['beaten'] else '<b>not beaten</b>'}{_paired(r)})"
                for r in verdict["against"]
            )
            + "."
        )
        for name, failed in verdict["promotion"].items():
            lines.append(
                f"{html.escape(name)}: "
                + (
                    "<b>promotable</b> under the rule."
                    if not failed
                    else "<b>not promotable</b>: " + html.escape("; ".join(failed)) + "."
                )
            )
    meta = [r for r in runs if r["group"] == "meta"]
    if len(meta) > 1:
        best = max(meta, key=lambda r: r["metrics"]["sharpe"])
        lines.append(
            f"Best of {len(meta)} meta-learner runs (a best-of-N figure, not a result): "
            f"{html.escape(best['label'])}, Sharpe {best['metrics']['sharpe']:.2f}, deflated "
            f"Sharpe {best['metrics']['deflated_sharpe']:.2f} over "
            f"{results['configurations_tried']} configurations."
        )
    wiped = [r["label"] for r in runs if r["metrics"].get("liquidated_at")]
    if wiped:
        lines.append(
            f"Liquidated (equity at the maintenance margin, the account then stays at zero; "
            f"Freqtrade's backtester itself does not liquidate): {html.escape(', '.join(wiped))}."
        )
    return "<p>" + "</p><p>".join(lines) + "</p>"
