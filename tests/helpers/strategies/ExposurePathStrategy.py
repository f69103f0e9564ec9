"""
A test strategy that holds a fixed target-exposure path, read from the CSV file named by
``BITBOT_EXPOSURE_PATH`` (``date,target``; the target of a candle is decided at its close;
an optional ``decision`` column marks the decision candles that re-arm entries after a stop).
Sized like the MetaStrategy (``size_by_exposure``: half levels, position adjustments), so that
its Freqtrade backtest can be compared with the training environment walking the same path.
"""

from __future__ import annotations

import os

import pandas as pd
from pandas import DataFrame

from meta_strategy.trading.exposure import DECISION_TAG, EXPOSURE_TAG, TargetExposureStrategy


class ExposurePathStrategy(TargetExposureStrategy):
    size_by_exposure = True
    position_adjustment_enable = True
    max_entry_position_adjustment = -1
    startup_candle_count = 0

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.startup_candle_count = 0

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        path = pd.read_csv(os.environ["BITBOT_EXPOSURE_PATH"], parse_dates=["date"])
        path["date"] = pd.to_datetime(path["date"], utc=True)
        merged = dataframe[["date"]].merge(path, on="date", how="left")
        dataframe[EXPOSURE_TAG] = merged["target"].fillna(0.0).to_numpy()
        if "decision" in merged:
            dataframe[DECISION_TAG] = merged["decision"].fillna(False).astype(bool).to_numpy()
        return dataframe
