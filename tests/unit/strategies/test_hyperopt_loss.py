"""CalmarDrawdownLoss against hand-computed values."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.helpers.freqtrade import REPO


spec = importlib.util.spec_from_file_location(
    "CalmarDrawdownLoss", REPO / "hyperopts" / "CalmarDrawdownLoss.py"
)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
LOSS = module.CalmarDrawdownLoss.hyperopt_loss_function

START = datetime(2024, 1, 1, tzinfo=UTC)
ONE_YEAR_LATER = datetime(2024, 12, 31, 6, tzinfo=UTC)  # 365.25 days


def _results(profits: list[float]) -> pd.DataFrame:
    dates = pd.date_range("2024-02-01", periods=len(profits), freq="D", tz="UTC")
    return pd.DataFrame({"profit_abs": profits, "close_date": dates})


def _loss(profits: list[float], config: dict | None = None) -> float:
    return LOSS(
        results=_results(profits),
        trade_count=len(profits),
        min_date=START,
        max_date=ONE_YEAR_LATER,
        config=config or {},
        starting_balance=1000.0,
    )


def test_drawdown_of_closed_trade_equity() -> None:
    # 1000 -> 1100 -> 880 -> 990: peak 1100, trough 880 -> 20 %.
    assert module.closed_trade_drawdown([100, -220, 110], 1000) == pytest.approx(0.2)
    assert module.closed_trade_drawdown([10, 10], 1000) == 0.0


def test_calmar_with_hand_computed_figures() -> None:
    profits = [100.0, -220.0, 110.0] + [1.0] * 17  # 20 trades, final 1007
    cagr = 1007 / 1000 - 1  # exactly one year
    assert _loss(profits) == pytest.approx(-(cagr / 0.2))


def test_penalties_for_deep_drawdown_and_few_trades() -> None:
    profits = [300.0, -650.0, 100.0]  # peak 1300, trough 650: MDD 50 %, final 750
    cagr = 750 / 1000 - 1
    expected = -(cagr / 0.5) + 10.0 * (0.5 - 0.25) + 0.5 * (20 - 3)
    assert _loss(profits) == pytest.approx(expected)
    relaxed = {"bitbot": {"hyperopt_loss": {"min_trades": 3, "drawdown_limit": 0.6}}}
    assert _loss(profits, relaxed) == pytest.approx(-(cagr / 0.5))


def test_no_trades_and_ruin_are_worst() -> None:
    assert _loss([]) > _loss([-40.0] * 20)
    assert _loss([-500.0] * 20) >= _loss([]), "a wiped-out account must not beat doing nothing"
