"""
Every shipped overlay (``user_data/overlays``, the configurations the README's validation
tables name) still builds a configuration the strategies accept: a lever renamed or removed
since a row was measured fails here, not in a 20-minute report.
"""

from __future__ import annotations

import pytest

from meta_strategy.rl.clock import DecisionClock
from meta_strategy.rl.errors import check_rl_config_keys
from meta_strategy.rl.predictors import PredictorStack
from meta_strategy.rl.pretraining import PretrainingConfig
from tests.helpers.freqtrade import REPO, load_strategy


OVERLAYS = sorted((REPO / "user_data" / "overlays").glob("*.json"))
BASE = ("config.json", "config.binance.json", "config.freqai.json")


def test_the_overlays_are_there() -> None:
    assert len(OVERLAYS) >= 20
    names = {path.name for path in OVERLAYS}
    assert {"clock24-daily.json", "sizing-off.json", "sizing-vol30.json"} <= names


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda path: path.stem)
def test_each_overlay_builds_a_meta_strategy_the_learner_accepts(overlay) -> None:
    strategy = load_strategy("MetaStrategy", (*BASE, f"overlays/{overlay.name}"))
    rl_config = strategy.config["freqai"]["rl_config"]
    check_rl_config_keys(rl_config)
    PredictorStack.from_rl_config(rl_config, 42)
    PretrainingConfig.from_rl_config(rl_config)
    assert strategy.registry.enabled, overlay.name


def test_two_overlays_restore_the_first_frozen_default() -> None:
    """The first frozen default (2026-12-01): daily decisions at full stake, on today's files."""
    first = load_strategy(
        "MetaStrategy", (*BASE, "overlays/clock24-daily.json", "overlays/sizing-off.json")
    )
    assert first.decision_clock == DecisionClock(every=24)
    assert not first.volatility_target.active
    now = load_strategy("MetaStrategy", BASE)
    assert now.decision_clock == DecisionClock(every=24, on_signal_change=True)
    assert now.volatility_target.target_volatility == 0.3
    assert first.action_mode == now.action_mode and first.teacher == now.teacher
