"""The walk-forward forecasts of ``bench/forecastability.py``: no forecast sees its own future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.forecastability import FORECASTERS, long_short, traded_sharpe, vetoed_base, walk_forward


def decisions(days: int = 200, hours: int = 24) -> tuple[pd.DataFrame, pd.Series]:
    index = pd.date_range(
        "2020-06-01 23:00", periods=days * 24 // hours, freq=f"{hours}h", tz="UTC"
    )
    rng = np.random.default_rng(1)
    features = pd.DataFrame(rng.normal(size=(len(index), 3)), index=index, columns=list("abc"))
    return features, pd.Series(rng.normal(scale=0.01, size=len(index)), index=index)


@pytest.mark.parametrize("hours", [24, 4])
def test_each_month_is_forecast_from_decisions_whose_outcome_had_closed(hours):
    features, outcome = decisions(hours=hours)
    seen = []

    def spy(train, target, test):
        seen.append((train.index.max(), test.index.min(), test.index.max()))
        assert train.index.equals(target.index)
        return np.zeros(len(test))

    start, end = pd.Timestamp("2020-09-01", tz="UTC"), pd.Timestamp("2020-12-01", tz="UTC")
    forecast = walk_forward(features, outcome, start, end, hours, spy)
    assert len(seen) == 3  # September, October, November
    for last_trained, first, last in seen:
        month = pd.Timestamp(first.year, first.month, 1, tz="UTC")
        assert last_trained + pd.Timedelta(hours=hours) < month <= first
        assert last < month + pd.offsets.MonthBegin(1)
    assert forecast.index.min() >= start and forecast.index.max() < end
    assert forecast.index.is_unique and forecast.index.is_monotonic_increasing


@pytest.mark.parametrize("model", sorted(FORECASTERS))
def test_the_forecasters_find_a_planted_signal(model):
    features, _ = decisions(days=600)
    outcome = 0.01 * features["a"] + pd.Series(
        np.random.default_rng(2).normal(scale=0.005, size=len(features)), index=features.index
    )
    start, end = pd.Timestamp("2021-01-01", tz="UTC"), pd.Timestamp("2022-01-01", tz="UTC")
    forecast = walk_forward(features, outcome, start, end, 24, FORECASTERS[model])
    assert forecast.corr(outcome[forecast.index], method="spearman") > 0.5


def test_fees_are_paid_on_each_change_of_position():
    index = pd.date_range("2021-01-01", periods=4, freq="D", tz="UTC")
    log_returns = pd.Series(np.log1p([0.01, 0.02, -0.01, 0.03]), index=index)
    position = pd.Series([1.0, 1.0, -1.0, 0.0], index=index)
    fee = pd.Series(0.001, index=index)
    expected = np.array([0.01 - 0.001, 0.02, 0.01 - 0.002, -0.001])
    sharpe, changes = traded_sharpe(log_returns, position, fee, 24)
    assert sharpe == pytest.approx(expected.mean() / expected.std(ddof=1) * np.sqrt(365))
    assert changes == 0.75


def test_a_veto_pays_a_fill_only_while_the_base_holds_a_position():
    index = pd.date_range("2021-01-01", periods=4, freq="D", tz="UTC")
    outcome = pd.Series(np.log1p([0.01, 0.0, 0.02, -0.01]), index=index)
    forecast = pd.Series([1.0, -1.0, 1.0, -1.0], index=index)
    vetoed = np.array([0.01, 0.0, 0.02, 0.0])
    free = vetoed.mean() / vetoed.std(ddof=1) * np.sqrt(365)
    flat = pd.Series(0.0, index=index)
    sharpe, changes, always = vetoed_base(forecast, outcome, flat, 0.001, 24)
    assert sharpe == pytest.approx(free)
    assert changes == 1.0  # entering on the first day counts as a change
    held = pd.Series(1.0, index=index)
    paid = vetoed - 0.001  # every decision flips the veto: one fill each
    assert vetoed_base(forecast, outcome, held, 0.001, 24)[0] == pytest.approx(
        paid.mean() / paid.std(ddof=1) * np.sqrt(365)
    )
    plain = np.expm1(outcome.to_numpy())
    assert always == pytest.approx(plain.mean() / plain.std(ddof=1) * np.sqrt(365))


def test_long_short_pays_two_fills_to_turn_around():
    index = pd.date_range("2021-01-01", periods=3, freq="D", tz="UTC")
    outcome = pd.Series(np.log1p([0.01, -0.02, 0.03]), index=index)
    forecast = pd.Series([0.5, -0.2, 0.1], index=index)
    net = np.array([0.01 - 0.001, 0.02 - 0.002, 0.03 - 0.002])
    sharpe, changes, _ = long_short(forecast, outcome, 0.001, 24)
    assert sharpe == pytest.approx(net.mean() / net.std(ddof=1) * np.sqrt(365))
    assert changes == 1.0


def test_a_rolling_window_forgets_what_is_older_than_its_days():
    features, outcome = decisions(days=300)
    first_trained = []

    def spy(train, target, test):
        first_trained.append((train.index.min(), test.index.min()))
        return np.zeros(len(test))

    start, end = pd.Timestamp("2021-01-01", tz="UTC"), pd.Timestamp("2021-03-01", tz="UTC")
    walk_forward(features, outcome, start, end, 24, spy, train_days=60)
    for oldest, first in first_trained:
        month = pd.Timestamp(first.year, first.month, 1, tz="UTC")
        assert month - pd.Timedelta(days=60) <= oldest < month - pd.Timedelta(days=59)
