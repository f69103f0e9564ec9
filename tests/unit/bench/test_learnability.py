"""The planted-signal markets of ``bench/learnability.py``: the signal is the one asked for, and
it is about the next day only."""

from __future__ import annotations

import numpy as np
import pytest

from bench.learnability import HOURS, planted_market, realised_ic


@pytest.mark.parametrize("ic", [0.0, 0.1, 0.3])
def test_the_market_has_the_information_coefficient_asked_for(ic):
    candles, features = planted_market(ic, days=4000, noise_features=3, seed=7)
    assert features.shape == (4000 * HOURS, 4)
    # sampling noise of a correlation over 4,000 days: about 0.016
    assert realised_ic(candles, features) == pytest.approx(ic, abs=0.05)


def test_the_planted_feature_says_nothing_about_its_own_day_and_the_noise_nothing_at_all():
    candles, features = planted_market(0.3, days=4000, noise_features=3, seed=8)
    day_close = np.log(candles["close"].to_numpy()[HOURS - 1 :: HOURS])
    returns = np.diff(day_close)  # returns[d - 1]: day d's return
    known = features[HOURS - 1 :: HOURS]  # what is known at each day's last close
    assert abs(np.corrcoef(known[1:, 0], returns)[0, 1]) < 0.05  # day d's own return
    for noise in range(1, 4):
        assert abs(np.corrcoef(known[:-1, noise], returns)[0, 1]) < 0.05
    # every row of a day holds its feature (the agent reads it at the day's last candle)
    assert (features[:HOURS, 0] == features[0, 0]).all()
