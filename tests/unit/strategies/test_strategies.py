"""The registry's strategies: futures long and short, causal signals, hyperopt parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode

from meta_strategy.data.reference import ReferencePriceError
from meta_strategy.paths import SIGNAL_STRATEGIES
from meta_strategy.signals.registry import startup_candles
from tests.helpers.frames import future_inputs_changed, prices_scaled_after, with_market_inputs
from tests.helpers.freqtrade import MarketDataProvider, load_strategy, strategy_signals


STRATEGIES = SIGNAL_STRATEGIES
SIGNALS = ["enter_long", "enter_short", "exit_long", "exit_short"]


def load_started_strategy(name: str, **bitbot: float):
    strategy = load_strategy(name, **bitbot)
    strategy.ft_bot_start()  # loads the hyperopt parameters, as Freqtrade does at start-up
    return strategy


@pytest.fixture(scope="module")
def recent(btc_1h: pd.DataFrame, binance_datadir: Path) -> pd.DataFrame:
    since = btc_1h[btc_1h["date"] >= "2022-01-01"].reset_index(drop=True)
    return with_market_inputs(since, binance_datadir)


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy_is_a_futures_long_short_strategy(name: str) -> None:
    strategy = load_started_strategy(name)
    assert strategy.INTERFACE_VERSION == 3
    assert strategy.can_short is True
    assert strategy.timeframe == "1h"
    params = [param for _, param in strategy.enumerate_parameters()]
    assert params, f"{name} declares no hyperopt parameters"
    assert {param.space for param in params} <= {"buy", "sell"}
    assert all(param.optimize for param in params)


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy_signals_long_and_short_on_real_data(name: str, recent: pd.DataFrame) -> None:
    df = strategy_signals(load_started_strategy(name), recent)
    for column in ("enter_long", "enter_short"):
        assert (df[column] == 1).sum() > 5, f"{name}: too few {column} signals"
    for column in ("exit_long", "exit_short"):
        assert (df[column] == 1).sum() > 5, f"{name}: too few {column} signals"


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy_signals_do_not_look_ahead(
    name: str, any_market_1h: pd.DataFrame, any_market_datadir: Path
) -> None:
    """Changing every candle after t changes no indicator or signal at or before t."""
    strategy = load_started_strategy(name)
    candles = with_market_inputs(
        any_market_1h.iloc[-6000:].reset_index(drop=True), any_market_datadir
    )
    full = strategy_signals(strategy, candles)
    rng = np.random.default_rng(1)
    for cut in (3001, 4502, 5997):
        changed = prices_scaled_after(candles, cut, rng, 0.8, 1.25)
        future_inputs_changed(changed, cut, rng)
        part = strategy_signals(strategy, changed)
        columns = [c for c in full.columns if c in part.columns]
        pd.testing.assert_frame_equal(
            full.loc[:cut, columns], part.loc[:cut, columns], check_dtype=False
        )


def test_reference_parameters_are_the_defaults() -> None:
    st = load_started_strategy("SupertrendStrategy")
    buys = [
        (st.buy_m1.value, st.buy_p1.value),
        (st.buy_m2.value, st.buy_p2.value),
        (st.buy_m3.value, st.buy_p3.value),
    ]
    sells = [
        (st.sell_m1.value, st.sell_p1.value),
        (st.sell_m2.value, st.sell_p2.value),
        (st.sell_m3.value, st.sell_p3.value),
    ]
    assert buys == [(4, 8), (7, 9), (1, 8)]
    assert sells == [(1, 16), (3, 18), (6, 18)]
    ott = load_started_strategy("OTTStrategy")
    assert (ott.ott_length.value, ott.ott_percent.value, ott.adx_exit.value) == (2, 1.4, 60)
    vs = load_started_strategy("VolatilitySystem")
    assert (vs.resample_hours.value, vs.atr_period.value, vs.atr_multiplier.value) == (3, 14, 2.0)
    bb = load_started_strategy("BbandRsi")
    assert (bb.rsi_period.value, bb.bb_window.value, bb.bb_stds.value) == (14, 20, 2.0)
    assert (bb.rsi_entry.value, bb.rsi_exit.value) == (30, 70)


def test_volatility_system_signals_once_per_htf_candle(recent: pd.DataFrame) -> None:
    df = strategy_signals(
        load_started_strategy("VolatilitySystem"), recent.iloc[-3000:].reset_index(drop=True)
    )
    hits = df.index[(df["enter_long"] == 1) | (df["enter_short"] == 1)]
    assert len(hits) > 0
    assert (np.diff(hits) >= 3).all(), "a 3h breakout must fire on one 1h candle only"
    # A breakout appears on the base candle at which the 3h candle closes (hour 2, 5, 8, ...).
    assert set(df.loc[hits, "date"].dt.hour % 3) == {2}


@pytest.mark.parametrize("name", STRATEGIES)
def test_leverage_comes_from_config(name: str) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    default = load_started_strategy(name)
    assert default.leverage("BTC/USDT:USDT", now, 1.0, 1.0, 50.0, None, "long") == 1.0
    three = load_started_strategy(name, leverage=3)
    assert three.leverage("BTC/USDT:USDT", now, 1.0, 1.0, 50.0, None, "short") == 3.0
    assert three.leverage("BTC/USDT:USDT", now, 1.0, 1.0, 2.0, None, "short") == 2.0
    with pytest.raises(ValueError, match=r"bitbot.leverage is 0.5; expected a value from 1 to"):
        load_started_strategy(name, leverage=0.5)  # fails at start-up, before any trade
    with pytest.raises(ValueError, match=r"bitbot\.leverage must be a number"):
        load_started_strategy(name, leverage="3x")


def test_startup_candles_follow_the_timeframe_and_the_parameters() -> None:
    """
    For Freqtrade, ``startup_candle_count`` is a plain number covering the hyperopt ranges at
    1h (its analyses vary it); ``startup_candles()`` is what the timeframe and the parameters
    in use need, which the registry checks an entry's lookback against.
    """
    donchian = load_started_strategy("DonchianBreakout")
    assert donchian.startup_candle_count == 2 * 90 * 24 + 1  # 90 days: the range's top
    assert donchian.lookbacks() == [120, 224, 416, 774, 1440]  # 5 to 60 days, geometric, at 1h
    assert donchian.startup_candles() == 2 * 60 * 24 + 1
    donchian.timeframe = "1d"
    assert donchian.lookbacks() == [5, 10, 18, 33, 60]
    assert startup_candles(donchian) == 121
    trend = load_started_strategy("MovingAverageTrend")
    assert trend.startup_candle_count == 300
    assert trend.startup_candles() == 5 * 36  # five slow periods, beyond the 100 of the filter
    trend.slow_period.value = 21
    trend.trend_period.value = 150
    assert startup_candles(trend) == 150
    assert startup_candles(load_started_strategy("OTTStrategy")) == 300  # no method: the count
    funding = load_started_strategy("FundingExtremes")
    assert (funding.startup_candle_count, funding.startup_candles()) == (61 * 24, 31 * 24)
    vwap = load_started_strategy("VwapReversion")
    assert (vwap.startup_candle_count, vwap.startup_candles()) == (400, 200)
    basis = load_started_strategy("PerpSpotBasis")
    assert (basis.startup_candle_count, basis.startup_candles()) == (61 * 24, 31 * 24)


def test_perp_spot_basis_reads_the_spot_pair_itself(
    recent: pd.DataFrame, binance_datadir: Path
) -> None:
    """Standalone (Freqtrade's data provider) it trades as on the column the engine hands it."""
    handed = strategy_signals(load_started_strategy("PerpSpotBasis"), recent)
    standalone = load_started_strategy("PerpSpotBasis")
    standalone.dp = MarketDataProvider(binance_datadir)
    assert standalone.informative_pairs() == [("BTC/USDT", "1h", "spot")]
    own = strategy_signals(standalone, recent.drop(columns="reference_close"))
    pd.testing.assert_series_equal(own["premium_z"], handed["premium_z"])
    assert own["premium"].iloc[-1000:].notna().all()
    assert (own["premium"].dropna().abs() < 0.05).all()  # a premium, not a price


def test_perp_spot_basis_without_its_reference_names_the_file(recent: pd.DataFrame) -> None:
    strategy = load_started_strategy("PerpSpotBasis")
    strategy.dp = SimpleNamespace(
        runmode=RunMode.BACKTEST, get_pair_dataframe=lambda *a, **k: pd.DataFrame()
    )
    datadir = Path(strategy.config["datadir"])
    with pytest.raises(ReferencePriceError) as error:
        strategy_signals(strategy, recent.drop(columns="reference_close"))
    assert str(datadir / "BTC_USDT-1h.feather") in str(error.value)
    assert "spot candles of BTC/USDT (1h)" in str(error.value)
