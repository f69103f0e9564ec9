"""
The research report as one self-contained HTML file: plotly's JavaScript is embedded, so it
opens offline. Charts: equity and drawdown curves, position over price, returns per year and per
regime, training curves; tables: the comparison of every run, each meta-learner configuration
over its seeds, and who won each year and regime with the Sharpe interval. The verdict leads
with the shipped configuration's mean over seeds, never the best of N. Losing results are
shown like winning ones.

The page records JavaScript errors in ``<body data-js-errors>`` and the number of charts drawn
in ``data-charts-rendered``, which the headless-browser test reads.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from meta_strategy.research.report.html_verdict import configurations_table, headline
from meta_strategy.research.report.plan import CONFIRMATION_PERIODS


logger = logging.getLogger(__name__)

GROUP_ORDER = {"meta": 0, "deployed": 1, "baseline": 2, "strategy": 3}
ERROR_HOOK = """<script>
window.__jsErrors = [];
window.addEventListener('error', function (e) { window.__jsErrors.push(String(e.message)); });
</script>"""
RENDER_CHECK = """<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    var drawn = document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 ?
      document.querySelectorAll('.js-plotly-plot').length : 0;
    document.body.setAttribute('data-charts-rendered', String(drawn));
    document.body.setAttribute('data-js-errors', String(window.__jsErrors.length));
    document.getElementById('js-errors').textContent = window.__jsErrors.join('\\n');
  }, 0);
});
</script>"""
STYLE = """<style>
body { font-family: -apple-system, Segoe UI, Roboto, sans-serif; margin: 24px; color: #222; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
tr.meta td { background: #f3f8ff; } .neg { color: #b00020; } .pos { color: #0a7a2f; }
.note { color: #555; font-size: 13px; max-width: 1000px; }
.warn { background: #fff3cd; border: 1px solid #e0c36a; padding: 8px; max-width: 1000px; }
</style>"""

COLUMNS = (
    ("total_return", "Return", "signed"),
    ("cagr", "CAGR", "signed"),
    ("sharpe", "Sharpe", "num"),
    ("sharpe_ci", "Sharpe 95% CI", "ci"),
    ("deflated_sharpe", "Deflated Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"),
    ("max_drawdown", "Max DD", "pct"),
    ("max_drawdown_days", "DD days", "int"),
    ("profit_factor", "Profit factor", "num"),
    ("win_rate", "Win rate", "pct"),
    ("trades", "Trades", "int"),
    ("time_in_market", "In market", "pct"),
    ("mean_abs_exposure", "Mean |exposure|", "num"),
    ("fees_paid", "Fees", "pct"),
    ("funding_paid", "Funding paid", "signed"),
    ("btc_multiple", "BTC multiple", "num"),
    ("liquidated_at", "Liquidated", "date"),
)


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "signed":
        return f"{value:+.2%}" if abs(value) < 1000 else f"{value:+.3g}"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "int":
        return f"{value:.0f}"
    if kind == "date":
        return f'<span class="neg">{html.escape(str(value)[:10])}</span>'
    return f"{value:.2f}"


def _signed(value: Any, text: str) -> str:
    if value is None:
        return text
    cls = "neg" if value < 0 else "pos" if value > 0 else ""
    return f'<span class="{cls}">{text}</span>'


def _ordered(runs: list[dict]) -> list[dict]:
    return sorted(runs, key=lambda r: (GROUP_ORDER.get(r["group"], 3), r["name"]))


def comparison_table(runs: list[dict]) -> str:
    """:return: the comparison table of every run (meta-learner rows first)"""
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in COLUMNS)
    rows = []
    for run in _ordered(runs):
        m = run["metrics"]
        cells = []
        for key, _, kind in COLUMNS:
            if kind == "ci":
                cells.append(f"<td>[{m['sharpe_ci_low']:.2f}, {m['sharpe_ci_high']:.2f}]</td>")
                continue
            value = m.get(key)
            text = _fmt(value, kind)
            if key in ("total_return", "cagr", "sharpe"):
                text = _signed(value, text)
            cells.append(f"<td>{text}</td>")
        rows.append(
            f'<tr class="{run["group"]}"><td class="l">{html.escape(run["label"])}</td>'
            f'<td class="l">{run["group"]}</td>{"".join(cells)}</tr>'
        )
    return (
        f'<table id="comparison"><tr><th class="l">Run</th><th class="l">Group</th>{head}</tr>'
        + "".join(rows)
        + "</table>"
    )


def winners_table(winners: dict[str, dict], what: str) -> str:
    """:return: who won each year or regime, with the interval, beside the meta-learner"""
    rows = []
    for group, w in winners.items():
        meta = (
            f"{html.escape(w['best_meta'])} (best of {w['best_meta_of']}): "
            f"{w['best_meta_sharpe']:.2f} "
            f"[{w['best_meta_ci'][0]:.2f}, {w['best_meta_ci'][1]:.2f}]"
            if "best_meta" in w
            else "–"
        )
        beat = w.get("meta_beat_buy_and_hold")
        verdict = "–" if beat is None else ("yes" if beat else '<span class="neg">no</span>')
        rows.append(
            f'<tr><td class="l">{html.escape(group)}</td><td>{w["days"]}</td>'
            f'<td class="l">{html.escape(w["winner"])}</td><td>{w["return"]:+.2%}</td>'
            f"<td>{w['sharpe']:.2f} [{w['sharpe_ci_low']:.2f}, {w['sharpe_ci_high']:.2f}]</td>"
            f'<td class="l">{meta}</td>'
            f"<td>{_fmt(w.get('meta_mean_return'), 'signed')} / "
            f"{_fmt(w.get('meta_mean_sharpe'), 'num')}</td>"
            f"<td>{_fmt(w.get('buy_and_hold_return'), 'signed')} / "
            f"{_fmt(w.get('buy_and_hold_sharpe'), 'num')}</td><td>{verdict}</td></tr>"
        )
    return (
        f'<table id="winners-{what}"><tr><th class="l">{what.capitalize()}</th><th>Days</th>'
        '<th class="l">Winner (highest Sharpe)</th><th>Its return</th>'
        '<th>Its Sharpe [95% CI]</th><th class="l">Best meta run (best of N): Sharpe '
        "[95% CI]</th><th>Shipped meta, mean over seeds: return / Sharpe</th>"
        "<th>Buy-and-hold return / Sharpe</th>"
        f"<th>Mean beat buy-and-hold?</th></tr>{''.join(rows)}</table>"
    )


def breakdown_table(runs: list[dict], breakdown: str, what: str) -> str:
    """:return: every run's return and Sharpe [95% CI] in each year or regime"""
    groups = sorted({g for r in runs for g in r[breakdown]})
    head = "".join(f"<th>{html.escape(g)}</th>" for g in groups)
    rows = []
    for run in _ordered(runs):
        cells = []
        for g in groups:
            cell = run[breakdown].get(g)
            if cell is None:
                cells.append("<td>–</td>")
                continue
            cells.append(
                f"<td>{_signed(cell['return'], format(cell['return'], '+.1%'))}<br>"
                f"{cell['sharpe']:.2f} [{cell['sharpe_ci_low']:.2f}, "
                f"{cell['sharpe_ci_high']:.2f}]</td>"
            )
        rows.append(
            f'<tr class="{run["group"]}"><td class="l">{html.escape(run["label"])}</td>'
            f"{''.join(cells)}</tr>"
        )
    return (
        f'<table id="{breakdown}"><tr><th class="l">Run (return, Sharpe [95% CI]) per '
        f"{what}</th>{head}</tr>{''.join(rows)}</table>"
    )


def _figure_html(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 50, "b": 40})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


def _line(run: dict) -> dict[str, Any]:
    """Meta-learner runs solid, baselines dashed, single strategies dotted; buy-and-hold black."""
    if run["name"] == "buy_and_hold":
        return {"color": "black", "width": 2.5}
    return {"dash": {"meta": "solid", "baseline": "dash"}.get(run["group"], "dot")}


def _visible(run: dict) -> bool | str:
    """Every seed is in the legend; the first seed of each algorithm is drawn."""
    return True if run["group"] != "meta" or run.get("seed") == 1 else "legendonly"


def _label(runs: list[dict], name: str) -> str:
    return next((r["label"] for r in runs if r["name"] == name), name)


def curves_figure(series: dict, runs: list[dict], key: str, title: str, **layout: Any) -> go.Figure:
    """
    :param key: ``equity`` (start = 1) or ``drawdown`` (from the running peak)
    :return: that daily curve of every run
    """
    fig = go.Figure()
    for run in _ordered(runs):
        fig.add_trace(
            go.Scatter(
                x=series["dates"],
                y=series[key][run["name"]],
                name=run["label"],
                mode="lines",
                visible=_visible(run),
                line=_line(run),
            )
        )
    fig.update_layout(title=title, **layout)
    return fig


def position_figure(series: dict, runs: list[dict]) -> go.Figure:
    """:return: the perpetual's price with the daily mean exposure of the meta-learner runs"""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=series["dates"], y=series["price"], name="BTC price", line={"color": "#999"})
    )
    meta = [r for r in _ordered(runs) if r["group"] == "meta"] or [
        r for r in runs if r["name"] == "buy_and_hold"
    ]
    for i, run in enumerate(meta):
        fig.add_trace(
            go.Scatter(
                x=series["dates"],
                y=series["exposure"][run["name"]],
                name=run["label"],
                yaxis="y2",
                mode="lines",
                visible=True if i == 0 else "legendonly",
            )
        )
    fig.update_layout(
        title="Position over price (daily mean exposure: +1 = fully long, -1 = fully short)",
        yaxis={"title": "price", "type": "log"},
        yaxis2={
            "title": "exposure",
            "overlaying": "y",
            "side": "right",
            "range": [-1.6, 1.6],
            "tickvals": [-1.5, -1, -0.5, 0, 0.5, 1, 1.5],
        },
        height=460,
    )
    return fig


def breakdown_figure(runs: list[dict], breakdown: str, title: str) -> go.Figure:
    """:return: grouped bars of the return of every run per year or regime"""
    groups = sorted({g for r in runs for g in r[breakdown]})
    fig = go.Figure()
    for run in _ordered(runs):
        fig.add_trace(
            go.Bar(
                x=groups,
                y=[run[breakdown].get(g, {}).get("return") for g in groups],
                name=run["label"],
                visible=_visible(run),
            )
        )
    fig.update_layout(title=title, barmode="group", yaxis_tickformat=".0%", height=460)
    return fig


def training_figure(training: dict[str, dict], runs: list[dict]) -> go.Figure | None:
    """
    :return: the held-out evaluation reward at the end of training of every window, per run,
        and the last training-episode reward; None without logs
    """
    fig = go.Figure()
    for name, windows in training.items():
        if not windows:
            continue
        stamps = sorted(windows, key=int)
        dates = [f"{pd.Timestamp(int(s), unit='s'):%Y-%m-%d}" for s in stamps]
        for tag, dash in (("eval/mean_reward", None), ("rollout/ep_rew_mean", "dot")):
            values = [windows[s][tag][-1][1] if windows[s].get(tag) else None for s in stamps]
            if any(v is not None for v in values):
                fig.add_trace(
                    go.Scatter(
                        x=dates,
                        y=values,
                        mode="lines+markers",
                        name=f"{_label(runs, name)}: {tag}",
                        line={"dash": dash} if dash else None,
                        visible=True if name.endswith("-s1") else "legendonly",
                    )
                )
    if not fig.data:
        return None
    fig.update_layout(
        title="Training curves per walk-forward window (final held-out reward; dotted: "
        "final training-episode reward)",
        xaxis_title="window (end of training data)",
        height=460,
    )
    return fig


def _charts(series: dict, runs: list[dict]) -> list[str]:
    """:return: the HTML of the equity, drawdown, position, per-year and per-regime charts"""
    equity = curves_figure(
        series, runs, "equity", "Equity (start = 1, log scale)", yaxis_type="log", height=520
    )
    drawdown = curves_figure(
        series,
        runs,
        "drawdown",
        "Drawdown from the running peak",
        yaxis_tickformat=".0%",
        height=420,
    )
    return [
        _figure_html(equity, "chart-equity"),
        _figure_html(drawdown, "chart-drawdown"),
        _figure_html(position_figure(series, runs), "chart-position"),
        _figure_html(breakdown_figure(runs, "by_year", "Return per calendar year"), "chart-year"),
        _figure_html(
            breakdown_figure(runs, "by_regime", "Return per market regime"), "chart-regime"
        ),
    ]


def _training_html(training: dict[str, dict], runs: list[dict]) -> str:
    """:return: the training chart, or a note that there are no tensorboard logs"""
    training_fig = training_figure(training, runs)
    if training_fig:
        return _figure_html(training_fig, "chart-training")
    return "<p>No tensorboard logs for these runs.</p>"


def _warnings_html(results: dict) -> str:
    """:return: the warning boxes of a synthetic or quick report ("" when none applies)"""
    warnings = []
    if results.get("synthetic"):
        warnings.append("SYNTHETIC data: these figures say nothing about real Bitcoin.")
    if results["settings"].get("quick"):
        warnings.append("QUICK report: CI-sized agents on a short window; plumbing only.")
    for difference in results.get("differences_from_shipped", []):
        warnings.append(f"NOT the shipped bot: {difference}")
    ledger = results.get("ledger", {})
    period = ledger.get("period")
    if period in CONFIRMATION_PERIODS:
        warnings.append(
            f"{period.upper()} period: {ledger[f'{period}_period_configurations']} "
            "configurations have been run on it so far. Choose on validation; a "
            f"{period} figure is a confirmation only once."
        )
    return "".join(f'<p class="warn">{html.escape(w)}</p>' for w in warnings)


def render_html(results: dict, series: dict, training: dict[str, dict]) -> str:
    """
    :param results: the report's ``results.json`` content
    :param series: daily curves (:func:`meta_strategy.research.report.build.curves_frame`)
    :param training: training curves per run name
    :return: the HTML page
    """
    runs = results["runs"]
    settings = results["settings"]
    charts = _charts(series, runs)
    training_html = _training_html(training, runs)
    conventions = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
        for k, v in results["conventions"].items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>BitBot research report: {html.escape(results["report"])}</title>
{ERROR_HOOK}
{STYLE}
<script>{get_plotlyjs()}</script>
</head><body>
<h1>BitBot research report</h1>
<p class="note">{html.escape(results["data"])}, {html.escape(results["pair"])}, out of sample
{html.escape(results["period"])} ({html.escape(results.get("period_name", "custom"))} period);
generated {html.escape(results["generated_at"])}; {results["configurations_tried"]} configurations
recorded for this period, {results.get("ledger", {}).get("test_period_configurations", 0)} for
the test period.
Walk-forward: {settings["train_period_days"]}-day training windows, each model trading the next
{settings["backtest_period_days"]} days; {len(settings["algorithms"])} RL algorithms x
{len(settings["seeds"])} seeds; fee + slippage {settings["fee_per_fill_incl_slippage"]:.4%} per fill
for every run.</p>
{_warnings_html(results)}
<h2>Verdict</h2>{headline(results)}
<h2>Comparison</h2>{comparison_table(runs)}
<ul class="note">{conventions}</ul>
<h2>Meta-learner configurations over seeds</h2>
<p class="note">{html.escape(results["verdict"].get("rule", ""))}</p>
{configurations_table(results["configurations"])}
<h2>Who won each year</h2>
<p class="note">The winner is the run with the highest Sharpe ratio in that year or regime. There
are {sum(r["group"] == "meta" for r in runs)} meta-learner runs (algorithms x seeds) beside
{sum(r["group"] != "meta" for r in runs)} others, so the best of them winning says little on its
own (a best-of-N pick): read it with its interval, the shipped configuration's mean over seeds
beside it, and the full tables below.</p>
{winners_table(results["winners"]["by_year"], "year")}
<h2>Who won each regime</h2>{winners_table(results["winners"]["by_regime"], "regime")}
<h2>Every run per year and per regime</h2>{breakdown_table(runs, "by_year", "year")}
{breakdown_table(runs, "by_regime", "regime")}
<h2>Equity and drawdown</h2>{charts[0]}{charts[1]}
<h2>Position over price</h2>{charts[2]}
<h2>Per year and per regime</h2>{charts[3]}{charts[4]}
<h2>Training</h2>{training_html}
<pre id="js-errors"></pre>
{RENDER_CHECK}
</body></html>
"""
