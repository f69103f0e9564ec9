"""Stacked predictors: out-of-fold forecasts, the files, the config."""

from __future__ import annotations

import numpy as np
import pytest

from meta_strategy.rl.errors import RLConfigError
from meta_strategy.rl.predictors import (
    PredictorStack,
    forward_labels,
    out_of_fold,
    predictors_path,
    sequences,
)


class Recorder:
    """A forecaster that notes the rows it was fitted on and forecasts the fit's number."""

    fits: list[np.ndarray] = []

    def __init__(self, lookback: int) -> None:
        self.lookback = lookback

    def fit(self, features: np.ndarray, labels: np.ndarray) -> None:
        Recorder.fits.append(np.flatnonzero(np.isfinite(labels)))

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.full(len(features), float(len(Recorder.fits)))


def test_forward_labels_look_ahead_and_leave_the_last_candles_unlabelled() -> None:
    close = np.array([100.0, 110.0, 121.0, 100.0])
    np.testing.assert_allclose(forward_labels(close, 2)[:2], np.log([1.21, 100 / 110]))
    assert np.isnan(forward_labels(close, 2)[2:]).all()


def test_sequences_end_at_their_row_and_pad_with_the_first() -> None:
    rows = np.arange(10, dtype=np.float32).reshape(5, 2)
    seq = sequences(rows, 3)
    assert seq.shape == (5, 3, 2)
    np.testing.assert_array_equal(seq[4], rows[2:5])
    np.testing.assert_array_equal(seq[0], rows[[0, 0, 0]])


def test_out_of_fold_never_fits_a_row_whose_label_or_inputs_touch_the_block() -> None:
    Recorder.fits = []
    n, horizon, lookback = 90, 5, 3
    labels = np.ones(n)
    labels[-horizon:] = np.nan  # the window's last candles: no label
    out = out_of_fold(lambda: Recorder(lookback), np.zeros((n, 1)), labels, 3, horizon)
    blocks = np.array_split(np.arange(n), 3)
    for k, (block, fitted) in enumerate(zip(blocks, Recorder.fits, strict=True)):
        start, stop = block[0], block[-1] + 1
        # a fitted row's label spans rows t .. t + horizon; its inputs rows t - lookback .. t
        reaches_in = (fitted + horizon >= start) & (fitted < start)
        reads_block = (fitted - lookback < stop) & (fitted >= stop)
        assert not np.isin(fitted, block).any(), f"block {k} fitted on itself"
        assert not reaches_in.any() and not reads_block.any(), f"block {k}: {fitted}"
        np.testing.assert_array_equal(out[start:stop], k + 1)  # its own fold's model
    assert not np.isin(np.arange(n - horizon, n), np.concatenate(Recorder.fits)).any()


def _market(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 4)).astype(np.float32)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return features, close


@pytest.mark.parametrize("model", ["lightgbm", "gru"])
def test_a_stack_fits_predicts_and_reloads_the_same(model: str, tmp_path) -> None:
    features, close = _market()
    stack = PredictorStack((model,), horizon=24, folds=3, seed=7)
    oof = stack.fit(features[:300], close[:300])
    assert oof.shape == (300, 1) and np.isfinite(oof).all() and oof.std() > 0
    forecasts = stack.predict(features[300:])
    again = PredictorStack((model,), horizon=24, folds=3, seed=7)
    np.testing.assert_array_equal(again.fit(features[:300], close[:300]), oof)  # seeded
    path = predictors_path(tmp_path / "cb_btc_1_model.zip")
    assert path.name == "cb_btc_1_model.predictors.joblib"
    stack.save(path)
    np.testing.assert_array_equal(PredictorStack.load(path).predict(features[300:]), forecasts)
    assert stack.columns == [f"forecast_{model}"]


def test_a_missing_or_foreign_predictors_file_is_named(tmp_path) -> None:
    path = tmp_path / "cb_model.predictors.joblib"
    with pytest.raises(RLConfigError, match=r"file is missing: .*cb_model\.predictors\.joblib"):
        PredictorStack.load(path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(RLConfigError, match=r"cannot be loaded: .*cb_model\.predictors\.joblib"):
        PredictorStack.load(path)


def test_predictors_config() -> None:
    assert PredictorStack.from_rl_config({}).models == ()
    stack = PredictorStack.from_rl_config(
        {"predictors": {"models": ["gru", "lightgbm"], "horizon": 12, "folds": 4}}, seed=3
    )
    assert (stack.models, stack.horizon, stack.folds, stack.seed) == (
        ("gru", "lightgbm"),
        12,
        4,
        3,
    )
    bad = {
        "unknown predictor 'xgb'; expected some of lightgbm, gru": {"models": ["xgb"]},
        "models must be a list of predictors, got 'gru'": {"models": "gru"},
        "horizon is 0; expected candles from 1 to 1000": {"models": ["gru"], "horizon": 0},
        "folds is 1; expected a whole number from 2 to 20": {"folds": 1},
        "unknown key": {"modles": ["gru"]},
    }
    for message, section in bad.items():
        with pytest.raises(RLConfigError, match=message):
            PredictorStack.from_rl_config({"predictors": section})
