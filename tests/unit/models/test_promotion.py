"""
Promotion (meta_strategy.models.promotion): the rule, the best model, and that FreqAI's own
dry-run / live code loads the promoted model. The model folders are FreqAI-like ones built in
``tmp_path`` around tiny stable-baselines3 saves (:mod:`tests.helpers.model_files`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meta_strategy.models.promotion import (
    EXPIRY_MARGIN_HOURS,
    PromotionRefusedError,
    PromotionRule,
    best_model,
    check_rule,
    default_pairs,
    promote,
)
from meta_strategy.models.registry import ModelRegistry, ModelRegistryError
from meta_strategy.models.store import ModelFileError
from meta_strategy.paths import LIVE_CONFIG
from tests.helpers.freqtrade import REPO
from tests.helpers.model_files import (
    PAIR,
    T1,
    T2,
    check_freqai_loads_it,
    fake_run,
    live_freqai,
    make_record,
)


def test_promote_writes_what_freqai_live_loads(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = fake_run(saves, root, "run-a")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    model_id = registry.record(make_record("run-a", "2025-06-16", paths[1]))
    out = promote(
        registry,
        model_id,
        models_root=root,
        config_out=tmp_path / "config.promoted.json",
        pairs=[PAIR, "BTC/USD:USD"],
    )
    assert out == tmp_path / "config.promoted.json"
    dest = root / f"promoted-{model_id}"
    copied = dest / f"sub-train-BTC_{T2}" / f"cb_btc_{T2}_model.zip"
    assert copied.read_bytes() == paths[1].read_bytes()
    drawer = json.loads((dest / "pair_dictionary.json").read_text())
    entry = {
        "model_filename": f"cb_btc_{T2}",
        "trained_timestamp": T2,
        "data_path": str(copied.parent),
        "extras": {},
    }
    assert drawer == {PAIR: entry, "BTC/USD:USD": entry}  # the keys of data_drawer.pair_info

    overlay = json.loads(out.read_text())
    freqai = overlay["freqai"]
    assert freqai["identifier"] == f"promoted-{model_id}"
    assert freqai["rl_config"]["model_type"] == "PPO" and freqai["rl_config"]["seed"] == 42
    assert freqai["rl_config"]["policy_type"] == "MlpPolicy"
    # the walk-forward's schedule: retrain every window, the model-age check on
    window_hours = 24 * freqai["backtest_period_days"]
    assert freqai["live_retrain_hours"] == window_hours
    assert freqai["expiration_hours"] == window_hours + EXPIRY_MARGIN_HOURS
    assert freqai["rl_config"]["exposure_levels"] == 3  # the run's own freqai section
    assert overlay["bitbot"]["model_id"] == model_id
    assert overlay["bitbot"]["model_path"] == str(copied)
    assert overlay["bitbot"]["promoted_at"].endswith("Z")
    assert registry.promoted() == registry.get(model_id)

    # Freqtrade's own dry-run / live code finds, keeps and loads exactly that model, for the
    # research pair and for Kraken's pair alike.
    check_freqai_loads_it(out, tmp_path, copied, PAIR)
    check_freqai_loads_it(out, tmp_path, copied, "BTC/USD:USD")

    # A window model older than the schedule is retrained at start-up, as each walk-forward
    # window was.
    from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

    dk = FreqaiDataKitchen(dict(live_freqai(out, tmp_path).config), live=True, pair=PAIR)
    assert dk.check_if_new_training_required(T2)[0] and dk.check_if_model_expired(T2)

    # One promoted model at a time; promoting again replaces the folder and the overlay.
    other = registry.record(make_record("run-a", "2025-06-01", paths[0]))
    promote(registry, other, models_root=root, config_out=out)
    assert [r.id for r in registry.list() if r.promoted] == [other]
    assert json.loads(out.read_text())["bitbot"]["model_id"] == other
    promote(registry, model_id, models_root=root, config_out=out)
    assert [r.id for r in registry.list() if r.promoted] == [model_id]
    assert list(json.loads((dest / "pair_dictionary.json").read_text())) == [PAIR]


def test_promote_recurrent_ppo_sets_its_policy(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = fake_run(saves, root, "run-r", (T1,), algorithm="RecurrentPPO")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    model_id = registry.record(
        make_record("run-r", "2025-06-01", paths[0], algorithm="RecurrentPPO", seed=3)
    )
    out = promote(registry, model_id, models_root=root, config_out=tmp_path / "o.json")
    rl = json.loads(out.read_text())["freqai"]["rl_config"]
    assert (rl["model_type"], rl["policy_type"], rl["seed"]) == ("RecurrentPPO", "MlpLstmPolicy", 3)
    copied = root / f"promoted-{model_id}" / f"sub-train-BTC_{T1}" / f"cb_btc_{T1}_model.zip"
    check_freqai_loads_it(out, tmp_path, copied, PAIR)


RULE_CASES = {
    "best_rule_sharpe": ({"best_rule_sharpe": 1.2}, "not above the best rule strategy's 1.20"),
    "best_vote_sharpe": ({"best_vote_sharpe": 1.0}, "not above the best vote's 1.00"),
    "best_vol_targeted_sharpe": (
        {"best_vol_targeted_sharpe": 1.1},
        "not above the best volatility-targeted baseline's 1.10",
    ),
    "flat_sharpe": (
        {
            "config_sharpe_mean": -0.1,
            "best_rule_sharpe": -1,
            "best_vote_sharpe": -1,
            "best_vol_targeted_sharpe": -1,
        },
        "not above flat's 0.00",
    ),
    "interval": ({"config_sharpe_ci_low": -0.05}, "interval starts at -0.05, not above 0"),
    "deflated": ({"config_deflated_sharpe": 0.42}, "deflated Sharpe 0.42 (over 12 configurations)"),
    "paired": (
        {
            "config_paired": [
                {
                    "baseline": "best_rule",
                    "label": "OTT",
                    "difference": 0.3,
                    "ci_low": 0.05,
                    "ci_high": 0.6,
                },
                {
                    "baseline": "best_vote",
                    "label": "Equal-weight vote",
                    "difference": 0.1,
                    "ci_low": -0.2,
                    "ci_high": 0.4,
                },
                # buy-and-hold is compared by the report but is not in the rule
                {
                    "baseline": "buy_and_hold",
                    "label": "Buy-and-hold perp",
                    "difference": -0.4,
                    "ci_low": -2.0,
                    "ci_high": 1.2,
                },
            ]
        },
        "its Sharpe minus Equal-weight vote's on the same days is +0.10, 95 % paired interval "
        "[-0.20, +0.40], not above 0",
    ),
    "paired missing (an older report)": (
        {"config_paired": []},
        "no paired comparison with the best rule strategy, vote or volatility-targeted baseline "
        "was recorded",
    ),
    "as deployed": (
        {"deployed_sharpe": -1.25, "deployed_seeds": 3},
        "as deployed (risk controls on) its Sharpe -1.25 (mean over 3 seeds) is not above the "
        "best rule strategy's",
    ),
}


@pytest.mark.parametrize("case", list(RULE_CASES))
def test_each_condition_of_the_rule_refuses_on_its_own(case: str, tmp_path: Path) -> None:
    passing = make_record("run-a", "2025-06-16", "x.zip")
    assert check_rule(passing) == []
    evidence, message = RULE_CASES[case]
    failing = make_record("run-a", "2025-06-16", "x.zip", evidence=evidence)
    failed = check_rule(failing)
    assert len(failed) == 1 and message in failed[0], failed


def test_thresholds_are_configurable() -> None:
    record = make_record("run-a", "2025-06-16", "x.zip", evidence={"config_deflated_sharpe": 0.6})
    assert check_rule(record) == []
    assert check_rule(record, PromotionRule(min_deflated_sharpe=0.9))
    assert check_rule(record, PromotionRule(min_sharpe_ci_low=0.2))
    assert check_rule(record, PromotionRule(min_paired_ci_low=0.1)), "the paired lows are 0.05"
    assert "lies above 0.1; and" in PromotionRule(min_paired_ci_low=0.1).describe()
    assert "at least 0.9" in PromotionRule(min_deflated_sharpe=0.9).describe()


def test_rule_refuses_unless_forced(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = fake_run(saves, root, "run-a")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    out = tmp_path / "config.promoted.json"
    worse = registry.record(
        make_record("run-a", "2025-06-16", paths[1], evidence={"config_deflated_sharpe": 0.1})
    )
    with pytest.raises(PromotionRefusedError, match=r"not promotable: deflated Sharpe 0.10"):
        promote(registry, worse, models_root=root, config_out=out)
    assert not out.exists() and not (root / f"promoted-{worse}").exists()
    assert registry.promoted() is None
    unknown = registry.record(make_record("run-c", "2025-06-16", paths[1], sharpe=None))
    with pytest.raises(PromotionRefusedError, match="no mean-over-seeds Sharpe"):
        promote(registry, unknown, models_root=root, config_out=out)
    assert promote(registry, worse, models_root=root, config_out=out, force=True) == out
    assert registry.promoted().id == worse


def test_promote_refuses_missing_or_corrupt_files(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = fake_run(saves, root, "run-a")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    out = tmp_path / "config.promoted.json"
    good = registry.record(make_record("run-a", "2025-06-16", paths[1]))
    corrupt = registry.record(make_record("run-a", "2025-06-01", paths[0]))
    paths[0].write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="not a zip archive"):
        promote(registry, corrupt, models_root=root, config_out=out, force=True)
    paths[0].unlink()
    with pytest.raises(ModelFileError, match="missing"):
        promote(registry, corrupt, models_root=root, config_out=out, force=True)
    with pytest.raises(ValueError, match="cannot trade ETH/USDT:USDT"):
        promote(registry, good, models_root=root, config_out=out, pairs=["ETH/USDT:USDT"])
    pipeline = paths[1].parent / f"cb_btc_{T2}_feature_pipeline.pkl"
    pipeline.write_bytes(b"not a pickle")
    with pytest.raises(ModelFileError, match=r"feature_pipeline.pkl: cannot be unpickled"):
        promote(registry, good, models_root=root, config_out=out)
    pipeline.unlink()
    with pytest.raises(ModelFileError, match="save_backtest_models: true"):
        promote(registry, good, models_root=root, config_out=out)
    assert not out.exists() and registry.promoted() is None


def test_best_takes_the_best_mean_over_seeds_and_its_first_seed(
    saves: dict[str, Path], tmp_path: Path
) -> None:
    registry = ModelRegistry(tmp_path / "models.sqlite")
    with pytest.raises(ModelRegistryError, match="has a mean-over-seeds Sharpe"):
        best_model(registry)
    registry.record(make_record("low", "2025-07-01", "l.zip", sharpe=0.3))
    registry.record(make_record("high", "2025-06-01", "h1.zip", sharpe=0.9))
    latest = registry.record(make_record("high", "2025-06-16", "h2.zip", sharpe=0.9))
    registry.record(make_record("no-figure", "2025-08-01", "n.zip", sharpe=None))
    assert best_model(registry).id == latest
    registry.record(make_record("higher", "2025-05-01", "x.zip", sharpe=float("nan")))
    assert best_model(registry).id == latest
    # another seed of the same configuration, with a later window: the first seed is taken
    registry.record(
        make_record(
            "high-s43",
            "2025-07-16",
            "h3.zip",
            sharpe=0.9,
            seed=43,
            evidence={"configuration": "high"},
        )
    )
    assert best_model(registry).id == latest

    root = tmp_path / "models"
    paths = fake_run(saves, root, "top")
    weak = {"config_deflated_sharpe": 0.2}
    registry.record(make_record("top", "2025-06-01", paths[0], sharpe=2.0, evidence=weak))
    top = registry.record(make_record("top", "2025-06-16", paths[1], sharpe=2.0, evidence=weak))
    assert best_model(registry).id == top
    with pytest.raises(PromotionRefusedError):  # the best configuration must still pass the rule
        promote(registry, best_model(registry).id, models_root=root, config_out=tmp_path / "o.json")


def test_default_pairs_add_the_live_pairs_of_the_same_coin(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        '{"exchange": {"pair_whitelist": ["BTC/USD:USD", "ETH/USD:USD"]}, // comment\n}'
    )
    record = make_record("run-a", "2025-06-16", "x.zip")
    assert default_pairs(record, config) == [PAIR, "BTC/USD:USD"]
    assert default_pairs(record, tmp_path / "absent.json") == [PAIR]
    assert default_pairs(record, REPO / LIVE_CONFIG) == [PAIR, "BTC/USD:USD"]


# --------------------------------------------------------------------------------------------
# bitbot models
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# a real walk-forward
# --------------------------------------------------------------------------------------------


def test_best_compares_models_of_one_report_only(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.record(make_record("run-full", "2025-06-01", tmp_path / "a.zip", sharpe=0.4))
    registry.record(
        make_record("run-quick", "2025-06-01", tmp_path / "b.zip", sharpe=3.0, report="quick")
    )
    assert best_model(registry, "full").identifier == "run-full"
    assert best_model(registry, "quick").identifier == "run-quick"
    assert best_model(registry).identifier == "run-quick"
    with pytest.raises(ModelRegistryError, match="from report 'other'"):
        best_model(registry, "other")


def test_files_changed_under_a_promotion_are_named(saves: dict[str, Path], tmp_path: Path) -> None:
    from meta_strategy.models.promotion import PromotedInputError, check_promoted_inputs

    root = tmp_path / "models"
    paths = fake_run(saves, root, "run-a")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    model_id = registry.record(make_record("run-a", "2025-06-16", paths[1]))
    out = promote(registry, model_id, models_root=root, config_out=tmp_path / "o.json")
    bitbot = json.loads(out.read_text())["bitbot"]
    model = Path(bitbot["model_path"])
    assert set(bitbot["promoted_inputs"]) == {str(model), "user_data/strategies_registry.json"}
    check_promoted_inputs(bitbot)  # unchanged: starts
    model.write_bytes(model.read_bytes() + b"x")
    with pytest.raises(PromotedInputError, match=rf"{model}.* changed since model {model_id}"):
        check_promoted_inputs(bitbot)
    model.unlink()
    with pytest.raises(PromotedInputError, match=rf"{model} is missing"):
        check_promoted_inputs(bitbot)


def test_the_meta_strategy_refuses_to_trade_a_promotion_whose_registry_changed(
    tmp_path: Path,
) -> None:
    from freqtrade.enums import RunMode

    from meta_strategy.trading.config import BitBotConfigError
    from tests.helpers.freqtrade import load_strategy

    registry = tmp_path / "strategies_registry.json"
    registry.write_text((REPO / "user_data" / "strategies_registry.json").read_text())
    configs = ("config.json", "config.binance.json", "config.freqai.json")
    promoted = {str(registry): "0" * 64}
    with pytest.raises(BitBotConfigError, match=rf"{registry} changed since model 7"):
        load_strategy(
            "MetaStrategy", configs, RunMode.DRY_RUN, model_id=7, promoted_inputs=promoted
        )
    load_strategy("MetaStrategy", configs, RunMode.BACKTEST, model_id=7, promoted_inputs=promoted)
