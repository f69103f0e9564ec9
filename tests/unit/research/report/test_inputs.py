"""What besides configs and data decides a run (meta_strategy.research.report.inputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meta_strategy.research.report.inputs import changed_inputs, registry_files, run_inputs
from meta_strategy.research.report.plan import ReportSettings, build_plan
from tests.helpers.freqtrade import REPO


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository in miniature: strategies, a model class, the registry, library code."""
    for name, text in {
        "user_data/strategies/BbandRsi.py": "class BbandRsi: buy_rsi = 35\n",
        "user_data/strategies/MetaStrategy.py": "class MetaStrategy: ...\n",
        "user_data/freqaimodels/MetaPPO.py": "class MetaPPO: ...\n",
        "user_data/strategies_registry.json": '{"strategies": []}\n',
        "meta_strategy/rl/env.py": "LEVELS = (-1, 0, 1)\n",
        "meta_strategy/signals/indicators.py": "def atr(): ...\n",
        "meta_strategy/paths.py": "FEE = 0.0005\n",
        "meta_strategy/research/report/html.py": "STYLE = ''\n",
        "meta_strategy/cli/main.py": "def main(): ...\n",
        "hyperopts/CalmarDrawdownLoss.py": "class CalmarDrawdownLoss: ...\n",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("changed", "text"),
    [
        ("user_data/strategies/BbandRsi.py", "class BbandRsi: buy_rsi = 30\n"),  # a default
        ("user_data/strategies/BbandRsi.json", '{"params": {"buy": {"buy_rsi": 28}}}'),  # tuned
        ("user_data/freqaimodels/MetaPPO.py", "class MetaPPO: n = 2\n"),  # the model class
        ("user_data/strategies_registry.json", '{"strategies": [1]}\n'),  # the registry
        ("meta_strategy/rl/env.py", "LEVELS = (-1, -0.5, 0, 0.5, 1)\n"),  # the environment
        ("meta_strategy/signals/indicators.py", "def atr(): return 1\n"),
        ("meta_strategy/paths.py", "FEE = 0.0004\n"),
    ],
)
def test_every_input_that_decides_a_result_is_seen(root: Path, changed: str, text: str) -> None:
    before = run_inputs(root)
    (root / changed).write_text(text)
    after = run_inputs(root)
    assert after != before
    assert changed_inputs(before, after) in ([changed], [f"+{changed}"])


def test_code_outside_a_backtest_is_not_an_input(root: Path) -> None:
    before = run_inputs(root)
    for name in (
        "meta_strategy/research/report/html.py",
        "meta_strategy/cli/main.py",
        "hyperopts/CalmarDrawdownLoss.py",
    ):
        (root / name).write_text("# edited\n")
    assert run_inputs(root) == before


def test_library_versions_are_inputs(root: Path) -> None:
    inputs = run_inputs(root)
    for distribution in ("freqtrade", "stable-baselines3", "torch", "lightgbm"):
        assert inputs[f"version:{distribution}"] not in ("", "absent")
    assert inputs["version:freqtrade"] == "2026.9"


def test_a_registry_named_in_a_config_is_an_input(root: Path, tmp_path: Path) -> None:
    config = tmp_path / "overlay.json"
    config.write_text(json.dumps({"bitbot": {"registry": "user_data/other_registry.json"}}))
    registries = registry_files([config])
    assert [str(r) for r in registries] == [
        "user_data/strategies_registry.json",
        "user_data/other_registry.json",
    ]
    assert run_inputs(root, registries)["user_data/other_registry.json"] == "absent"
    (root / "user_data/other_registry.json").write_text("{}")
    assert run_inputs(root, registries)["user_data/other_registry.json"] != "absent"


def test_changed_inputs_names_additions_and_removals() -> None:
    before = {"a.py": "1", "b.py": "2", "version:torch": "2.13.0"}
    after = {"a.py": "1", "b.py": "3", "c.json": "4", "version:torch": "2.14.0"}
    assert changed_inputs(before, after) == ["b.py", "version:torch", "+c.json"]
    assert changed_inputs(after, before) == ["b.py", "version:torch", "-c.json"]


def test_the_repository_inputs_cover_every_strategy_and_backtest_module() -> None:
    inputs = run_inputs(REPO)
    for strategy in ("BbandRsi", "MetaStrategy", "VolatilitySystem", "VoteStrategy"):
        assert f"user_data/strategies/{strategy}.py" in inputs
    assert "user_data/freqaimodels/MetaPPO.py" in inputs
    assert "meta_strategy/rl/env.py" in inputs and "meta_strategy/trading/exposure.py" in inputs
    assert not any(
        name.startswith(("meta_strategy/cli", "meta_strategy/research")) for name in inputs
    )
    settings = ReportSettings(timerange="20240101-20240401")
    run = build_plan(settings, ("user_data/config.json",))[0]
    edited = {**inputs, "user_data/strategies/BbandRsi.py": "edited"}
    assert run.key(settings, "d", edited) != run.key(settings, "d", inputs)


def test_a_saved_run_is_reused_until_an_input_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_one reuses a saved run with the same inputs, and runs it again (saying what
    changed) when a strategy's source changes; Freqtrade itself is stubbed out."""
    from meta_strategy.research.report import runs

    ran: list[str] = []

    def fake_backtest(spec: Any, argv: list[str], folder: Path, log: Any) -> tuple[Path, float]:
        ran.append(spec.name)
        result = folder / f"backtest-result-{len(ran)}.meta.json"
        result.write_text("{}")
        (folder / ".last_result.json").write_text(json.dumps({"latest_backtest": result.name}))
        return result, 1.0

    inputs = {"user_data/strategies/BbandRsi.py": "aaaa", "version:freqtrade": "2026.9"}
    monkeypatch.setattr(runs, "_run_backtest", fake_backtest)
    monkeypatch.setattr(runs, "run_inputs", lambda registries: dict(inputs))
    settings = ReportSettings(timerange="20240101-20240401")
    spec = build_plan(settings, ("user_data/config.json",))[0]
    logged: list[str] = []

    def run() -> runs.RunResult:
        return runs.run_one(
            spec, settings, tmp_path / "data", "BTC/USD:USD", tmp_path, log=logged.append
        )

    assert not run().reused and ran == ["rules"]
    saved = json.loads((tmp_path / "runs" / "rules" / "run.json").read_text())
    assert saved["inputs"] == inputs
    assert run().reused and ran == ["rules"]
    inputs["user_data/strategies/BbandRsi.py"] = "bbbb"
    assert not run().reused and ran == ["rules", "rules"]
    assert "  rules: running again: changed user_data/strategies/BbandRsi.py" in logged
