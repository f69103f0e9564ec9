"""
Supervised baseline for the meta layer: FreqAI's LightGBM classifier on the MetaStrategy's
features, predicting the sign of the next candle's return; long when it predicts up, short
when it predicts down. Same pair, costs, walk-forward windows and trading rules as the
MetaStrategy, so the reinforcement learner has a like-for-like supervised rival.

    bitbot backtesting -c user_data/config.json -c user_data/config.binance.json \\
        -c user_data/config.stacker.json --strategy StackerStrategy --timerange 20241117-20251116
"""

import logging
from typing import Any

import numpy as np
from MetaStrategy import MetaStrategy
from pandas import DataFrame


logger = logging.getLogger(__name__)


class StackerStrategy(MetaStrategy):
    """LightGBM on the registry signals and context; +1 / -1 exposure by predicted sign."""

    def feature_engineering_standard(
        self, dataframe: DataFrame, metadata: dict, **kwargs: Any
    ) -> DataFrame:
        """The MetaStrategy's features without the raw prices (they are not stationary)."""
        dataframe = super().feature_engineering_standard(dataframe, metadata, **kwargs)
        raw = [c for c in dataframe.columns if c.startswith("%-raw_")]
        return dataframe.drop(columns=raw)

    def set_freqai_targets(self, dataframe: DataFrame, metadata: dict, **kwargs: Any) -> DataFrame:
        """
        Label: did the next candle close higher? (``up`` / ``down``). A label looks forward by
        design; FreqAI trains only on windows that end before the candles it predicts.
        """
        up = dataframe["close"].shift(-1) > dataframe["close"]
        dataframe["&-direction"] = np.where(up, "up", "down")
        dataframe.loc[dataframe["close"].shift(-1).isna(), "&-direction"] = np.nan
        return dataframe

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self.freqai.start(dataframe, metadata, self)
        valid = dataframe["do_predict"] == 1
        direction = dataframe["&-direction"]
        dataframe["target_exposure"] = np.where(
            valid & (direction == "up"), 1.0, np.where(valid & (direction == "down"), -1.0, 0.0)
        )
        return dataframe
