"""The sweep table: every meta-learner configuration of a period's saved reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meta_strategy.cli.main import main
from meta_strategy.research.report.plan import shipped_digest
from meta_strategy.research.report.saved import SavedReportError
from meta_strategy.research.report.sweep import format_sweep, sweep_table
from meta_strategy.research.report.trials import Trial, record_trials


def _spread(values: list[float]) -> dict[str, float]:
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if values[1:] else 0.0
    return {"mean": mean, "median": mean, "worst": min(values), "best": max(values), "spread": sd}


def _run(name: str, group: str, label: str, sharpe: float, seed: int | None = None) -> dict:
    metrics = {
        "sharpe": sharpe,
        "sharpe_ci_low": sharpe - 1.0,
        "sharpe_ci_high": sharpe + 1.0,
        "total_return": sharpe / 2,
        "max_drawdown": 0.3,
    }
    return {"name": name, "group": group, "label": label, "seed": seed, "metrics": metrics}


def _write_report(
    root: Path, name: str, period: str, generated: str, overlay: str | None, sharpes: list[float]
) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    differences = [f"the meta-learner with {overlay}"] if overlay else []
    results = {
        "report": name,
        "generated_at": generated,
        "period_name": period,
        "settings": {"overlays": [], "meta_overlays": [f"user_data/overlays/{overlay}"]}
        if overlay
        else {"overlays": [], "meta_overlays": []},
        "differences_from_shipped": differences,
        "shipped_digest": shipped_digest(),
        "configurations": [
            {
                "name": "meta-ppo",
                "label": "Meta PPO (shipped)",
                "algorithm": "PPO",
                "seeds": [42 + i for i in range(len(sharpes))],
                "sharpe": _spread(sharpes),
                "total_return": _spread([s / 2 for s in sharpes]),
                "max_drawdown": _spread([0.5 for _ in sharpes]),
                "pooled": {"sharpe": sum(sharpes), "sharpe_ci_low": -0.9, "sharpe_ci_high": 1.1},
            }
        ],
        "runs": [
            _run("VolatilitySystem", "strategy", "Volatility System", 1.4),
            _run("OTTStrategy", "strategy", "OTT", -0.4),
            _run("FollowTheLeaderStrategy", "baseline", "Follow the leader", 0.76),
            _run("flat", "baseline", "Flat", 0.0),
            _run(
                "meta-as-deployed", "deployed", "Meta PPO seed 42 as deployed", sharpes[0] - 1, 42
            ),
        ],
    }
    if len(sharpes) > 2:  # as deployed for every seed (--as-deployed all), the rules too
        results["runs"] += [
            _run("meta-as-deployed-s43", "deployed", "seed 43 as deployed", sharpes[1] - 1, 43),
            _run("VolatilitySystem-as-deployed", "deployed", "Volatility System as deployed", 1.1),
        ]
    (folder / "results.json").write_text(json.dumps(results))


def test_sweep_lists_each_configuration_of_the_period_with_its_spread(tmp_path: Path) -> None:
    _write_report(tmp_path, "val-a", "validation", "2026-11-30T10:00:00Z", None, [-0.4, -0.6])
    _write_report(
        tmp_path, "val-b", "validation", "2026-11-30T12:00:00Z", "select.json", [0.2, 0.4, 0.6]
    )
    _write_report(tmp_path, "test", "test", "2026-11-30T13:00:00Z", None, [1.0])
    record_trials(
        tmp_path,
        [
            Trial("validation", "20210101-20240101", "c1", "meta-PPO"),
            Trial("validation", "20210101-20240101", "c2", "meta-PPO"),
            Trial("test", "20240101-", "c3", "meta-PPO"),
        ],
    )

    sweep = sweep_table(tmp_path, "validation")

    assert [r.report for r in sweep.rows] == ["val-a", "val-b"]  # oldest first, no test report
    assert sweep.rows[0].variant == "shipped"
    assert sweep.rows[1].variant == "meta: select"
    assert sweep.rows[0].deployed_sharpe == pytest.approx(-1.4), "its first seed, risk on"
    assert sweep.rows[1].deployed_sharpe == pytest.approx(-0.7), "the mean of two seeds"
    assert sweep.rows[1].deployed_seeds == 2
    assert sweep.rows[1].seeds == (42, 43, 44)
    assert sweep.rows[1].sharpe_mean == pytest.approx(0.4)
    assert sweep.rows[1].sharpe_spread == pytest.approx(0.2)
    assert sweep.rows[1].sharpe_worst == pytest.approx(0.2)
    assert [r.configuration for r in sweep.references] == [
        "best strategy: Volatility System",
        "best baseline: Follow the leader",
        "best deployed: Volatility System as deployed",
    ]
    assert sweep.trials == 2
    text = format_sweep(sweep)
    assert "+0.40 ± 0.20" in text and "-0.70 (2)" in text
    assert "the ledger counts 2 configurations" in text


def test_sweep_names_an_unreadable_report(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "results.json").write_text("{not json")
    with pytest.raises(SavedReportError, match=r"broken/results.json: not a readable report"):
        sweep_table(tmp_path, "validation")


def test_bitbot_sweep_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_report(tmp_path, "val-a", "validation", "2026-11-30T10:00:00Z", None, [0.1, 0.3])
    assert main(["sweep", "--reports-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| val-a | Meta PPO | shipped | 42,43 | +0.20 ± 0.14 |" in out
    assert "| 50.0 % | -0.90 (1) |" in out, "the as-deployed column"


def test_sweep_shows_each_configuration_against_its_reports_strongest_baseline(
    tmp_path: Path,
) -> None:
    # a report written with its paired comparisons, and an older one without them nor its
    # daily equity (the column then says "-")
    _write_report(tmp_path, "val-new", "validation", "2026-11-30T10:00:00Z", None, [1.5, 1.6])
    _write_report(tmp_path, "val-old", "validation", "2026-11-29T10:00:00Z", None, [0.1, 0.3])
    path = tmp_path / "val-new" / "results.json"
    results = json.loads(path.read_text())
    pair = {"run": "", "share_not_above": 0.3, "ci_low": -0.3, "ci_high": 0.5}
    results["configurations"][0]["paired"] = [
        {
            **pair,
            "baseline": "best_rule",
            "label": "Volatility System",
            "sharpe": 1.4,
            "difference": 0.12,
            "run": "VolatilitySystem",
        },
        {
            **pair,
            "baseline": "best_vote",
            "label": "Follow the leader",
            "sharpe": 0.76,
            "difference": 0.8,
            "run": "FollowTheLeaderStrategy",
        },
    ]
    path.write_text(json.dumps(results))
    table = format_sweep(sweep_table(tmp_path, "validation"))
    assert "| seeds' average minus the strongest baseline, same days [paired 95 % CI] |" in table
    new = next(line for line in table.splitlines() if line.startswith("| val-new | Meta PPO"))
    assert new.endswith("| +0.12 [-0.30, +0.50] vs Volatility System |")
    old = next(line for line in table.splitlines() if line.startswith("| val-old | Meta PPO"))
    assert old.endswith("| - |")


def test_a_report_on_another_shipped_config_says_which(tmp_path: Path) -> None:
    _write_report(tmp_path, "val-a", "validation", "2026-12-01T10:00:00Z", None, [0.1, 0.3])
    _write_report(tmp_path, "val-b", "validation", "2026-12-02T10:00:00Z", "select.json", [0.5])
    _write_report(tmp_path, "val-c", "validation", "2026-12-03T10:00:00Z", None, [0.2])
    for name, digest in (("val-a", "0123456789abcdef"), ("val-b", None)):
        path = tmp_path / name / "results.json"
        results = json.loads(path.read_text())
        if digest is None:  # written before reports recorded it
            del results["shipped_digest"]
        else:
            results["shipped_digest"] = digest
        path.write_text(json.dumps(results))

    variants = [row.variant for row in sweep_table(tmp_path, "validation").rows]

    assert variants == [
        "shipped (on the shipped config of 2026-12-01, since changed)",
        "meta: select (on the shipped config of 2026-12-02)",
        "shipped",
    ]
    other = tmp_path / "config.freqai.json"
    other.write_text("{}")
    assert sweep_table(tmp_path, "validation", other).rows[2].variant == (
        "shipped (on the shipped config of 2026-12-03, since changed)"
    )
