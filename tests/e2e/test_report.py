"""
``bitbot report --quick`` end to end on real data: every run, the figures, the files, the model
registry, reuse of saved runs, and the HTML rendered by a headless Chromium.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from meta_strategy.paths import SIGNAL_STRATEGIES, VOTE_STRATEGIES
from meta_strategy.research.report.plan import VOL_TARGETED_STRATEGIES
from meta_strategy.research.report.trials import read_trials
from meta_strategy.rl.algorithms import ALGORITHMS
from tests.helpers.freqtrade import run_bitbot


pytestmark = pytest.mark.slow

METRICS = {
    "total_return",
    "cagr",
    "sharpe",
    "sharpe_ci_low",
    "sharpe_ci_high",
    "sortino",
    "calmar",
    "max_drawdown",
    "max_drawdown_days",
    "profit_factor",
    "win_rate",
    "trades",
    "time_in_market",
    "mean_abs_exposure",
    "fees_paid",
    "funding_paid",
    "btc_multiple",
    "deflated_sharpe",
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--virtual-time-budget=20000",
]


@pytest.fixture(scope="module")
def quick_report(binance_datadir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("reports")
    args = (
        "report",
        "--quick",
        "--jobs",
        "2",
        "--reports-dir",
        str(out),
        "--registry",
        str(out / "models.sqlite"),
    )
    env = {"BITBOT_DATA": str(binance_datadir)}
    first = run_bitbot(*args, env=env, timeout=1200)
    assert first.returncode == 0, first.stdout[-5000:]
    second = run_bitbot(*args, env=env, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:]
    return {
        "dir": out / "quick",
        "first": first.stdout,
        "second": second.stdout,
        "registry": out / "models.sqlite",
    }


def test_every_run_and_baseline_with_every_metric(quick_report: dict) -> None:
    results = json.loads((quick_report["dir"] / "results.json").read_text())
    runs = {r["name"]: r for r in results["runs"]}
    expected = (
        {f"meta-{a.lower()}-s1" for a in ALGORITHMS}
        | set(SIGNAL_STRATEGIES)
        | set(VOTE_STRATEGIES)
        | {f"{s}-vol-targeted" for s in VOL_TARGETED_STRATEGIES}
        | {
            "StackerStrategy",
            "buy_and_hold",
            "flat",
            "meta-as-deployed",
        }
    )
    assert set(runs) == expected
    for run in results["runs"]:
        assert METRICS <= set(run["metrics"]), run["name"]
        assert run["by_year"] and run["by_regime"], run["name"]
    # every configuration run on this period is in the ledger: the registry's strategies and
    # the votes, their volatility-targeted runs, the stacker, 5 RL algorithms (seeds are one
    # configuration each), the as-deployed run; those that made the same trades (over 30 days,
    # e.g. two that never traded) are one trial
    rules = len(SIGNAL_STRATEGIES) + len(VOTE_STRATEGIES) + len(VOL_TARGETED_STRATEGIES)
    ledger = read_trials(quick_report["dir"].parent)
    assert len(ledger) == rules + 1 + 5 + 1 and all(t.trades for t in ledger)
    assert results["configurations_tried"] == len({t.trades for t in ledger}) <= len(ledger)
    assert results["ledger"]["period"] == "custom"
    assert runs["meta-as-deployed"]["group"] == "deployed"
    assert runs["flat"]["metrics"]["total_return"] == 0.0
    assert runs["VolatilitySystem-vol-targeted"]["group"] == "baseline"
    # the same costs for every run: the fee + slippage Freqtrade charged is the report's
    assert results["settings"]["fee_per_fill_incl_slippage"] == pytest.approx(0.0007)
    assert set(results["winners"]["by_year"]) == {"2025"}
    assert {c["algorithm"] for c in results["configurations"]} == set(ALGORITHMS)
    assert (
        results["configurations"][0]["shipped"]
        and results["configurations"][0]["algorithm"] == "PPO"
    )
    verdict = results["verdict"]
    assert verdict["configuration"] == "Meta PPO (variant)", "quick is not the shipped bot"
    assert {r["baseline"] for r in verdict["against"]} == {
        "best_rule",
        "best_vote",
        "best_vol_targeted",
        "stacker",
        "buy_and_hold",
        "flat",
    }
    assert set(verdict["promotion"]) == {f"meta-{a.lower()}" for a in ALGORITHMS}
    assert results["differences_from_shipped"][0].startswith("quick")
    assert "NOT the shipped bot: quick" in quick_report["second"]
    timings = results["timings_s"]
    # results.json is the second (reusing) run's: a reused backtest costs next to nothing
    names = {
        "rules",
        "rules-vol-targeted",
        "stacker",
        "meta-as-deployed",
        *(f"meta-{a.lower()}-s1" for a in ALGORITHMS),
    }
    assert set(timings["per_run"]) == set(timings["reused"]) == names
    assert timings["total"] >= timings["analysis"] > 0 and timings["runs"] >= 0


def test_equity_matches_freqtrade_final_balance(quick_report: dict) -> None:
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    results = json.loads((quick_report["dir"] / "results.json").read_text())
    runs = {r["name"]: r for r in results["runs"]}
    for run, suffix in (("rules", ""), ("rules-vol-targeted", "-vol-targeted")):
        folder = quick_report["dir"] / "runs" / run
        stats = load_backtest_stats(folder / get_latest_backtest_filename(folder))
        for name, s in stats["strategy"].items():
            freqtrade_return = s["final_balance"] / s["starting_balance"] - 1
            figure = runs[f"{name}{suffix}"]["metrics"]["total_return"]
            assert figure == pytest.approx(freqtrade_return, abs=1e-9)
            assert s["trades"][0]["fee_open"] == pytest.approx(0.0007)


def test_tables_and_reuse(quick_report: dict) -> None:
    with (quick_report["dir"] / "runs.csv").open() as f:
        rows = list(csv.DictReader(f))
    # the registry's strategies, the votes, their volatility-targeted runs, the stacker, 5 RL
    # algorithms, the as-deployed run, buy-and-hold and flat
    rules = len(SIGNAL_STRATEGIES) + len(VOTE_STRATEGIES) + len(VOL_TARGETED_STRATEGIES)
    assert len(rows) == rules + 1 + 5 + 1 + 2 and "btc_multiple" in rows[0]
    for name in ("by_year.csv", "by_regime.csv", "daily_equity.csv"):
        assert (quick_report["dir"] / name).stat().st_size > 0
    reused = re.findall(r"reusing the saved result", quick_report["second"])
    assert len(reused) == 4 + len(ALGORITHMS), quick_report["second"][-3000:]


def test_models_are_recorded_and_listed(quick_report: dict) -> None:
    out = run_bitbot("models", "list", "--registry", str(quick_report["registry"]))
    assert out.returncode == 0, out.stdout
    for algorithm in ALGORITHMS:
        assert algorithm in out.stdout
    assert "MISSING" not in out.stdout and "CORRUPT" not in out.stdout
    assert "Promotion rule:" in out.stdout and "quick / " in out.stdout


def test_html_is_self_contained_and_renders_in_chromium(quick_report: dict) -> None:
    page = quick_report["dir"] / "report.html"
    text = page.read_text()
    assert not re.search(r"<script[^>]+src=", text), "the report must not load scripts"
    assert "Meta PPO seed 1" in text and "Buy-and-hold perp" in text
    assert "mean over 1 seeds" in text and "NOT the shipped bot" in text
    assert "a best-of-N figure" in text
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert dom.returncode == 0, dom.stderr[-3000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, dom.stdout[:2000]
    errors = re.search(r'data-js-errors="(\d+)"', body.group(1))
    charts = re.search(r'data-charts-rendered="(\d+)"', body.group(1))
    assert errors and errors.group(1) == "0", re.search(
        r'<pre id="js-errors">(.*?)</pre>', dom.stdout, re.S
    )
    assert (
        charts and int(charts.group(1)) == 6
    )  # equity, drawdown, position, year, regime, training
    assert dom.stdout.count('class="main-svg"') >= 6, "plotly drew no SVG"
    assert "Uncaught" not in dom.stderr


def test_the_meta_layer_is_compared_with_each_baseline_on_the_same_days(
    quick_report: dict,
) -> None:
    from meta_strategy.research.report.paired import saved_paired_comparisons

    results = json.loads((quick_report["dir"] / "results.json").read_text())
    shipped = results["configurations"][0]
    assert {r["baseline"] for r in shipped["paired"]} == {
        "best_rule",
        "best_vote",
        "best_vol_targeted",
        "stacker",
        "buy_and_hold",
    }
    # how often the seeds hold each baseline's direction, from their hourly positions
    assert all(0.0 <= r["same_direction"] <= 1.0 for r in shipped["paired"]), shipped["paired"]
    against = {r["baseline"]: r for r in results["verdict"]["against"]}
    assert "paired_ci" in against["best_rule"] and "paired_ci" not in against["flat"]
    assert "seeds' average minus it, paired:" in quick_report["second"]
    assert "Minus the strongest baseline" in (quick_report["dir"] / "report.html").read_text()
    # `bitbot paired` on the saved files gives what the report computed (to the table's rounding)
    saved = dict(saved_paired_comparisons(quick_report["dir"]))
    assert [r.difference for r in saved[shipped["label"]]] == pytest.approx(
        [r["difference"] for r in shipped["paired"]], abs=1e-3
    )
    assert [r.same_direction for r in saved[shipped["label"]]] == [
        r["same_direction"] for r in shipped["paired"]
    ]
