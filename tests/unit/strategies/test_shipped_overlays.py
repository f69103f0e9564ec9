"""
Every shipped overlay (``user_data/overlays``, the configurations the README's validation
tables name) still builds a configuration the strategies accept: a lever renamed or removed
since a row was measured fails here, not in a 20-minute report.
"""

from __future__ import annotations

import pytest
from freqtrade.resolvers import StrategyResolver

from meta_strategy.rl.errors import check_rl_config_keys
from meta_strategy.rl.predictors import PredictorStack
from meta_strategy.rl.pretraining import PretrainingConfig
from tests.helpers.freqtrade import REPO, shipped_config


OVERLAYS = sorted((REPO / "user_data" / "overlays").glob("*.json"))
BASE = ("config.json", "config.binance.json", "config.freqai.json")


def test_the_overlays_are_there() -> None:
    assert len(OVERLAYS) >= 20
    names = {path.name for path in OVERLAYS}
    assert {"clock24-change.json", "clock24-base.json", "sizing-vol30.json"} <= names


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda path: path.stem)
def test_each_overlay_builds_a_meta_strategy_the_learner_accepts(overlay) -> None:
    config = shipped_config((*BASE, f"overlays/{overlay.name}"))
    rl_config = config["freqai"]["rl_config"]
    check_rl_config_keys(rl_config)
    PredictorStack.from_rl_config(rl_config, 42)
    PretrainingConfig.from_rl_config(rl_config)
    config["strategy"] = "MetaStrategy"
    strategy = StrategyResolver.load_strategy(config)
    assert strategy.registry.enabled, overlay.name
