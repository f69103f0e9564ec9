"""The report's plan: algorithm presets, runs, keys and settings checks."""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import replace
from pathlib import Path

import pytest

from meta_strategy.paths import FREQAI_OVERLAY
from meta_strategy.research.report.plan import (
    SIGNAL_STRATEGIES,
    VOL_TARGET,
    VOL_TARGETED,
    VOTE_STRATEGIES,
    ReportSettings,
    ReportSettingsError,
    build_plan,
)
from meta_strategy.rl.algorithms import ALGORITHMS, UnknownAlgorithmError, algorithm_overlay
from meta_strategy.trading.sizing import VolatilityTarget


BASE = ("user_data/config.json", "user_data/config.binance.json")
INPUTS = {"user_data/strategies/BbandRsi.py": "0123456789abcdef", "version:freqtrade": "2026.9"}


def _algorithm_class(name: str) -> type:
    package = "stable_baselines3" if name in ("PPO", "A2C", "DQN") else "sb3_contrib"
    return getattr(importlib.import_module(package), name)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_preset_fits_its_algorithm(algorithm: str) -> None:
    overlay = algorithm_overlay(algorithm, seed=7)
    params = overlay["freqai"]["model_training_parameters"]
    accepted = inspect.signature(_algorithm_class(algorithm).__init__).parameters
    assert set(params) <= set(accepted), set(params) - set(accepted)
    rl = overlay["freqai"]["rl_config"]
    assert rl["model_type"] == algorithm and rl["seed"] == 7
    assert rl["policy_type"] == ("MlpLstmPolicy" if algorithm == "RecurrentPPO" else "MlpPolicy")


def test_unknown_algorithm_is_named() -> None:
    with pytest.raises(UnknownAlgorithmError, match="TD3"):
        algorithm_overlay("TD3", 1)
    with pytest.raises(ReportSettingsError, match="TD3"):
        ReportSettings(algorithms=("PPO", "TD3"))


@pytest.mark.parametrize("bad", [{"seeds": ()}, {"train_cycles": 0}, {"backtest_period_days": 0}])
def test_bad_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ReportSettingsError):
        ReportSettings(**bad)


def test_plan_covers_every_algorithm_seed_and_baseline() -> None:
    settings = ReportSettings(timerange="20240101-20240401", algorithms=ALGORITHMS)
    plan = build_plan(settings, BASE)
    rl = [r for r in plan if r.kind == "rl" and r.models_of is None]
    assert len(rl) == len(ALGORITHMS) * 3
    assert {(r.algorithm, r.seed) for r in rl} == {(a, s) for a in ALGORITHMS for s in (42, 43, 44)}
    rules = next(r for r in plan if r.kind == "rules")
    assert rules.strategies == SIGNAL_STRATEGIES + VOTE_STRATEGIES
    stacker = next(r for r in plan if r.kind == "stacker")
    for run in [stacker, *rl]:
        freqai = run.overlay["freqai"]
        assert freqai["backtest_period_days"] == 30 and freqai["train_period_days"] == 180
        assert freqai["save_backtest_models"] is True
    # every run shares the exchange configs (costs, leverage, pair)
    assert all(r.configs[: len(BASE)] == BASE for r in plan)


def test_fewer_seeds_for_the_algorithms_after_the_shipped_one() -> None:
    settings = ReportSettings(algorithms=("PPO", "A2C", "DQN"), extra_seeds=(42,))
    rl = [r for r in build_plan(settings, BASE) if r.kind == "rl" and r.models_of is None]
    assert [(r.algorithm, r.seed) for r in rl] == [
        ("PPO", 42),
        ("PPO", 43),
        ("PPO", 44),
        ("A2C", 42),
        ("DQN", 42),
    ]


def test_the_default_report_is_the_shipped_bot() -> None:
    """Windows, cycles, network, algorithm and training parameters of config.freqai.json."""
    shipped = json.loads(Path(FREQAI_OVERLAY).read_text())["freqai"]
    settings = ReportSettings.for_period("validation")
    assert settings == ReportSettings(), "the dataclass defaults are the shipped settings"
    assert settings.differences_from_shipped() == []
    assert settings.timerange == "20210101-20240101" and settings.period == "validation"
    assert ReportSettings.for_period("test").timerange == "20240101-20251117"
    seed = shipped["rl_config"]["seed"]
    assert settings.seeds == (seed, seed + 1, seed + 2)
    run = next(r for r in build_plan(settings, BASE) if r.kind == "rl")
    freqai = run.overlay["freqai"]
    assert "model_training_parameters" not in freqai, "the shipped parameters, not a preset"
    assert freqai["rl_config"]["train_cycles"] == shipped["rl_config"]["train_cycles"]
    assert freqai["rl_config"]["net_arch"] == shipped["rl_config"]["net_arch"]
    assert freqai["train_period_days"] == shipped["train_period_days"]
    assert freqai["backtest_period_days"] == shipped["backtest_period_days"]
    # dry-run and live retrain on the walk-forward's schedule, and models expire after it
    assert shipped["live_retrain_hours"] == 24 * shipped["backtest_period_days"]
    assert shipped["live_retrain_hours"] < shipped["expiration_hours"]


def test_quick_and_other_settings_say_how_they_differ_from_the_shipped_bot() -> None:
    quick = ReportSettings.quick_settings("20251017-20251116")
    differences = quick.differences_from_shipped()
    assert differences[0].startswith("quick")
    assert any("train_cycles 1 (shipped: 10)" in d for d in differences)


def test_the_meta_learner_is_the_shipped_one_only_when_nothing_of_its_runs_differs(
    tmp_path: Path,
) -> None:
    overlay = tmp_path / "o.json"
    overlay.write_text(json.dumps({"bitbot": {"sizing": {"target_volatility": 0.3}}}))
    validation = ReportSettings.for_period("validation")
    assert validation.meta_is_shipped()
    # the as-deployed runs' own overlay leaves the research runs alone
    assert replace(validation, deployed_overlays=(str(overlay),)).meta_is_shipped()
    # a shared overlay (every run sized alike), a meta overlay or a longer window changes them
    assert not replace(validation, overlays=(str(overlay),)).meta_is_shipped()
    assert not replace(validation, meta_overlays=(str(overlay),)).meta_is_shipped()
    assert not replace(validation, train_period_days=365).meta_is_shipped()
    assert not ReportSettings.quick_settings("20251017-20251116").meta_is_shipped()


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(ReportSettingsError, match="unknown period 'tset'"):
        ReportSettings.for_period("tset")


def test_the_as_deployed_run_trades_the_shipped_models_with_risk_on() -> None:
    plan = build_plan(ReportSettings(), BASE)
    deployed = next(r for r in plan if r.models_of is not None)
    shipped = next(r for r in plan if r.name == deployed.models_of)
    assert (shipped.algorithm, shipped.seed) == ("PPO", 42)
    assert deployed.overlay["bitbot"]["risk"]["apply_in_backtests"] is True
    assert deployed.configs == shipped.configs


def test_as_deployed_for_every_seed_and_the_rules_with_a_deployed_overlay(
    tmp_path: Path,
) -> None:
    """A risk setting tried as deployed trades the trained models: the training runs and
    their keys stay as they were; every seed and the rules and votes run with the risk on."""
    risk = tmp_path / "risk-wide.json"
    risk.write_text(json.dumps({"bitbot": {"risk": {"stop_atr_multiple": 10}}}))
    plain = ReportSettings()
    settings = ReportSettings(deployed_overlays=(str(risk),), deployed_all_seeds=True)
    plan, before = build_plan(settings, BASE), build_plan(plain, BASE)
    trained = [r for r in plan if r.models_of is None and r.name != "rules-as-deployed"]
    assert [r.key(settings, "d", INPUTS) for r in trained] == [
        r.key(plain, "d", INPUTS) for r in before if r.models_of is None
    ], "the training runs are reused"
    deployed = {r.models_of: r for r in plan if r.models_of is not None}
    assert sorted(deployed) == ["meta-ppo-s42", "meta-ppo-s43", "meta-ppo-s44"]
    assert deployed["meta-ppo-s42"].name == "meta-as-deployed"
    assert deployed["meta-ppo-s44"].name == "meta-as-deployed-s44"
    for run in deployed.values():
        assert run.configs[-1] == str(risk)
        assert run.overlay["bitbot"]["risk"]["apply_in_backtests"] is True
    rules = next(r for r in plan if r.name == "rules-as-deployed")
    assert rules.strategies == SIGNAL_STRATEGIES + VOTE_STRATEGIES
    assert rules.configs[-1] == str(risk) and rules.overlay["bitbot"]["risk"]["apply_in_backtests"]
    assert "as deployed with " + str(risk) in settings.differences_from_shipped()
    with pytest.raises(ReportSettingsError, match="cannot read config"):
        ReportSettings(deployed_overlays=(str(tmp_path / "missing.json"),))


def test_run_keys_change_with_what_decides_the_result(tmp_path: Path) -> None:
    settings = ReportSettings(timerange="20240101-20240401")
    plan = build_plan(settings, BASE)
    keys = {r.key(settings, "data-v1", INPUTS) for r in plan}
    assert len(keys) == len(plan), "each run has its own key (and FreqAI identifier)"
    run = plan[-1]
    assert run.key(settings, "data-v1", INPUTS) == run.key(settings, "data-v1", INPUTS)
    assert run.key(settings, "data-v2", INPUTS) != run.key(settings, "data-v1", INPUTS)
    other = ReportSettings(timerange="20240101-20240501")
    assert run.key(other, "data-v1", INPUTS) != run.key(settings, "data-v1", INPUTS)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"fee": 0.0005}))
    changed = type(run)(run.name, run.kind, run.strategies, (str(config),), run.overlay)
    before = changed.key(settings, "d", INPUTS)
    config.write_text(json.dumps({"fee": 0.001}))
    assert changed.key(settings, "d", INPUTS) != before
    for name in INPUTS:  # a strategy's source, a library version, ...
        assert run.key(settings, "d", {**INPUTS, name: "changed"}) != run.key(settings, "d", INPUTS)


def test_quick_settings_are_small() -> None:
    quick = ReportSettings.quick_settings("20251017-20251116")
    assert quick.quick and quick.seeds == (1,) and quick.train_cycles == 1
    plan = build_plan(quick, BASE)
    ppo = next(r for r in plan if r.algorithm == "PPO")
    assert ppo.overlay["freqai"]["model_training_parameters"]["n_steps"] == 256
    assert ppo.overlay["freqai"]["rl_config"]["net_arch"] == [16, 16]


def test_sections_that_do_not_change_a_backtest_leave_the_key_alone(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"fee": 0.0005}))
    settings = ReportSettings(timerange="20240101-20240401")
    run = build_plan(settings, (str(config),))[0]
    before = run.key(settings, "d", INPUTS)
    config.write_text(
        json.dumps({"fee": 0.0005, "api_server": {"enabled": True}, "telegram": {"token": ""}})
    )
    assert run.key(settings, "d", INPUTS) == before


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_base_config_parameters_do_not_leak_into_another_algorithm(algorithm: str) -> None:
    """
    Freqtrade merges config files key by key: the shipped PPO parameters of config.freqai.json
    stay under an overlay's. Every one of them that the algorithm also takes must be set by its
    preset, so the preset's value (not PPO's) is what the algorithm gets.
    """
    base = json.loads(Path("user_data/config.freqai.json").read_text())["freqai"]
    preset = algorithm_overlay(algorithm, 1)["freqai"]["model_training_parameters"]
    accepted = inspect.signature(_algorithm_class(algorithm).__init__).parameters
    leaking = [k for k in base["model_training_parameters"] if k in accepted and k not in preset]
    assert not leaking, f"{algorithm} would take PPO's {leaking} from config.freqai.json"


def test_overlays_reach_their_runs_and_make_their_own_configurations(tmp_path: Path) -> None:
    sizing = tmp_path / "sizing.json"
    sizing.write_text(json.dumps({"bitbot": {"sizing": {"target_volatility": 0.4}}}))
    clock = tmp_path / "clock.json"
    clock.write_text(json.dumps({"freqai": {"rl_config": {"decision_clock": {"every": 24}}}}))
    plain = ReportSettings(timerange="20240101-20240401")
    varied = ReportSettings(
        timerange="20240101-20240401", overlays=(str(sizing),), meta_overlays=(str(clock),)
    )
    runs = {r.name: r for r in build_plan(varied, BASE)}
    assert runs["rules"].configs[-1] == str(sizing)
    assert runs["stacker"].configs[-1] == str(sizing)
    assert runs["meta-ppo-s42"].configs[-2:] == (str(sizing), str(clock))
    assert runs["meta-as-deployed"].configs == runs["meta-ppo-s42"].configs
    before = {r.name: r for r in build_plan(plain, BASE)}
    seedless = {
        name: (
            run.key(varied, "d", INPUTS, seedless=True),
            before[name].key(plain, "d", INPUTS, seedless=True),
        )
        for name, run in runs.items()
    }
    assert all(new != old for new, old in seedless.values()), "each variant is its own"
    assert varied.differences_from_shipped() == [
        f"every run with {sizing}",
        f"the meta-learner with {clock}",
    ]
    with pytest.raises(ReportSettingsError, match=r"missing\.json"):
        ReportSettings(meta_overlays=(str(tmp_path / "missing.json"),))


@pytest.mark.parametrize(
    ("overlay", "key", "option"),
    [
        ({"freqai": {"train_period_days": 365}}, "freqai.train_period_days", "--train-days"),
        ({"freqai": {"backtest_period_days": 7}}, "freqai.backtest_period_days", "--window-days"),
        (
            {"freqai": {"rl_config": {"train_cycles": 3}}},
            "rl_config.train_cycles",
            "--train-cycles",
        ),
        ({"freqai": {"rl_config": {"seed": 1}}}, "freqai.rl_config.seed", "--seeds"),
        ({"freqai": {"rl_config": {"model_type": "A2C"}}}, "rl_config.model_type", "--algorithms"),
        ({"freqai": {"identifier": "mine"}}, "freqai.identifier", "its key"),
    ],
)
@pytest.mark.parametrize("kind", ["overlays", "meta_overlays", "deployed_overlays"])
def test_an_overlay_that_the_report_would_override_is_refused(
    tmp_path: Path, overlay: dict, key: str, option: str, kind: str
) -> None:
    # the report's own window and agent settings go after every overlay: a value there would be
    # silently replaced (a 365-day window would train on 180 days)
    path = tmp_path / "overlay.json"
    path.write_text(json.dumps(overlay))
    with pytest.raises(ReportSettingsError) as e:
        ReportSettings(**{kind: (str(path),)})
    assert str(path) in str(e.value) and key in str(e.value) and option in str(e.value)


def test_every_shipped_overlay_is_accepted_by_the_report() -> None:
    shipped = sorted((Path(__file__).parents[4] / "user_data" / "overlays").glob("*.json"))
    assert len(shipped) >= 30
    # a nested key of the same name (synthetic pre-training's own train_cycles and seed) is fine
    ReportSettings(meta_overlays=tuple(str(p) for p in shipped))


def test_the_volatility_targeted_baselines_run_beside_the_full_stake_ones() -> None:
    """Issue 14's stronger baselines: the Volatility System and the votes sized to a 40 %
    volatility target, with the same configs (costs) as the full-stake rules."""
    plan = build_plan(ReportSettings(), BASE)
    rules = next(r for r in plan if r.name == "rules")
    sized = next(r for r in plan if r.name == VOL_TARGETED)
    assert sized.kind == "rules" and sized.configs == rules.configs
    assert sized.strategies == (
        "VolatilitySystem",
        "EqualVoteStrategy",
        "PortfolioStrategy",
        "FollowTheLeaderStrategy",
        "WinnersPortfolioStrategy",
    )
    assert set(sized.strategies) <= set(rules.strategies)
    assert sized.overlay == {"bitbot": {"sizing": VOL_TARGET}}
    assert VolatilityTarget.from_config(sized.overlay).active


def test_the_protocol_periods_are_disjoint_and_named() -> None:
    """Validation, then test to the end of the data the designs were chosen with, then every
    candle after it (fresh); an unknown period names the known ones."""
    fresh = ReportSettings.for_period("fresh")
    assert fresh.timerange == "20251117-" and fresh.period == "fresh"
    assert ReportSettings.for_period("test").period == "test"
    assert ReportSettings(timerange="20240101-").period == "custom"
    with pytest.raises(ReportSettingsError, match="validation, test, fresh"):
        ReportSettings.for_period("holdout")
