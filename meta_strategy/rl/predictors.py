"""
Stacked predictors (``freqai.rl_config.predictors``): supervised forecasts of the next
``horizon`` candles' log return that the agent observes beside its features.

Two forecasters, both trained inside each walk-forward window on that window's training data
only:

* ``lightgbm``: gradient-boosted trees (Ke et al. 2017) on the candle's features;
* ``gru``: a gated recurrent unit (Cho et al. 2014) over the last ``sequence`` candles'
  features, a linear head on its last state.

Each forecasts the forward log return in units of the training labels' standard deviation, so
its sign is the direction and its size the conviction. The agent must not learn from forecasts
better than the ones it will get: on the candles it trains on, the forecasts are out of fold
(:func:`out_of_fold`: contiguous blocks, each predicted by a model fitted on the other blocks,
with the candles whose label or input sequence overlaps the block purged; Lopez de Prado 2018,
ch. 7); on the held-out split and the backtest window, they come from a model fitted on the
whole training window, which ends before them. The forecasts of the last training candles
have no label (FreqAI cuts the history at the window's end), so nothing is fitted to them.

Config::

    "rl_config": {"predictors": {"models": ["lightgbm", "gru"], "horizon": 24, "folds": 3}}

Files: the fitted models sit next to the agent's, as ``<model>_model.predictors.joblib``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch as th

from meta_strategy.config_keys import check_known_keys
from meta_strategy.rl.errors import RLConfigError, is_whole_number


logger = logging.getLogger(__name__)

PREDICTOR_KEYS = frozenset({"models", "horizon", "folds"})
"""Keys of ``freqai.rl_config.predictors``."""
CLIP = 5.0
"""Forecasts are clipped at this many label standard deviations."""


class Forecaster(Protocol):
    """A model of the forward return: fitted on features and labels, then predicting."""

    lookback: int
    """rows before a candle its forecast reads (0: the candle's own features)"""

    def fit(self, features: npt.NDArray[np.float32], labels: npt.NDArray[np.float64]) -> None:
        """Fit to the rows with a finite label (each row's inputs end at that row)."""

    def predict(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """:return: one forecast per row"""


class LightGBMForecaster:
    """Gradient-boosted trees on each candle's features (LightGBM's regressor)."""

    lookback = 0

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.model: Any = None

    def fit(self, features: npt.NDArray[np.float32], labels: npt.NDArray[np.float64]) -> None:
        from lightgbm import LGBMRegressor

        known = np.isfinite(labels)
        self.model = LGBMRegressor(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=50,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=self.seed,
            n_jobs=1,
            verbose=-1,
            # the same trees on every machine: left to itself LightGBM picks its histogram
            # layout by timing both, and the layouts round differently
            deterministic=True,
            force_row_wise=True,
        )
        self.model.fit(features[known], labels[known])

    def predict(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        return np.asarray(self.model.predict(features), dtype=np.float64)


def sequences(features: npt.NDArray[np.float32], length: int) -> npt.NDArray[np.float32]:
    """
    :param features: (n, k) rows in time order
    :param length: candles per sequence
    :return: (n, length, k): row ``i`` holds rows ``i - length + 1 .. i``, the first row repeated
        where the history is shorter
    """
    padded = np.concatenate([np.repeat(features[:1], length - 1, axis=0), features])
    windows = np.lib.stride_tricks.sliding_window_view(padded, length, axis=0)
    return np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)


class GRUNet(th.nn.Module):
    """A GRU over a sequence of feature rows and a linear head on its last state."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.gru = th.nn.GRU(width, hidden, batch_first=True)
        self.head = th.nn.Linear(hidden, 1)

    def forward(self, x: th.Tensor) -> th.Tensor:
        out, _ = self.gru(x)
        return self.head(out[:, -1]).squeeze(-1)


class GRUForecaster:
    """
    A GRU over the last ``sequence`` candles' features and a linear head (PyTorch), trained
    with Adam on the squared error.
    """

    def __init__(
        self, seed: int, sequence: int = 24, hidden: int = 16, epochs: int = 6, batch: int = 256
    ) -> None:
        self.seed = seed
        self.lookback = sequence - 1
        self.sequence = sequence
        self.hidden = hidden
        self.epochs = epochs
        self.batch = batch
        self.net: Any = None

    def fit(self, features: npt.NDArray[np.float32], labels: npt.NDArray[np.float64]) -> None:
        th.manual_seed(self.seed)
        known = np.flatnonzero(np.isfinite(labels))
        x = th.from_numpy(sequences(features, self.sequence)[known])
        y = th.from_numpy(labels[known].astype(np.float32))
        self.net = GRUNet(features.shape[1], self.hidden)
        optimiser = th.optim.Adam(self.net.parameters(), lr=3e-3)
        order = np.random.default_rng(self.seed)
        for _ in range(self.epochs):
            for batch in np.array_split(
                order.permutation(len(known)), max(1, len(known) // self.batch)
            ):
                optimiser.zero_grad()
                loss = th.nn.functional.mse_loss(self.net(x[batch]), y[batch])
                loss.backward()
                optimiser.step()

    def predict(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        with th.no_grad():
            out = self.net(th.from_numpy(sequences(features, self.sequence)))
        return out.numpy().astype(np.float64)


FORECASTERS: dict[str, Callable[[int], Forecaster]] = {
    "lightgbm": LightGBMForecaster,
    "gru": GRUForecaster,
}
"""Predictor name -> factory (seed -> an unfitted forecaster)."""


def forward_labels(close: npt.ArrayLike, horizon: int) -> npt.NDArray[np.float64]:
    """
    :param close: close prices of the training window
    :param horizon: candles ahead
    :return: ``log(close[t + horizon] / close[t])``; NaN for the last ``horizon`` candles
    """
    log_close = np.log(np.asarray(close, dtype=np.float64))
    labels = np.full(len(log_close), np.nan)
    labels[:-horizon] = log_close[horizon:] - log_close[:-horizon]
    return labels


def out_of_fold(
    make: Callable[[], Forecaster],
    features: npt.NDArray[np.float32],
    labels: npt.NDArray[np.float64],
    folds: int,
    horizon: int,
) -> npt.NDArray[np.float64]:
    """
    Forecasts for every training row from a model that never fitted a row whose label or
    inputs overlap that row's block.

    :param make: a new unfitted forecaster
    :param folds: contiguous blocks
    :param horizon: the label's candles ahead (rows before a block whose label reaches into it
        are purged)
    :return: one forecast per row
    """
    n = len(features)
    out = np.zeros(n)
    for block in np.array_split(np.arange(n), folds):
        start, stop = block[0], block[-1] + 1
        forecaster = make()
        masked = labels.copy()
        # purge: labels that reach into the block; embargo: inputs that read from it
        masked[max(0, start - horizon) : min(n, stop + forecaster.lookback)] = np.nan
        forecaster.fit(features, masked)
        out[start:stop] = forecaster.predict(features)[start:stop]
    return out


@dataclass
class PredictorStack:
    """
    :ivar models: predictor names, keys of :data:`FORECASTERS`
    :ivar horizon: candles ahead the forecasts look
    :ivar folds: blocks of the out-of-fold forecasts
    :ivar seed: seeds every forecaster
    """

    models: tuple[str, ...] = ()
    horizon: int = 24
    folds: int = 3
    seed: int = 42
    fitted: list[Forecaster] = field(default_factory=list)
    scale: float = 1.0
    """the training labels' standard deviation (forecasts are in its units)"""

    @classmethod
    def from_rl_config(cls, rl_config: dict[str, Any], seed: int = 42) -> PredictorStack:
        """
        :raises RLConfigError: an unknown key or predictor, a horizon or fold count out of range
        """
        section = rl_config.get("predictors", {})
        where = "freqai.rl_config.predictors"
        if not isinstance(section, dict):
            raise RLConfigError(f"{where} must be an object, got {section!r}")
        check_known_keys(section, PREDICTOR_KEYS, where, RLConfigError)
        models = section.get("models", [])
        if isinstance(models, str) or not isinstance(models, list):
            raise RLConfigError(f"{where}.models must be a list of predictors, got {models!r}")
        for name in models:
            if name not in FORECASTERS:
                raise RLConfigError(
                    f"{where}.models: unknown predictor {name!r}; expected some of "
                    f"{', '.join(FORECASTERS)}"
                )
        horizon, folds = section.get("horizon", 24), section.get("folds", 3)
        if not is_whole_number(horizon, 1, 1000):
            raise RLConfigError(f"{where}.horizon is {horizon!r}; expected candles from 1 to 1000")
        if not is_whole_number(folds, 2, 20):
            raise RLConfigError(f"{where}.folds is {folds!r}; expected a whole number from 2 to 20")
        return cls(tuple(models), horizon, folds, seed)

    def __str__(self) -> str:
        return f"{', '.join(self.models)} (horizon {self.horizon}, {self.folds} folds out of fold)"

    @property
    def columns(self) -> list[str]:
        """:return: the forecast columns, in order"""
        return [f"forecast_{name}" for name in self.models]

    def fit(
        self, features: npt.NDArray[np.float32], close: npt.ArrayLike
    ) -> npt.NDArray[np.float64]:
        """
        Fit every predictor on the training window.

        :param features: the window's normalised features, rows in time order
        :param close: its close prices
        :return: the out-of-fold forecasts of its rows, (n, len(models))
        """
        labels = forward_labels(close, self.horizon)
        known = labels[np.isfinite(labels)]
        self.scale = float(known.std()) if len(known) > 1 and known.std() > 0 else 1.0
        labels = labels / self.scale
        self.fitted = []
        oof = np.zeros((len(features), len(self.models)))
        for j, name in enumerate(self.models):
            make = lambda name=name: FORECASTERS[name](self.seed)  # noqa: E731
            oof[:, j] = out_of_fold(make, features, labels, self.folds, self.horizon)
            forecaster = make()
            forecaster.fit(features, labels)
            self.fitted.append(forecaster)
        return np.clip(oof, -CLIP, CLIP)

    def forecast_window(
        self, train: pd.DataFrame, test: pd.DataFrame, close: npt.ArrayLike
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """
        Fit on a walk-forward window's training rows (:meth:`fit`) and add the forecast columns.

        :param train: its training features (normalised), rows in time order
        :param test: its held-out features (may be empty)
        :param close: the training rows' close prices
        :return: the training features with the out-of-fold forecasts, the held-out features
            with the whole-window models' forecasts
        """
        oof = self.fit(train.to_numpy(dtype=np.float32), close)
        train = train.assign(**{c: oof[:, j] for j, c in enumerate(self.columns)})
        if len(test):
            held_out = self.predict(test.to_numpy(dtype=np.float32))
            test = test.assign(**{c: held_out[:, j] for j, c in enumerate(self.columns)})
        return train, test

    def predict(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """:return: the whole-window models' forecasts, (n, len(models))"""
        if len(self.fitted) != len(self.models):
            raise ValueError("PredictorStack.predict before fit (or a stack loaded incomplete)")
        if not self.fitted:
            return np.zeros((len(features), 0))
        out = np.column_stack([f.predict(features) for f in self.fitted])
        return np.clip(out, -CLIP, CLIP)

    def save(self, path: Path) -> None:
        """Write the fitted stack (joblib)."""
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path)

    @staticmethod
    def load(path: Path) -> PredictorStack:
        """:raises RLConfigError: the file is missing or unreadable (named)"""
        import joblib

        if not path.is_file():
            raise RLConfigError(f"the stacked predictors' file is missing: {path}")
        try:
            stack = joblib.load(path)
        except Exception as e:
            raise RLConfigError(
                f"the stacked predictors' file cannot be loaded: {path}: {type(e).__name__}: {e}"
            ) from e
        if not isinstance(stack, PredictorStack):
            raise RLConfigError(f"{path} holds a {type(stack).__name__}, not stacked predictors")
        return stack


def predictors_path(model_file: Path) -> Path:
    """:return: the stack's file next to ``<model>_model.zip``"""
    return model_file.with_name(model_file.name.removesuffix(".zip") + ".predictors.joblib")


def with_forecasts(
    features: npt.NDArray[np.floating], forecasts: npt.NDArray[np.floating]
) -> npt.NDArray[np.float32]:
    """:return: the features with the forecast columns appended"""
    return np.hstack([np.asarray(features, np.float32), np.asarray(forecasts, np.float32)])
