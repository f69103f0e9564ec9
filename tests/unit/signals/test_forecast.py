"""The cost-aware forecast rules of the supervised baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from meta_strategy.signals.forecast import banded_position, forward_log_return


def test_forward_log_return_looks_ahead_by_the_horizon() -> None:
    close = pd.Series([100.0, 110.0, 121.0, 100.0])
    got = forward_log_return(close, 2)
    np.testing.assert_allclose(got[:2], [np.log(1.21), np.log(100 / 110)])
    assert got[2:].isna().all()


def test_the_band_and_the_hysteresis() -> None:
    forecast = pd.Series([0.0, 0.002, 0.0005, -0.0005, -0.0015, 0.001, np.nan, 0.0009, 0.003])
    position = banded_position(forecast, band=0.001)
    # flat until above the band; held inside it; short only below -band; a missing forecast
    # is flat and the next one must clear the band again
    assert position.tolist() == [0.0, 1.0, 1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 1.0]
    assert (banded_position(forecast, 0.0) != 0).sum() == 7
    with pytest.raises(ValueError, match=r"band must be a return of at least 0, got -0\.1"):
        banded_position(forecast, -0.1)
