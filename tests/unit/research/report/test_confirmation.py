"""The fresh period's confirmation plan: what it runs, once each, and what it refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from meta_strategy.cli.main import main
from meta_strategy.paths import REPORT_RESULTS
from meta_strategy.research.report.confirmation import (
    CONFIRMATION_PLAN,
    ConfirmationPlanError,
    floors_of,
    format_floors,
    load_confirmation_plan,
    long_enough,
    run_confirmation,
)
from meta_strategy.research.report.plan import (
    ReportSettings,
    ReportSettingsError,
)


README = Path("README.md")
SIZING = "user_data/overlays/sizing-vol30.json"
CLOCK = "user_data/overlays/clock24-daily.json"


def _plan_file(tmp_path: Path, **changes: object) -> Path:
    raw = {
        "period": "fresh",
        "fixed": "2026-12-01",
        "seeds": [42, 43],
        "as_deployed": "all",
        "designs": [
            {"name": "one", "overlays": [SIZING], "meta_overlays": [], "why": "a"},
            {"name": "two", "overlays": [], "meta_overlays": [CLOCK], "why": "b"},
        ],
        **changes,
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(raw))
    return path


def test_the_shipped_plan_is_the_readmes_five_designs() -> None:
    plan = load_confirmation_plan(CONFIRMATION_PLAN)
    assert plan.period == "fresh" and plan.seeds == (42, 43, 44) and plan.as_deployed == "all"
    section = README.read_text().split("### What the fresh period will confirm")[1]
    section = section.split("\n## ")[0]
    written = re.findall(r"--name\s+(fresh-[\w-]+)", section)
    assert [d.name for d in plan.designs] == written, "the plan and the README list the same"
    for design in plan.designs:
        settings = plan.settings_of(design)
        assert settings.period == "fresh" and settings.deployed_all_seeds
        assert settings.overlays == design.overlays
        assert settings.meta_overlays == design.meta_overlays
        for path in (*design.overlays, *design.meta_overlays):
            assert path.removeprefix("user_data/overlays/").removesuffix(".json") in section


def test_a_design_runs_as_the_report_command_it_shows(tmp_path: Path) -> None:
    plan = load_confirmation_plan(_plan_file(tmp_path))
    assert plan.command_of(plan.designs[0], jobs=2) == (
        "bitbot report --period fresh --seeds 42 43 --jobs 2 --as-deployed all "
        f"--overlay {SIZING} --name one"
    )
    assert plan.settings_of(plan.designs[1]) == ReportSettings(
        **{
            **ReportSettings.for_period("fresh").__dict__,
            "name": "two",
            "seeds": (42, 43),
            "meta_overlays": (CLOCK,),
            "deployed_all_seeds": True,
        }
    )


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"period": "validation"}, "period: expected one of ['test', 'fresh']"),
        ({"seeds": [42, "43"]}, "seeds: expected a list of whole numbers"),
        ({"as_deployed": "every"}, "as_deployed: expected 'first' or 'all'"),
        ({"designs": []}, "designs: expected a non-empty list"),
        ({"extra": 1}, "expected an object with the keys"),
        (
            {
                "designs": [
                    {
                        "name": "x",
                        "overlays": ["user_data/overlays/nope.json"],
                        "meta_overlays": [],
                        "why": "",
                    }
                ]
            },
            "designs[0].overlays: no file user_data/overlays/nope.json",
        ),
        (
            {"designs": [{"name": "x", "overlays": [], "meta_overlays": [], "why": "", "seed": 1}]},
            "designs[0]: expected the keys",
        ),
        (
            {"designs": [{"name": "x", "overlays": [], "meta_overlays": [], "why": ""}] * 2},
            "a name is listed twice",
        ),
    ],
)
def test_a_bad_plan_names_the_file_and_the_key(tmp_path: Path, changes: dict, said: str) -> None:
    path = _plan_file(tmp_path, **changes)
    with pytest.raises(ConfirmationPlanError) as e:
        load_confirmation_plan(path)
    assert str(e.value).startswith(f"{path}: ") and said in str(e.value)


def test_a_missing_or_broken_plan_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfirmationPlanError, match=r"gone\.json: not a readable JSON file"):
        load_confirmation_plan(tmp_path / "gone.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfirmationPlanError, match=r"bad\.json: not a readable JSON file"):
        load_confirmation_plan(tmp_path / "bad.json")


def test_each_design_runs_once_in_order_and_a_written_report_stands(tmp_path: Path) -> None:
    plan = load_confirmation_plan(_plan_file(tmp_path))
    reports = tmp_path / "reports"
    built: list[str] = []
    said: list[str] = []
    assert run_confirmation(plan, reports, lambda s: built.append(s.name), log=said.append) == [
        "one",
        "two",
    ]
    assert built == ["one", "two"]
    (reports / "one").mkdir(parents=True)
    (reports / "one" / REPORT_RESULTS).write_text("{}")
    built.clear()
    assert run_confirmation(plan, reports, lambda s: built.append(s.name), log=said.append) == [
        "two"
    ]
    assert built == ["two"]
    assert any("one: already run (its report stands; not run again)" in line for line in said)
    built.clear()
    assert run_confirmation(plan, reports, built.append, dry_run=True, log=said.append) == ["two"]
    assert built == [], "a dry run runs nothing"


def test_a_design_that_cannot_run_stops_the_plan_before_any_backtest(tmp_path: Path) -> None:
    bad = tmp_path / "sets-the-window.json"
    bad.write_text(json.dumps({"freqai": {"train_period_days": 365}}))
    design = {"name": "late", "overlays": [str(bad)], "meta_overlays": [], "why": ""}
    plan_file = _plan_file(tmp_path)
    raw = json.loads(plan_file.read_text())
    plan_file.write_text(json.dumps({**raw, "designs": [*raw["designs"], design]}))
    built: list[str] = []
    with pytest.raises(ReportSettingsError, match="--train-days"):
        run_confirmation(
            load_confirmation_plan(plan_file),
            tmp_path,
            lambda s: built.append(s.name),
            log=lambda _: None,
        )
    assert built == [], "the first designs did not run either"


def test_the_fresh_period_waits_for_180_days_of_candles() -> None:
    with pytest.raises(ReportSettingsError, match=r"has 179 days of candles \(2025-11-17 to "):
        long_enough("fresh", "20251117-20260515")
    assert long_enough("fresh", "20251117-20260516") == "20251117-20260516"  # 180 days
    assert long_enough("test", "20240101-20240110") == "20240101-20240110"  # no minimum
    assert long_enough("custom", "20251117-20251120") == "20251117-20251120"


def test_bitbot_confirm_says_what_runs_and_refuses_a_bad_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = str(tmp_path / "reports")
    assert main(["confirm", "--dry-run", "--reports-dir", reports]) == 0
    out = capsys.readouterr().out
    assert "5 designs fixed on 2026-12-01 for the fresh period" in out
    assert "--overlay user_data/overlays/sizing-vol30.json --name fresh-shipped-2" in out
    assert main(["confirm", "--plan", str(tmp_path / "none.json"), "--reports-dir", reports]) == 2
    assert "bitbot: confirm: " in capsys.readouterr().err


def _results(
    mean: float = 1.6,
    worst: float = 1.5,
    low: float = 0.2,
    drawdown: float = 0.2,
    beaten: bool = True,
    refused: tuple[str, ...] = (),
    btc: float = 2.0,
) -> dict:
    runs = [
        {"name": "meta-ppo-s42", "group": "meta", "label": "s42", "metrics": {"btc_multiple": btc}},
        {"name": "meta-ppo-s43", "group": "meta", "label": "s43", "metrics": {"btc_multiple": 1.8}},
        {
            "name": "VolatilitySystem",
            "group": "strategy",
            "label": "Volatility System",
            "metrics": {"btc_multiple": 1.85},
        },
        {"name": "flat", "group": "baseline", "label": "Flat", "metrics": {"btc_multiple": 0.7}},
        {
            "name": "meta-as-deployed",
            "group": "deployed",
            "label": "as deployed",
            "metrics": {"btc_multiple": 9.0},
        },
    ]
    return {
        "runs": runs,
        "verdict": {
            "sharpe": {"mean": mean, "worst": worst},
            "pooled": {"sharpe_ci_low": low},
            "against": [
                {"label": "Volatility System", "beaten": beaten},
                {"label": "Flat", "beaten": True},
            ],
            "promotion": {"meta-ppo": list(refused)},
        },
        "configurations": [
            {
                "name": "meta-ppo",
                "runs": ["meta-ppo-s42", "meta-ppo-s43"],
                "max_drawdown": {"mean": drawdown},
            }
        ],
    }


def test_issue_14s_floors_are_judged_on_a_designs_report() -> None:
    assert all(ok for _, ok in floors_of(_results()))
    missed = {
        "beaten": (_results(beaten=False), 0, "(not: Volatility System)"),
        "interval": (_results(low=-0.1), 1, "from -0.10"),
        "drawdown": (_results(drawdown=0.251), 2, "25.1% at most 25%"),
        "worst seed": (_results(worst=1.29), 3, "worst seed 1.29 within 0.3"),
        "btc": (  # the seeds' mean, not the best seed; an as-deployed run is no baseline
            _results(btc=1.9),
            4,
            "BTC multiple 1.85 (mean over seeds) above the best baseline's (Volatility "
            "System, 1.85)",
        ),
        "rule": (_results(refused=("deflated Sharpe 0.03 is below 0.5",)), 5, "deflated"),
    }
    for case, (results, index, said) in missed.items():
        floors = floors_of(results)
        assert [ok for _, ok in floors].count(False) == 1, case
        text, ok = floors[index]
        assert not ok and said in text, (case, text)
    assert floors_of(_results(drawdown=0.25))[2][1], "at most 25 % holds at 25 %"


def test_the_floors_of_every_design_run_so_far(tmp_path: Path) -> None:
    plan = load_confirmation_plan(_plan_file(tmp_path))
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / REPORT_RESULTS).write_text(json.dumps(_results(drawdown=0.3)))
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / REPORT_RESULTS).write_text("{")
    text = format_floors(plan, tmp_path)
    assert "one: 5 of 6 floors hold" in text and "misses  mean max drawdown 30.0%" in text
    assert f"two: {tmp_path / 'two' / REPORT_RESULTS}: not a readable report result" in text
    (tmp_path / "two" / REPORT_RESULTS).write_text(json.dumps({"runs": []}))
    assert "two: " in format_floors(plan, tmp_path) and "no 'verdict'" in format_floors(
        plan, tmp_path
    )
    (tmp_path / "two" / REPORT_RESULTS).unlink()
    assert "two: not run yet" in format_floors(plan, tmp_path)
