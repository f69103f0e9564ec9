"""Tests of the deterministic synthetic BTC perpetual market (meta_strategy.data.synthetic)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.data.checks import validate_datadir
from meta_strategy.data.files import (
    SYNTHETIC_MARKER,
    candle_file,
    detect_datasets,
    read_synthetic_marker,
)
from meta_strategy.data.synthetic.config import SyntheticMarket, SyntheticMarketConfig
from meta_strategy.data.synthetic.files import SYNTHETIC_README, write_freqtrade_data
from meta_strategy.data.synthetic.simulate import generate_market
from meta_strategy.data.timeframes import resample_ohlcv


SHORT = SyntheticMarketConfig(seed=7, start="2023-01-01", end="2023-05-01")  # 120 days
PAIR = "BTC/USD:USD"


@pytest.fixture(scope="module")
def short_market() -> SyntheticMarket:
    return generate_market(SHORT)


@pytest.fixture(scope="module")
def default_market() -> SyntheticMarket:
    """The market `make backtest` writes offline: 2022-01-01..2024-01-01, seed 42 (~1 s)."""
    return generate_market(SyntheticMarketConfig())


def _hourly_log_returns(market: SyntheticMarket) -> np.ndarray:
    return np.diff(np.log(market.candles_at("1h")["close"].to_numpy()))


def _kurtosis(x: np.ndarray) -> float:
    """Pearson kurtosis E[(x - mu)^4] / sigma^4 (3 for a normal distribution)."""
    d = x - x.mean()
    return float((d**4).mean() / (d**2).mean() ** 2)


# --- determinism ------------------------------------------------------------------------


def test_same_seed_is_bit_identical(short_market: SyntheticMarket) -> None:
    again = generate_market(SHORT)
    for name in ("candles", "mark", "funding", "state"):
        pd.testing.assert_frame_equal(
            getattr(short_market, name), getattr(again, name), check_exact=True
        )


def test_different_seed_differs(short_market: SyntheticMarket) -> None:
    other = generate_market(SyntheticMarketConfig(seed=8, start=SHORT.start, end=SHORT.end))
    assert len(other.candles) == len(short_market.candles)
    assert not np.array_equal(other.candles["close"], short_market.candles["close"])
    assert not np.array_equal(other.funding["funding_rate"], short_market.funding["funding_rate"])


# --- shape and consistency --------------------------------------------------------------


def test_grid_and_dtypes(short_market: SyntheticMarket) -> None:
    c = short_market.candles
    assert list(c.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert str(c["date"].dtype) == "datetime64[ms, UTC]"
    assert all(c[col].dtype == np.float64 for col in c.columns[1:])
    assert len(c) == 120 * 288
    assert c["date"].iloc[0] == pd.Timestamp("2023-01-01", tz="UTC")
    assert (c["date"].diff().dropna() == pd.Timedelta("5min")).all()
    f = short_market.funding
    assert list(f.columns) == ["date", "funding_rate"]
    assert str(f["date"].dtype) == "datetime64[ms, UTC]"
    assert len(f) == 120 * 24
    assert (f["date"].diff().dropna() == pd.Timedelta("1h")).all()


@pytest.mark.parametrize("which", ["candles", "mark"])
def test_ohlc_consistent_and_positive(short_market: SyntheticMarket, which: str) -> None:
    df = getattr(short_market, which)
    o, h, lo, c = (df[k].to_numpy() for k in ("open", "high", "low", "close"))
    assert (lo > 0).all()
    assert (lo <= np.minimum(o, c)).all()
    assert (np.maximum(o, c) <= h).all()
    assert np.isfinite(df[["open", "high", "low", "close", "volume"]].to_numpy()).all()
    # A continuous market: each candle opens at the previous close.
    assert np.array_equal(o[1:], c[:-1])


def test_volume_positive_mark_volume_zero(short_market: SyntheticMarket) -> None:
    assert (short_market.candles["volume"] > 0).all()
    assert (short_market.mark["volume"] == 0).all()


def test_volume_rises_with_abs_return(short_market: SyntheticMarket) -> None:
    c = short_market.candles
    abs_ret = np.abs(np.log(c["close"] / c["open"]))
    assert np.corrcoef(abs_ret, np.log(c["volume"]))[0, 1] > 0.2


def test_prices_on_tick(short_market: SyntheticMarket) -> None:
    close = short_market.candles["close"].to_numpy()
    assert np.array_equal(np.round(close, 1), close)


def test_mark_tracks_close(short_market: SyntheticMarket) -> None:
    rel = short_market.mark["close"] / short_market.candles["close"] - 1
    assert rel.abs().median() < 3e-4
    assert rel.abs().max() < 2e-3


# --- statistical properties -------------------------------------------------------------


def test_hourly_magnitudes_realistic(default_market: SyntheticMarket) -> None:
    r = _hourly_log_returns(default_market)
    assert 0.004 < r.std() < 0.012
    assert 0.04 < np.abs(r).max() < 0.2  # occasional 5-10% hourly moves
    daily = np.diff(np.log(default_market.candles_at("1d")["close"].to_numpy()))
    assert 0.015 < daily.std() < 0.06


def test_fat_tails(short_market: SyntheticMarket, default_market: SyntheticMarket) -> None:
    assert _kurtosis(_hourly_log_returns(short_market)) > 3.0
    assert _kurtosis(_hourly_log_returns(default_market)) > 5.0


def test_volatility_clustering(
    short_market: SyntheticMarket, default_market: SyntheticMarket
) -> None:
    for market in (short_market, default_market):
        sq = _hourly_log_returns(market) ** 2
        rho = np.corrcoef(sq[1:], sq[:-1])[0, 1]
        # Under i.i.d. returns rho ~ N(0, 1/n): 3/sqrt(n) is far beyond chance.
        assert rho > 3.0 / np.sqrt(len(sq)), rho


def test_regimes_present_and_distinct(default_market: SyntheticMarket) -> None:
    state = default_market.state
    assert set(state["regime"].unique()) == {"bull", "bear", "sideways"}
    segments = (state["regime"] != state["regime"].shift()).sum()
    days = len(state) / 288
    assert 3 <= segments <= days / 7  # holding times of weeks to months
    r = np.log(default_market.candles["close"] / default_market.candles["open"])
    by_regime = r.groupby(state["regime"].to_numpy()).mean()
    assert by_regime["bull"] > by_regime["sideways"] > by_regime["bear"]
    sigma = state.groupby("regime", observed=True)["sigma"].median()
    assert sigma["bear"] > sigma["sideways"]


def test_funding_realistic(default_market: SyntheticMarket) -> None:
    rate = default_market.funding["funding_rate"]
    cfg = default_market.config
    assert rate.abs().max() <= cfg.funding_cap
    assert 1e-6 < rate.mean() < 1e-4  # small positive mean, per hour
    assert 5e-6 < rate.abs().median() < 1e-4
    assert 0.02 < (rate < 0).mean() < 0.5
    # Tilted by the regime at the funding time.
    regime = default_market.state.set_index("date")["regime"]
    at = regime.reindex(default_market.funding["date"] - pd.Timedelta("5min")).to_numpy()
    means = rate.groupby(at).mean()
    assert means["bull"] > means["bear"]


def test_config_rejects_nonstationary_garch() -> None:
    with pytest.raises(ValueError, match="alpha \\+ beta"):
        SyntheticMarketConfig(garch_alpha=0.1, garch_beta=0.9)
    with pytest.raises(ValueError, match="student_t_df"):
        SyntheticMarketConfig(student_t_df=2.0)
    with pytest.raises(ValueError, match="after start"):
        SyntheticMarketConfig(start="2023-01-01", end="2022-01-01")


def test_unconditional_vol_about_btc() -> None:
    assert 0.4 < SyntheticMarketConfig().unconditional_annual_vol < 0.8


# --- exact aggregation ------------------------------------------------------------------


def test_aggregation_is_exact(short_market: SyntheticMarket) -> None:
    c5 = short_market.candles
    m15 = resample_ohlcv(c5, "15m")
    h1_direct = resample_ohlcv(c5, "1h")
    h1_via_15m = resample_ohlcv(m15, "1h")
    pd.testing.assert_frame_equal(h1_direct, h1_via_15m, check_exact=True)
    h4_direct = resample_ohlcv(c5, "4h")
    pd.testing.assert_frame_equal(h4_direct, resample_ohlcv(h1_direct, "4h"), check_exact=True)
    h3 = resample_ohlcv(c5, "3h")
    pd.testing.assert_frame_equal(resample_ohlcv(h1_direct, "3h"), h3, check_exact=True)
    d1 = resample_ohlcv(c5, "1d")
    pd.testing.assert_frame_equal(resample_ohlcv(h4_direct, "1d"), d1, check_exact=True)
    assert len(h1_direct) == 120 * 24 and len(d1) == 120
    assert str(h1_direct["date"].dtype) == "datetime64[ms, UTC]"
    first = h1_direct.iloc[0]
    block = c5.iloc[:12]
    assert first["open"] == block["open"].iloc[0] and first["close"] == block["close"].iloc[-1]
    assert first["high"] == block["high"].max() and first["low"] == block["low"].min()
    assert first["volume"] == block["volume"].sum()


def test_aggregation_drops_incomplete_and_aligns_to_epoch(short_market: SyntheticMarket) -> None:
    c5 = short_market.candles.iloc[1:-1]  # starts 00:05, ends 23:50
    h1 = resample_ohlcv(c5, "1h", source_timeframe="5m")
    assert h1["date"].iloc[0] == pd.Timestamp("2023-01-01 01:00", tz="UTC")
    assert h1["date"].iloc[-1] == pd.Timestamp("2023-04-30 22:00", tz="UTC")
    assert (h1["date"].dt.minute == 0).all()
    w = resample_ohlcv(short_market.candles, "1w")
    assert (w["date"].dt.dayofweek == 0).all()  # weeks open on Monday
    with pytest.raises(ValueError, match="multiple"):
        resample_ohlcv(short_market.candles_at("15m"), "20m")


def test_aggregation_agrees_with_freqtrade(short_market: SyntheticMarket) -> None:
    from freqtrade.exchange import timeframe_to_resample_freq

    ours = short_market.candles_at("1h")
    agg = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    theirs = (
        short_market.candles.resample(timeframe_to_resample_freq("1h"), on="date")
        .agg(agg)
        .reset_index()
    )
    assert len(ours) == len(theirs)
    for col in agg:
        np.testing.assert_array_equal(ours[col].to_numpy(), theirs[col].to_numpy())


# --- Freqtrade files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, short_market: SyntheticMarket):
    datadir = tmp_path_factory.mktemp("synthetic") / "krakenfutures"
    paths = write_freqtrade_data(short_market, datadir, pair=PAIR)
    return datadir, paths


def test_files_in_freqtrade_layout(written: tuple[Path, list[Path]]) -> None:
    datadir, paths = written
    names = sorted(p.relative_to(datadir).as_posix() for p in paths)
    assert names == sorted(
        [
            SYNTHETIC_MARKER,
            SYNTHETIC_README,
            "futures/BTC_USD_USD-5m-futures.feather",
            "futures/BTC_USD_USD-15m-futures.feather",
            "futures/BTC_USD_USD-1h-futures.feather",
            "futures/BTC_USD_USD-4h-futures.feather",
            "futures/BTC_USD_USD-5m-mark.feather",
            "futures/BTC_USD_USD-15m-mark.feather",
            "futures/BTC_USD_USD-1h-mark.feather",
            "futures/BTC_USD_USD-4h-mark.feather",
            "futures/BTC_USD_USD-1h-funding_rate.feather",
            *(f"futures/BTC_USD_USD-{tf}-index.feather" for tf in ("5m", "15m", "1h", "4h")),
            *(f"BTC_USD-{tf}.feather" for tf in ("5m", "15m", "1h", "4h")),
        ]
    )
    fr = pd.read_feather(candle_file(datadir, PAIR, "1h", "funding_rate"))
    assert list(fr.columns) == ["date", "funding_rate"]
    assert fr.dtypes.astype(str).to_dict() == {
        "date": "datetime64[ms, UTC]",
        "funding_rate": "float64",
    }
    mark = pd.read_feather(candle_file(datadir, PAIR, "1h", "mark"))
    assert mark.dtypes.astype(str).to_dict() == {
        "date": "datetime64[ms, UTC]",
        **dict.fromkeys(["open", "high", "low", "close", "volume"], "float64"),
    }


@pytest.mark.parametrize(
    ("timeframe", "candle_type", "rows"),
    [
        ("5m", "futures", 120 * 288),
        ("15m", "futures", 120 * 96),
        ("1h", "futures", 120 * 24),
        ("4h", "futures", 120 * 6),
        ("1h", "mark", 120 * 24),
        ("1h", "funding_rate", 120 * 24),
    ],
)
def test_freqtrade_loads_files(
    written: tuple[Path, list[Path]],
    short_market: SyntheticMarket,
    timeframe: str,
    candle_type: str,
    rows: int,
) -> None:
    from freqtrade.data.history import load_pair_history
    from freqtrade.enums import CandleType

    datadir, _ = written
    df = load_pair_history(
        pair=PAIR,
        timeframe=timeframe,
        datadir=datadir,
        data_format="feather",
        candle_type=CandleType.from_string(candle_type),
    )
    assert len(df) == rows
    if candle_type == "funding_rate":
        np.testing.assert_array_equal(df["funding_rate"], short_market.funding["funding_rate"])
    elif candle_type == "futures":
        ours = short_market.candles_at(timeframe)
        np.testing.assert_array_equal(df["close"], ours["close"])
        assert (df["date"].to_numpy() == ours["date"].to_numpy()).all()


def test_freqtrade_lists_same_datasets(written: tuple[Path, list[Path]]) -> None:
    from freqtrade.data.history.datahandlers.featherdatahandler import FeatherDataHandler
    from freqtrade.enums import TradingMode

    datadir, _ = written
    theirs = [
        (p, tf, str(ct.value))
        for mode in (TradingMode.FUTURES, TradingMode.SPOT)
        for p, tf, ct in FeatherDataHandler.ohlcv_get_available_data(datadir, mode)
    ]
    assert sorted(theirs) == sorted(detect_datasets(datadir))


def test_synthetic_marker(written: tuple[Path, list[Path]]) -> None:
    datadir, _ = written
    marker = read_synthetic_marker(datadir)
    assert marker is not None and marker["synthetic"] is True
    assert "SYNTHETIC" in str(marker["warning"]) and "NOT REAL" in str(marker["warning"])
    config = marker["config"]
    assert isinstance(config, dict) and config["seed"] == 7
    assert config["start"].startswith("2023-01-01")
    assert json.loads((datadir / SYNTHETIC_MARKER).read_text())["pair"] == PAIR
    assert "NOT real" in (datadir / SYNTHETIC_README).read_text()


def test_written_datadir_passes_preflight(written: tuple[Path, list[Path]]) -> None:
    datadir, _ = written
    reports = validate_datadir(datadir, [PAIR], ["5m", "1h"], "futures", "20230201-20230301")
    assert [r.candle_type for r in reports] == ["futures", "futures", "mark", "funding_rate"]
    assert all(r.synthetic and r.gaps == 0 and not r.warnings for r in reports)
    assert "[SYNTHETIC]" in str(reports[0])


def test_refuses_to_overwrite_real_data(tmp_path: Path, short_market: SyntheticMarket) -> None:
    real = candle_file(tmp_path, PAIR, "1h", "futures")
    real.parent.mkdir(parents=True)
    real.write_bytes(b"pretend this is real data")
    with pytest.raises(FileExistsError, match="SYNTHETIC"):
        write_freqtrade_data(short_market, tmp_path, pair=PAIR)
    assert real.read_bytes() == b"pretend this is real data"


def test_rewrites_synthetic_folder(tmp_path: Path) -> None:
    market = generate_market(SyntheticMarketConfig(seed=1, start="2023-01-01", end="2023-01-05"))
    first = write_freqtrade_data(market, tmp_path, timeframes=("1h",))
    second = write_freqtrade_data(market, tmp_path, timeframes=("1h",))
    assert first == second


def test_index_and_spot_are_the_reference_price(
    written: tuple[Path, list[Path]], short_market: SyntheticMarket
) -> None:
    """The perpetual's premium over the index (and the spot pair) is the basis at the close."""
    datadir, _ = written
    perp = pd.read_feather(candle_file(datadir, PAIR, "1h", "futures"))
    index = pd.read_feather(candle_file(datadir, PAIR, "1h", "index"))
    spot = pd.read_feather(candle_file(datadir, "BTC/USD", "1h", "spot"))
    basis_at_close = short_market.state.set_index("date")["basis"].resample("1h").last()
    premium = perp["close"].to_numpy() / index["close"].to_numpy() - 1.0
    np.testing.assert_allclose(premium, basis_at_close.to_numpy(), rtol=1e-9, atol=1e-12)
    assert (index["volume"] == 0).all()
    assert (index["high"] >= index[["open", "close"]].max(axis=1)).all()
    assert (index["low"] <= index[["open", "close"]].min(axis=1)).all()
    np.testing.assert_array_equal(spot["close"].to_numpy(), index["close"].to_numpy())
    np.testing.assert_array_equal(spot["volume"].to_numpy(), perp["volume"].to_numpy())


def test_the_market_served_as_freqtrades_data_provider_serves_its_files(
    written: tuple[Path, list[Path]], short_market: SyntheticMarket
) -> None:
    """What a strategy reads through the provider is what the written files hold."""
    from meta_strategy.data.synthetic.provider import SyntheticMarketData

    datadir, _ = written
    provider = SyntheticMarketData(short_market, PAIR)
    assert provider.current_whitelist() == [PAIR]
    for pair, candle_type in ((PAIR, "futures"), (PAIR, "mark"), ("BTC/USD", "spot")):
        written = pd.read_feather(candle_file(datadir, pair, "1h", candle_type))
        served = provider.get_pair_dataframe(pair, "1h", candle_type)
        np.testing.assert_array_equal(served["close"].to_numpy(), written["close"].to_numpy())
    funding = pd.read_feather(candle_file(datadir, PAIR, "1h", "funding_rate"))
    served = provider.get_pair_dataframe(PAIR, "1h", candle_type="funding_rate")
    np.testing.assert_array_equal(served["funding_rate"], funding["funding_rate"])
    with pytest.raises(ValueError, match="unknown candle type 'premium'"):
        provider.get_pair_dataframe(PAIR, "1h", "premium")
