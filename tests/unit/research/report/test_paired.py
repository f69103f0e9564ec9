"""Paired comparisons: the meta layer against each baseline on the same days, live and saved."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.research.metrics import sharpe_difference, sharpe_ratio
from meta_strategy.research.report.analysis import DAYS, RunFigures
from meta_strategy.research.report.paired import (
    PairedError,
    baseline_runs,
    daily_returns_of,
    format_paired,
    paired_comparisons,
    position_direction,
    same_direction,
    saved_paired_comparisons,
)
from meta_strategy.research.report.saved import SavedReportError
from meta_strategy.research.report.verdict import judge, summary_lines


DAYS_IN_TEST = 500


def _market() -> dict[str, pd.Series]:
    """Daily returns: two seeds that follow the Volatility System with a small steady edge."""
    rng = np.random.default_rng(2)
    index = pd.date_range("2021-01-01", periods=DAYS_IN_TEST, freq="1D")
    market = rng.normal(0.002, 0.03, DAYS_IN_TEST)
    vs = 0.8 * market + rng.normal(0.001, 0.01, DAYS_IN_TEST)
    series = {
        "meta-ppo-s42": vs + 0.001 + rng.normal(0, 0.002, DAYS_IN_TEST),
        "meta-ppo-s43": vs + 0.001 + rng.normal(0, 0.002, DAYS_IN_TEST),
        "VolatilitySystem": vs,
        "OTTStrategy": rng.normal(-0.001, 0.02, DAYS_IN_TEST),
        "EqualVoteStrategy": rng.normal(-0.0005, 0.02, DAYS_IN_TEST),
        "VolatilitySystem-vol-targeted": 0.5 * vs,
        "buy_and_hold": market,
        "flat": np.zeros(DAYS_IN_TEST),
    }
    return {name: pd.Series(values, index=index) for name, values in series.items()}


def _figures(returns: dict[str, pd.Series]) -> list[RunFigures]:
    groups = {"meta-ppo-s42": "meta", "meta-ppo-s43": "meta", "VolatilitySystem": "strategy"}
    groups |= {"OTTStrategy": "strategy"}
    return [
        RunFigures(
            name=name,
            group=groups.get(name, "baseline"),
            label=name,
            algorithm="PPO" if name.startswith("meta") else None,
            seed=int(name[-2:]) if name.startswith("meta") else None,
            metrics={
                "sharpe": sharpe_ratio(r.to_numpy(), DAYS),
                "total_return": 0.1,
                "max_drawdown": 0.2,
                "sharpe_ci_low": -1.0,
                "sharpe_ci_high": 1.0,
                "trades": 10,
                "btc_multiple": 1.0,
            },
        )
        for name, r in returns.items()
    ]


def test_baselines_are_the_best_of_each_kind() -> None:
    returns = _market()
    found = baseline_runs(_figures(returns))
    assert found["best_rule"].name == "VolatilitySystem", "the VS beats OTT"
    assert found["best_vote"].name == "EqualVoteStrategy"
    assert found["best_vol_targeted"].name == "VolatilitySystem-vol-targeted"
    assert found["buy_and_hold"].name == "buy_and_hold" and found["flat"].name == "flat"
    assert "stacker" not in found, "no stacker ran"


def test_the_seeds_average_is_compared_on_the_same_days() -> None:
    returns = _market()
    pooled = (returns["meta-ppo-s42"] + returns["meta-ppo-s43"]) / 2
    rows = paired_comparisons(pooled, baseline_runs(_figures(returns)), returns)
    by_key = {r.baseline: r for r in rows}
    assert "flat" not in by_key, "against flat the difference is the Sharpe itself"
    vs = by_key["best_rule"]
    expected = sharpe_difference(
        pooled.to_numpy(), returns["VolatilitySystem"].to_numpy(), DAYS, block=5, samples=2000
    )
    assert (vs.difference, vs.ci_low, vs.ci_high) == pytest.approx(
        (expected.difference, expected.ci_low, expected.ci_high)
    )
    assert vs.ci_low > 0, "a steady edge over the base shows in the paired interval"
    assert "against VolatilitySystem" in vs.describe()
    # a baseline with fewer days is compared on the days both have
    short = {**returns, "buy_and_hold": returns["buy_and_hold"].iloc[100:]}
    hold = {
        r.baseline: r for r in paired_comparisons(pooled, baseline_runs(_figures(returns)), short)
    }
    assert hold["buy_and_hold"].difference == pytest.approx(
        sharpe_ratio(pooled.iloc[100:].to_numpy(), DAYS)
        - sharpe_ratio(returns["buy_and_hold"].iloc[100:].to_numpy(), DAYS)
    )


def _judged(
    figures: list[RunFigures],
    returns: dict[str, pd.Series],
    directions: dict[str, pd.Series] | None = None,
):
    """:return: the report's judgement of the runs, over the validation period"""
    keys = {f.name: "key" for f in figures}
    return judge(figures, returns, keys, "PPO", 5, 1e-4, "validation", directions=directions)


def test_the_verdict_shows_the_paired_difference_beside_each_baseline() -> None:
    returns = _market()
    figures = _figures(returns)
    judgement = _judged(figures, returns)
    shipped = judgement.configurations[0]
    assert {row["baseline"] for row in shipped.paired} == {
        "best_rule",
        "best_vote",
        "best_vol_targeted",
        "buy_and_hold",
    }
    against = {row["baseline"]: row for row in judgement.verdict["against"]}
    assert against["best_rule"]["paired_ci"][0] > 0
    assert "paired_ci" not in against["flat"]
    text = "\n".join(summary_lines(figures, judgement, []))
    assert "beats VolatilitySystem" in text and "seeds' average minus it, paired: +" in text


def _save(folder: Path, returns: dict[str, pd.Series], paired: list[dict] | None = None) -> None:
    folder.mkdir(parents=True)
    figures = _figures(returns)
    runs = [
        {
            "name": f.name,
            "group": f.group,
            "label": f.label,
            "algorithm": f.algorithm,
            "seed": f.seed,
            "metrics": f.metrics,
        }
        for f in figures
    ]
    configurations = [
        {
            "label": "Meta PPO (shipped)",
            "algorithm": "PPO",
            "runs": ["meta-ppo-s42", "meta-ppo-s43"],
            "paired": paired or [],
        }
    ]
    (folder / "results.json").write_text(
        json.dumps({"runs": runs, "configurations": configurations})
    )
    frame = pd.DataFrame(returns)
    equity = pd.concat(
        [
            pd.DataFrame(1.0, index=[frame.index[0] - pd.Timedelta(days=1)], columns=frame.columns),
            (1 + frame).cumprod(),
        ]
    )
    equity.index.name = "date"
    equity.to_csv(folder / "daily_equity.csv")


def test_a_saved_report_gives_the_same_comparisons(tmp_path: Path) -> None:
    returns = _market()
    folder = tmp_path / "val-x"
    _save(folder, returns)
    saved = saved_paired_comparisons(folder)
    assert [label for label, _ in saved] == ["Meta PPO (shipped)"]
    pooled = (returns["meta-ppo-s42"] + returns["meta-ppo-s43"]) / 2
    live = paired_comparisons(pooled, baseline_runs(_figures(returns)), returns)
    assert [r.difference for r in saved[0][1]] == pytest.approx([r.difference for r in live])
    text = format_paired(folder, saved)
    assert text.startswith("val-x:") and "above" in text


def test_daily_returns_stop_at_a_wiped_out_account() -> None:
    equity = pd.DataFrame({"x": [1.0, 0.5, 0.0, 0.0]})
    assert list(daily_returns_of(equity)["x"]) == [-0.5, -1.0, 0.0]


def test_a_saved_report_that_is_missing_or_corrupt_is_named(tmp_path: Path) -> None:
    with pytest.raises(SavedReportError, match=r"results\.json: not a readable report result"):
        saved_paired_comparisons(tmp_path / "nope")
    returns = _market()
    folder = tmp_path / "val-x"
    _save(folder, returns)
    equity = pd.read_csv(folder / "daily_equity.csv", index_col="date")
    equity.drop(columns=["OTTStrategy"]).to_csv(folder / "daily_equity.csv")
    with pytest.raises(
        PairedError, match=r"daily_equity.csv: no column for the runs \['OTTStrategy'\]"
    ):
        saved_paired_comparisons(folder)
    equity.iloc[3, 0] = -1.0
    equity.to_csv(folder / "daily_equity.csv")
    with pytest.raises(PairedError, match="empty or negative equity"):
        saved_paired_comparisons(folder)
    (folder / "results.json").write_text("{}")
    with pytest.raises(SavedReportError, match="no 'runs'"):
        saved_paired_comparisons(folder)


def test_bitbot_paired_prints_each_report_and_names_a_missing_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meta_strategy.cli.main import main

    _save(tmp_path / "val-x", _market())
    assert main(["paired", "--reports-dir", str(tmp_path), "val-x"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("val-x: each configuration's seeds' average minus each baseline's")
    assert "Meta PPO (shipped)\n  above" in out
    assert main(["paired", "--reports-dir", str(tmp_path), "val-x", "val-missing"]) == 2
    captured = capsys.readouterr()
    assert "val-x:" in captured.out
    assert "bitbot paired:" in captured.err and "val-missing/results.json" in captured.err
    folder = str(tmp_path / "val-x")
    assert main(["paired", "--reports-dir", str(tmp_path / "elsewhere"), folder]) == 0, (
        "a report's folder is read where it is"
    )
    assert capsys.readouterr().out.startswith("val-x: each configuration's")


def test_the_share_of_hours_in_each_baselines_direction() -> None:
    hours = pd.date_range("2022-01-01", periods=10, freq="1h", tz="UTC")
    position = pd.Series([0.0, 0.5, 0.5, 1e-12, -0.2, -0.2, 0.0, 0.3, 0.3, 0.3], index=hours)
    direction = position_direction(position)
    assert direction.tolist() == [0, 1, 1, 0, -1, -1, 0, 1, 1, 1], (
        "rounding left by a close is flat"
    )
    base = pd.Series([0, 1, 1, 1, -1, 1, 0, 1, 1, 1], index=hours, dtype=float)
    other = pd.Series(1.0, index=hours[:5])  # a shorter run: the hours both have
    directions = {"s42": direction, "s43": base, "VolatilitySystem": base, "short": other}
    assert same_direction(directions, ["s42"], "VolatilitySystem") == pytest.approx(0.8)
    assert same_direction(directions, ["s42", "s43"], "VolatilitySystem") == pytest.approx(0.9)
    assert same_direction(directions, ["s42"], "short") == pytest.approx(0.4)


def test_each_comparison_says_how_often_the_configuration_holds_the_baselines_direction(
    tmp_path: Path,
) -> None:
    returns = _market()
    figures = _figures(returns)
    days = returns["VolatilitySystem"].index
    hours = pd.date_range(days[0], days[-1], freq="1h")
    base = pd.Series(np.where(np.arange(len(hours)) % 10 < 6, 1.0, -1.0), index=hours)
    copy = base.where(np.arange(len(hours)) % 50 != 0, 0.0)  # flat 2 % of the hours
    directions = {f.name: pd.Series(0.0, index=hours) for f in figures}
    directions.update({"VolatilitySystem": base, "meta-ppo-s42": copy, "meta-ppo-s43": base})
    judgement = _judged(figures, returns, directions)
    rows = {row["baseline"]: row for row in judgement.configurations[0].paired}
    flat_share = float(np.mean(np.arange(len(hours)) % 50 == 0))
    expected = 1 - flat_share / 2  # the mean of s42 (flat where the rule holds) and s43 (equal)
    assert rows["best_rule"]["same_direction"] == pytest.approx(expected)
    text = "\n".join(summary_lines(figures, judgement, []))
    assert f"in its direction {expected:.1%} of the hours" in text
    # without positions (an older report) the share is unknown, not 0
    plain = _judged(figures, returns)
    assert plain.configurations[0].paired[0]["same_direction"] is None
    # a saved report shows what the report computed, and says it
    folder = tmp_path / "val-x"
    _save(folder, returns, paired=judgement.configurations[0].paired)
    saved = dict(saved_paired_comparisons(folder))["Meta PPO (shipped)"]
    assert {r.baseline: r.same_direction for r in saved}["best_rule"] == pytest.approx(expected)
    assert "in its direction 99.0% of the hours" in format_paired(folder, [("Meta", saved)])
