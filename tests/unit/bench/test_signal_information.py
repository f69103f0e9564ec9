"""The candidate inputs of ``bench/signal_information.py``: each from candles up to its close."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.signal_information import DAY, candidate_inputs


def market(
    hours: int, spot_share: float | None = None
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """:param spot_share: the spot market's volume per the perpetual's (None: random)"""
    rng = np.random.default_rng(3)
    dates = pd.Series(pd.date_range("2020-01-01", periods=hours, freq="1h", tz="UTC"))
    close = 10_000 * np.exp(np.cumsum(rng.normal(scale=0.01, size=hours)))
    candles = pd.DataFrame(
        {
            "date": dates,
            "open": close,
            "high": close * 1.005,
            "low": close * 0.995,
            "close": close,
            "volume": rng.uniform(100, 200, hours),
        }
    )
    funding = pd.Series(np.where(np.arange(hours) % 8 == 0, 0.0001, 0.0))
    share = rng.uniform(0.3, 0.7, hours) if spot_share is None else spot_share
    spot = pd.DataFrame({"date": dates, "volume": candles["volume"] * share})
    spot = spot.drop(index=range(500, 510))  # a gap in the spot file
    return candles, funding, spot


def test_no_candidate_changes_when_later_candles_arrive():
    candles, funding, spot = market(200 * DAY)
    full = candidate_inputs(candles, funding, spot)
    cut = 190 * DAY
    early = candidate_inputs(
        candles[:cut], funding[:cut], spot[spot["date"] < candles["date"][cut]]
    )
    pd.testing.assert_frame_equal(full[:cut], early)
    assert full.iloc[-1].notna().all()  # 180 days are enough for every lookback


def test_the_spot_share_bridges_a_gap_in_the_spot_file():
    candles, funding, spot = market(100 * DAY, spot_share=0.5)
    share = candidate_inputs(candles, funding, spot)["%-cand_spot_share"]
    # half the perpetual's volume, over the hours both files have, through the gap too
    assert np.allclose(share[DAY:], np.log(0.5))
