"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from meta_strategy.research.metrics import buy_and_hold_equity, performance


def test_performance_by_hand() -> None:
    equity = pd.Series([100.0, 110.0, 99.0, 108.9])
    r = np.array([0.1, -0.1, 0.1])
    p = performance(equity)
    assert p.total_return == pytest.approx(0.089)
    assert p.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365))
    assert p.sortino == pytest.approx(r.mean() / math.sqrt(0.01 / 3) * math.sqrt(365))
    assert p.max_drawdown == pytest.approx(0.1)


def test_buy_and_hold_pays_funding_and_fees() -> None:
    dates = pd.date_range("2024-01-01", periods=48, freq="1h", tz="UTC")
    candles = pd.DataFrame({"date": dates, "open": 100.0, "close": 100.0})
    candles.loc[24:, ["open", "close"]] = 110.0
    funding = pd.DataFrame({"date": [dates[8], dates[32]], "funding_rate": [0.001, -0.0005]})
    daily, paid = buy_and_hold_equity(candles, funding, "2024-01-01", "2024-01-03", fee=0.001)
    q = 0.999 / 100
    assert paid == pytest.approx(q * 100 * 0.001 - q * 110 * 0.0005)
    assert daily.iloc[0] == 1.0
    assert daily.iloc[1] == pytest.approx(q * 100 - q * 0.1)
    assert daily.iloc[-1] == pytest.approx(q * 110 - paid - 0.001 * q * 110)


def test_sharpe_annualisation_for_hourly_and_daily_bars() -> None:
    from meta_strategy.research.metrics import PERIODS_PER_YEAR, sharpe_ratio

    r = np.array([0.01, -0.005, 0.002, 0.004])
    per_bar = r.mean() / r.std(ddof=1)
    assert sharpe_ratio(r, PERIODS_PER_YEAR["1h"]) == pytest.approx(per_bar * math.sqrt(8760))
    assert sharpe_ratio(r, PERIODS_PER_YEAR["1d"]) == pytest.approx(per_bar * math.sqrt(365))
    assert sharpe_ratio(np.zeros(5), 365) == 0.0


def test_cagr_and_drawdown_duration() -> None:
    from meta_strategy.research.metrics import cagr, drawdown_duration

    assert cagr(100, 121, 2 * 365.25) == pytest.approx(0.1)
    assert cagr(100, 0, 30) == -1.0
    idx = pd.date_range("2024-01-01", periods=7, freq="D", tz="UTC")
    equity = pd.Series([100, 110, 105, 100, 111, 109, 108], index=idx)
    # Under water from day 1 (peak 110) to day 4 (new peak 111): 3 days; then 2 days to the end.
    assert drawdown_duration(equity) == pd.Timedelta(days=3)
    assert drawdown_duration(pd.Series([1.0, 2, 3], index=idx[:3])) == pd.Timedelta(0)
    never_back = pd.Series([5.0, 4, 3, 4], index=idx[:4])
    assert drawdown_duration(never_back) == pd.Timedelta(days=3)


def test_profit_factor_and_btc_multiple() -> None:
    from meta_strategy.research.metrics import btc_multiple, profit_factor

    assert profit_factor([10, -5, 20, -10]) == pytest.approx(2.0)
    assert profit_factor([1, 2]) == math.inf and profit_factor([]) == 0.0
    # 10,000 USD at BTC 50,000 (0.2 BTC) -> 12,000 USD at BTC 100,000 (0.12 BTC): 0.6
    assert btc_multiple(10_000, 12_000, 50_000, 100_000) == pytest.approx(0.6)


def test_bootstrap_interval_is_reproducible_and_contains_the_estimate() -> None:
    from meta_strategy.research.metrics import bootstrap_sharpe_ci, sharpe_ratio

    rng = np.random.default_rng(5)
    r = rng.normal(0.001, 0.01, 2000)
    low, high = bootstrap_sharpe_ci(r, 365, samples=300, seed=1)
    assert (low, high) == bootstrap_sharpe_ci(r, 365, samples=300, seed=1)
    assert low < sharpe_ratio(r, 365) < high
    assert high - low > 0.5


def test_stationary_bootstrap_glues_blocks_of_the_mean_length() -> None:
    from meta_strategy.research.metrics import stationary_bootstrap_indices

    n, block = 1000, 10
    lengths = []
    for idx in stationary_bootstrap_indices(n, block, 50, np.random.default_rng(0)):
        assert len(idx) == n and idx.min() >= 0 and idx.max() < n
        # within a block the series runs on, wrapping at the end
        breaks = np.flatnonzero(idx[1:] != (idx[:-1] + 1) % n)
        lengths += list(np.diff(np.r_[-1, breaks, n - 1]))
    assert np.mean(lengths) == pytest.approx(block, rel=0.1)


def test_paired_sharpe_difference_sees_a_gap_the_separate_intervals_do_not() -> None:
    from meta_strategy.research.metrics import (
        bootstrap_sharpe_ci,
        sharpe_difference,
        sharpe_ratio,
    )

    rng = np.random.default_rng(3)
    market = rng.normal(0.0005, 0.03, 1000)
    better = market + 0.0012 + rng.normal(0.0, 0.002, 1000)  # the market, plus a steady edge
    paired = sharpe_difference(better, market, 365, block=5, samples=400, seed=0)
    assert paired.difference == pytest.approx(sharpe_ratio(better, 365) - sharpe_ratio(market, 365))
    assert 0 < paired.ci_low < paired.difference < paired.ci_high
    assert paired.share_not_above < 0.025
    own_low, own_high = bootstrap_sharpe_ci(better, 365, block=5, samples=400, seed=0)
    _, market_high = bootstrap_sharpe_ci(market, 365, block=5, samples=400, seed=0)
    assert own_low < market_high, "their separate intervals overlap"
    assert paired.ci_high - paired.ci_low < (own_high - own_low) / 3
    # reproducible, and antisymmetric in its difference
    assert paired == sharpe_difference(better, market, 365, block=5, samples=400, seed=0)
    reverse = sharpe_difference(market, better, 365, block=5, samples=400, seed=0)
    assert reverse.difference == pytest.approx(-paired.difference)
    assert (reverse.ci_low, reverse.ci_high) == pytest.approx((-paired.ci_high, -paired.ci_low))


def test_paired_sharpe_difference_of_a_run_with_itself_is_zero() -> None:
    from meta_strategy.research.metrics import sharpe_difference

    r = np.random.default_rng(4).normal(0.001, 0.02, 300)
    same = sharpe_difference(r, 2 * r, 365, samples=100)  # doubling the stake keeps the Sharpe
    assert same.difference == pytest.approx(0.0, abs=1e-12)
    assert same.ci_low == pytest.approx(0.0, abs=1e-12)
    assert same.ci_high == pytest.approx(0.0, abs=1e-12)


def test_paired_sharpe_difference_needs_the_same_bars() -> None:
    from meta_strategy.research.metrics import sharpe_difference

    with pytest.raises(ValueError, match="same bars; got 10 and 9"):
        sharpe_difference(np.zeros(10), np.zeros(9), 365)


def test_deflated_sharpe_by_hand() -> None:
    from scipy.stats import kurtosis, norm, skew

    from meta_strategy.research.metrics import EULER_GAMMA, deflated_sharpe_ratio

    rng = np.random.default_rng(9)
    r = rng.normal(0.002, 0.01, 500)
    sr = r.mean() / r.std(ddof=1)
    v, n = 0.0004, 20
    sr0 = math.sqrt(v) * (
        (1 - EULER_GAMMA) * norm.ppf(1 - 1 / n) + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e))
    )
    z = (
        (sr - sr0)
        * math.sqrt(499)
        / math.sqrt(1 - skew(r) * sr + (kurtosis(r, fisher=False) - 1) / 4 * sr**2)
    )
    assert deflated_sharpe_ratio(r, n, v) == pytest.approx(norm.cdf(z))
    # More trials make the same record less convincing.
    assert deflated_sharpe_ratio(r, 200, v) < deflated_sharpe_ratio(r, 20, v)
    # One trial: the probabilistic Sharpe ratio against 0.
    assert deflated_sharpe_ratio(r, 1, v) > 0.99


def test_regimes_use_trailing_data_only() -> None:
    from meta_strategy.research.metrics import classify_regimes

    days = pd.date_range("2024-01-01", periods=200, freq="D", tz="UTC")
    rng = np.random.default_rng(4)
    noise = rng.normal(0, 0.01, 200)
    drift = np.r_[np.full(80, 0.01), np.full(60, 0.0), np.full(60, -0.01)]
    close = pd.Series(100 * np.exp(np.cumsum(drift + noise)), index=days)
    labels = classify_regimes(close, window=30)
    assert (labels.iloc[:30] == "unknown").all()
    assert labels.iloc[60:80].eq("bull").all()
    assert labels.iloc[175:].eq("bear").all()
    assert "sideways" in set(labels.iloc[110:140])
    # Changing the future changes no earlier label.
    changed = close.copy()
    changed.iloc[150:] *= 3
    pd.testing.assert_series_equal(labels.iloc[:150], classify_regimes(changed, 30).iloc[:150])


def test_returns_by_group_compound_within_groups() -> None:
    from meta_strategy.research.metrics import returns_by_group

    idx = pd.date_range("2024-12-30", periods=5, freq="D", tz="UTC")
    equity = pd.Series([100.0, 110.0, 99.0, 108.9, 108.9], index=idx)
    years = pd.Series(idx.year, index=idx)
    out = returns_by_group(equity, years)
    assert out[2024] == pytest.approx(0.10)  # 12-31: 100 -> 110
    assert out[2025] == pytest.approx(99 / 110 * 1.1 * 1.0 - 1)
