"""
The model registry on a real (tiny) FreqAI walk-forward: its windows found, recorded, the best
promoted, and FreqAI's own dry-run / live code loads the promoted model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from meta_strategy.models.promotion import best_model, promote
from meta_strategy.models.registry import ModelRegistry
from meta_strategy.models.store import discover_windows, verify_model_file
from tests.helpers.model_files import (
    PAIR,
    T1,
    T2,
    check_freqai_loads_it,
    make_record,
    tiny_walk_forward,
)


pytestmark = pytest.mark.slow


def test_promote_a_real_walk_forward_model(binance_datadir: Path, tmp_path: Path) -> None:
    userdir = tiny_walk_forward(tmp_path, binance_datadir, "ci-registry", "registry")
    windows = discover_windows(userdir / "models", "ci-registry")
    assert [w.trained_timestamp for w in windows] == [T1, T2]
    registry = ModelRegistry(tmp_path / "models.sqlite")
    for w in windows:
        verify_model_file(w.model_path, "PPO")
        assert w.pair == PAIR
        end = np.datetime64(w.trained_timestamp, "s").astype(str)[:10]
        registry.record(make_record(w.identifier, end, w.model_path, seed=5))
    best = best_model(registry)
    assert best.train_end == "2025-06-16"
    overlay = promote(
        registry, best.id, models_root=userdir / "models", config_out=tmp_path / "promoted.json"
    )
    copied = userdir / "models" / f"promoted-{best.id}" / f"sub-train-BTC_{T2}"
    check_freqai_loads_it(overlay, userdir, copied / f"cb_btc_{T2}_model.zip", PAIR)
