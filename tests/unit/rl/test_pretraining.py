"""Synthetic pre-training: its config, the generated market, and its features scaled as the
window's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datasieve.pipeline import Pipeline
from datasieve.transforms import SKLearnWrapper
from sklearn.preprocessing import MinMaxScaler

from meta_strategy.rl.errors import RLConfigError, check_rl_config_keys
from meta_strategy.rl.pretraining import (
    SYNTHETIC_START,
    PretrainingConfig,
    pretraining_inputs,
    pretraining_rows,
)


def test_pretraining_config() -> None:
    assert not PretrainingConfig.from_rl_config({}).active
    config = PretrainingConfig.from_rl_config({"synthetic_pretraining": {}})
    assert config == PretrainingConfig(days=730, train_cycles=5, seed=7) and config.active
    assert config.timesteps(1000) == 5000
    check_rl_config_keys({"synthetic_pretraining": {"days": 60}})
    bad = [
        ("yes", "must be an object"),
        ({"days": 10}, "days is 10"),
        ({"days": 60.5}, "days is 60.5"),
        ({"train_cycles": 0}, "train_cycles is 0"),
        ({"seed": -1}, "seed is -1"),
        ({"epochs": 3}, "epochs"),
    ]
    for section, message in bad:
        with pytest.raises(RLConfigError, match=message):
            PretrainingConfig.from_rl_config({"synthetic_pretraining": section})


def test_the_generated_market_is_fixed_and_far_from_any_real_date() -> None:
    config = PretrainingConfig(days=40, seed=3)
    first, again = config.market(), config.market()
    pd.testing.assert_frame_equal(first.candles, again.candles)
    candles = first.candles_at("1h")
    assert candles["date"].iloc[0] == SYNTHETIC_START
    assert len(candles) == 40 * 24
    assert candles["date"].iloc[-1] < pd.Timestamp("2001-01-01", tz="UTC")
    other = PretrainingConfig(days=40, seed=4).market().candles_at("1h")
    assert not np.allclose(other["close"], candles["close"])


def _strategy_frame(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    close = 100.0 + rng.normal(0, 1, n).cumsum()
    frame = pd.DataFrame(
        {
            "%-raw_open": close,
            "%-raw_high": close + 1,
            "%-raw_low": close - 1,
            "%-raw_close": close,
            "%-raw_funding": 0.0,
            "%-raw_decision": 1.0,
            "%-raw_choice_0": 0.0,
            "%-raw_choice_1": 1.0,
            "%-trend": np.linspace(-20.0, 20.0, n),
            "%-slow": np.r_[np.full(10, np.nan), np.ones(n - 10)],  # a 10-candle warm-up
        }
    )
    return frame


def test_pretraining_rows_drop_the_warm_up_and_name_what_is_missing() -> None:
    frame = _strategy_frame()
    rows = pretraining_rows(frame, ["%-trend", "%-slow"])
    assert len(rows) == 40 and rows["%-slow"].notna().all()
    with pytest.raises(RLConfigError, match=r"lack \['%-other'\]"):
        pretraining_rows(frame, ["%-trend", "%-other"])
    frame["%-slow"] = np.nan  # e.g. an external signal with no values for a generated market
    with pytest.raises(RLConfigError, match=r"always unknown: \['%-slow'\]"):
        pretraining_rows(frame, ["%-trend", "%-slow"])


def test_the_generated_markets_features_are_scaled_by_the_windows_pipeline() -> None:
    """The agent must see the generated market's features on the window's scale: the pipeline
    fitted on the window transforms them, it is not refitted."""
    window = pd.DataFrame({"%-trend": np.linspace(0.0, 10.0, 11), "%-slow": np.ones(11)})
    pipeline = Pipeline([("scaler", SKLearnWrapper(MinMaxScaler(feature_range=(-1, 1))))])
    pipeline.fit_transform(window)
    frame = _strategy_frame()
    features_list = list(frame.columns)  # FreqAI's list holds the raw columns too
    features, market = pretraining_inputs(frame, features_list, pipeline)
    assert list(features.columns) == ["%-trend", "%-slow"], "raw columns are not observed"
    # window: 0 -> -1, 10 -> +1; the generated market's 20 lies beyond, at +3
    assert features["%-trend"].iloc[-1] == pytest.approx(3.0)
    assert features["%-trend"].iloc[0] == pytest.approx(2 * (-20.0 + 40.0 / 49 * 10) / 10 - 1)
    assert list(market.columns[:6]) == ["open", "high", "low", "close", "funding_rate", "decision"]
    assert ["%-raw_choice_0", "%-raw_choice_1"] == list(market.columns[6:])
    assert len(market) == len(features) == 40


def test_a_strategy_without_synthetic_features_is_refused() -> None:
    with pytest.raises(RLConfigError, match="needs a strategy with synthetic_features"):
        PretrainingConfig(days=40).strategy_frame(object(), "BTC/USDT:USDT")
