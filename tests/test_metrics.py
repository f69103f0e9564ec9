"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from meta_strategy.metrics import buy_and_hold_equity, performance


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
