"""
Supervised baseline for the meta layer, cost-aware: a LightGBM regression on the MetaStrategy's
features forecasts the next 24 hours' log return (``label_period_candles``); the position is
long from a forecast above a no-trade band until one below minus the band, short the other way
round (:func:`meta_strategy.signals.forecast.banded_position`). The band is
``band_round_trips`` round trips of the cost per fill (fee + slippage), so a trade is taken only
when its forecast pays for it. Same pair, costs, walk-forward windows and trading rules as the
MetaStrategy, so the reinforcement learner has a like-for-like supervised rival. FreqAI's
``LightGBMRegressor`` trains on the whole window (``test_size`` 0: the latest candles count).

    bitbot backtesting -c user_data/config.json -c user_data/config.binance.json \\
        -c user_data/config.stacker.json --strategy StackerStrategy --timerange 20241117-20251116
"""

import logging
from typing import Any

from freqtrade.strategy import DecimalParameter
from MetaStrategy import MetaStrategy
from pandas import DataFrame

from meta_strategy.rl.costs import cost_per_fill
from meta_strategy.signals.forecast import banded_position, forward_log_return


logger = logging.getLogger(__name__)

FORECAST = "&-forward_return"
"""The label and FreqAI's prediction: the log return over the next ``label_period_candles``."""


class StackerStrategy(MetaStrategy):
    """LightGBM forecast of the next day's return, traded beyond a cost band with hysteresis."""

    # set before the validation run, not tuned: trade when the forecast pays one round trip
    band_round_trips = DecimalParameter(0.0, 4.0, default=1.0, decimals=1, space="buy")

    def feature_engineering_standard(
        self, dataframe: DataFrame, metadata: dict, **kwargs: Any
    ) -> DataFrame:
        """The MetaStrategy's features without the raw prices (they are not stationary)."""
        dataframe = super().feature_engineering_standard(dataframe, metadata, **kwargs)
        raw = [c for c in dataframe.columns if c.startswith("%-raw_")]
        return dataframe.drop(columns=raw)

    def set_freqai_targets(self, dataframe: DataFrame, metadata: dict, **kwargs: Any) -> DataFrame:
        """
        Label: the log return over the next ``label_period_candles`` (24). It looks forward by
        design; FreqAI computes it on the history cut at the training window's end (so the
        window's last day has no label, rather than one made of the next window's prices) and
        predicts only candles after that end.
        """
        horizon = int(self.freqai_info["feature_parameters"].get("label_period_candles", 24))
        dataframe[FORECAST] = forward_log_return(dataframe["close"], horizon)
        return dataframe

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self.freqai.start(dataframe, metadata, self)
        forecast = dataframe[FORECAST].where(dataframe["do_predict"] == 1)
        band = float(self.band_round_trips.value) * 2.0 * cost_per_fill(self.config)
        dataframe["target_exposure"] = banded_position(forecast, band).to_numpy()
        return dataframe
