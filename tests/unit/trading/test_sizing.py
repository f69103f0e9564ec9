"""Volatility-targeted sizing (meta_strategy.trading.sizing): the formula, the config, the stake."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from meta_strategy.trading.config import BitBotConfigError
from meta_strategy.trading.sizing import VolatilityTarget
from tests.helpers.freqtrade import load_strategy


def _closes(n: int, daily_vol: float, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(30000 * np.exp(np.cumsum(rng.normal(0, daily_vol / np.sqrt(24), n))))


def test_scale_is_the_target_over_the_trailing_volatility() -> None:
    close = _closes(24 * 60, 0.03)
    target = VolatilityTarget(target_volatility=0.2, volatility_days=10, max_scale=1.0)
    scale = target.scale(close, "1h")
    t = 24 * 40
    returns = np.diff(np.log(close.to_numpy()[t - 240 : t + 1]))  # the 240 log returns up to t
    sigma = returns.std(ddof=1) * np.sqrt(365 * 24)
    assert scale.iloc[t] == pytest.approx(min(1.0, 0.2 / sigma))
    assert 0.2 / sigma < 1.0  # a 3 % daily market is above a 20 % annual target
    assert (scale.iloc[:240] == 1.0).all()  # until the window is full: max_scale
    calm = VolatilityTarget(target_volatility=2.0, volatility_days=10, max_scale=0.8)
    assert (calm.scale(close, "1h") == 0.8).all()  # capped
    assert (VolatilityTarget().scale(close, "1h") == 1.0).all()  # off


def test_scale_uses_only_past_candles() -> None:
    close = _closes(24 * 40, 0.04, seed=3)
    target = VolatilityTarget(target_volatility=0.3, volatility_days=7)
    full = target.scale(close, "1h")
    changed = close.copy()
    changed.iloc[500:] *= np.exp(np.random.default_rng(1).normal(0, 0.1, len(close) - 500))
    pd.testing.assert_series_equal(full.iloc[:500], target.scale(changed, "1h").iloc[:500])
    # at 4h a day is 6 candles: the window follows the timeframe
    four = close.iloc[::4].reset_index(drop=True)
    assert target.scale(four, "4h").iloc[:42].eq(1.0).all()
    assert target.scale(four, "4h").iloc[43:].lt(1.0).any()


@pytest.mark.parametrize(
    ("sizing", "names"),
    [
        ({"target_volatility": -0.4}, "bitbot.sizing.target_volatility is -0.4"),
        ({"target_volatility": "40%"}, "bitbot.sizing.target_volatility must be a number"),
        ({"target_volatility": 0.4, "volatility_days": 1}, "bitbot.sizing.volatility_days is 1"),
        ({"target_volatility": 0.4, "max_scale": 1.5}, "bitbot.sizing.max_scale is 1.5"),
        ({"target_vol": 0.4}, "did you mean 'target_volatility'"),
    ],
)
def test_bad_sizing_values_are_named(sizing: dict, names: str) -> None:
    with pytest.raises(BitBotConfigError, match=names):
        VolatilityTarget.from_config({"bitbot": {"sizing": sizing}})


@pytest.mark.parametrize("name", ["OTTStrategy", "VolatilitySystem", "EqualVoteStrategy"])
def test_every_strategy_stakes_the_scaled_stake(name: str) -> None:
    close = _closes(24 * 60, 0.05, seed=2)
    candles = pd.DataFrame({"close": close})
    strategy = load_strategy(name, sizing={"target_volatility": 0.3, "volatility_days": 20})
    strategy.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (candles, None))
    scale = strategy.volatility_target.scale(close, "1h").iloc[-1]
    assert 0.1 < scale < 1.0
    stake = strategy.custom_stake_amount(
        "BTC/USDT:USDT", None, 30000.0, 1000.0, 10.0, 5000.0, 1.0, None, "long"
    )
    share = 0.5 if name == "VolatilitySystem" else 1.0  # its first entry is half the stake
    assert stake == pytest.approx(1000.0 * share * scale)
    unsized = load_strategy(name)
    unsized.dp = strategy.dp
    assert unsized.custom_stake_amount(
        "BTC/USDT:USDT", None, 30000.0, 1000.0, 10.0, 5000.0, 1.0, None, "long"
    ) == pytest.approx(1000.0 * share)


def test_the_startup_covers_the_volatility_window() -> None:
    """The first candle traded already knows its volatility (30 days at 1h: 721 candles)."""
    assert VolatilityTarget(0.4, 30).warmup_candles("1h") == 721
    assert VolatilityTarget(0.4, 30).warmup_candles("4h") == 181
    assert VolatilityTarget().warmup_candles("1h") == 0
    sized = load_strategy("OTTStrategy", sizing={"target_volatility": 0.4, "volatility_days": 30})
    assert load_strategy("OTTStrategy").startup_candle_count == 300
    assert sized.startup_candle_count == 721
