"""
The cost-aware LightGBM stacker: each walk-forward window's model learns nothing from the
candles it predicts. Its label looks 24 candles ahead; FreqAI (since it labels the history cut
at the training window's end) leaves the window's last day unlabelled instead of labelling it
with the next window's prices. This test holds it to that.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.freqtrade import backtest_predictions, freqai_backtest, market_jumping_at


pytestmark = pytest.mark.slow

CONFIGS = ["-c", "user_data/config.json", "-c", "user_data/config.binance.json"]
CONFIGS += ["-c", "user_data/config.stacker.json"]
SECOND_WINDOW = pd.Timestamp("2025-06-16", tz="UTC")
"""20250601-20250701 in windows of 15 days: the second one starts here."""
CHANGE_FROM = SECOND_WINDOW + pd.Timedelta(hours=12)


def _predictions(tmp_path: Path, datadir: Path, name: str) -> pd.DataFrame:
    """:return: the walk-forward's predictions (date, forecast, do_predict), by date"""
    overlay = tmp_path / f"{name}.json"
    window = {"identifier": name, "train_period_days": 30, "backtest_period_days": 15}
    overlay.write_text(json.dumps({"freqai": window}))
    results = tmp_path / f"results-{name}"
    results.mkdir()
    freqai_backtest(
        tmp_path,
        name,
        [*CONFIGS, "-c", str(overlay)],
        "StackerStrategy",
        "20250601-20250701",
        results,
        env={"BITBOT_DATA": str(datadir)},
    )
    return backtest_predictions(tmp_path, name)


def test_a_window_learns_nothing_from_the_candles_it_predicts(
    market_datadir: Path, tmp_path: Path
) -> None:
    """
    The same walk-forward on the market and on a copy whose prices jump 20 % from 12 hours
    into the second window: that window's forecasts before the jump are the same (its model
    trained on nothing after the window's start); after it they differ (the test can see a
    change).
    """
    changed = market_jumping_at(market_datadir, tmp_path / "changed", CHANGE_FROM)
    original = _predictions(tmp_path, market_datadir, "ci-leak-a")
    jumped = _predictions(tmp_path, changed, "ci-leak-b")
    forecast = "&-forward_return"
    before = (original.index >= SECOND_WINDOW) & (original.index < CHANGE_FROM)
    assert before.sum() == 12
    pd.testing.assert_series_equal(
        original.loc[before, forecast], jumped.loc[before, forecast], check_exact=True
    )
    after = original.index >= CHANGE_FROM + pd.Timedelta(days=1)
    assert (original.loc[after, forecast] != jumped.loc[after, forecast]).any()
