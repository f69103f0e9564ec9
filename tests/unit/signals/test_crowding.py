"""The crowding strategies' contrarian rule (meta_strategy.signals.crowding), by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from meta_strategy.signals.crowding import crowding_entries, crowding_exits, crowding_strength


def test_enter_against_the_crowd_and_exit_once_it_has_gone() -> None:
    frame = pd.DataFrame(
        {"z": [0.0, 2.5, 1.0, 0.3, -2.0, -2.2, -0.4], "volume": [1, 1, 1, 1, 1, 0, 1]}
    )
    crowding_entries(frame, "z", 2.0)
    crowding_exits(frame, "z", 0.5)
    assert frame["enter_short"].fillna(0).tolist() == [0, 1, 0, 0, 0, 0, 0]  # longs crowded
    assert frame["enter_long"].fillna(0).tolist() == [0, 0, 0, 0, 1, 0, 0]  # no volume: none
    assert frame["enter_tag"].tolist()[1] == "longs_crowded"
    assert frame["exit_short"].fillna(0).tolist() == [1, 0, 0, 1, 1, 1, 1]  # z <= 0.5
    assert frame["exit_long"].fillna(0).tolist() == [1, 1, 1, 1, 0, 0, 1]  # z >= -0.5
    strength = crowding_strength(frame["z"], 2.0)
    np.testing.assert_allclose(strength, -np.tanh(frame["z"] / 2.0))
    assert strength.iloc[4] > 0 > strength.iloc[1]  # a long's conviction when shorts crowd
