"""A small hand-made recording for the tests of ``bitbot replay``, and its market at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from meta_strategy.data.files import candle_file
from meta_strategy.ops.replay.faults import Faults
from meta_strategy.ops.replay.market import BookModel, RecordedMarket


T0 = datetime(2025, 6, 1, tzinfo=UTC)
PAIR = "BTC/USDT:USDT"
"""The recorded pair; the replay serves it as ``BTC/USD:USD``."""


def _candles(start: datetime, periods: int, minutes: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100_000 * np.exp(np.cumsum(rng.normal(0, 0.002, periods)))
    open_ = np.r_[100_000, close[:-1]]
    spread = np.abs(rng.normal(0, 50, periods))
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=periods, freq=f"{minutes}min", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(1, 10, periods),
        }
    )


def write_recording(folder: Path) -> Path:
    """
    A small hand-made recording around :data:`T0`: two days of 5m candles, the 1h candles made
    from them, mark candles and funding.

    :param folder: the recording's data folder (created)
    :return: ``folder``
    """
    (folder / "futures").mkdir(parents=True)
    five = _candles(T0 - timedelta(days=1), 2 * 288, 5, seed=1)
    hour = (
        five.set_index("date")
        .resample("1h")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    )
    hour = hour.reset_index()
    mark = hour.assign(close=hour["close"] * 1.0001)
    mark["high"] = mark[["high", "close"]].max(axis=1)
    funding = pd.DataFrame(
        {"date": pd.date_range(T0 - timedelta(days=1), periods=6, freq="8h", tz="UTC")}
    ).assign(funding_rate=[1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 6e-4])
    five.to_feather(candle_file(folder, PAIR, "5m"))
    hour.to_feather(candle_file(folder, PAIR, "1h"))
    mark.to_feather(candle_file(folder, PAIR, "1h", "mark"))
    funding.to_feather(candle_file(folder, PAIR, "1h", "funding_rate"))
    return folder


class FixedClock:
    """A market clock that stays at ``now`` (milliseconds, as the recorded market asks)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> int:
        return int(self.now.timestamp() * 1000)


def recorded_market(recording: Path, now: datetime, faults: Faults | None = None) -> RecordedMarket:
    """:return: the recording's market at ``now``, served as ``BTC/USD:USD`` futures"""
    return RecordedMarket(
        recording, PAIR, "BTC/USD:USD", "futures", FixedClock(now), BookModel(), faults
    )


def ms(when: datetime) -> int:
    """:return: ``when`` in milliseconds since the epoch"""
    return int(when.timestamp() * 1000)
