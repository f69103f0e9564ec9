"""The history a report's runs need before its period: start-up candles and training windows."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from meta_strategy.paths import FREQAI_OVERLAY
from meta_strategy.research.report.plan import ReportSettings, RunSpec, build_plan
from meta_strategy.research.report.startup import (
    history_days,
    required_history_days,
    run_config,
    strategy_startup_candles,
)


BASE = ("user_data/config.json", "user_data/config.binance.json")


def test_a_rule_run_needs_its_largest_start_up() -> None:
    run = RunSpec("rules", "rules", ("VolatilitySystem", "DonchianBreakout"), BASE)
    # DonchianBreakout: 2 x 90 days of hourly candles, plus one (4,321 hours)
    assert strategy_startup_candles(run_config(run), "DonchianBreakout") == (4321, "1h")
    assert required_history_days([run]) == 181


def test_a_freqai_run_adds_its_training_window_as_freqtrade_does() -> None:
    config = {"freqai": {"enabled": True, "train_period_days": 30}}
    assert history_days(config, 48, "1h") == pytest.approx(32.0)
    periods = {"feature_parameters": {"indicator_periods_candles": [10, 96]}}
    config["freqai"].update(periods)
    assert history_days(config, 48, "1h") == pytest.approx(34.0), "the larger of the two"
    assert history_days({"freqai": {"enabled": False}}, 48, "1h") == pytest.approx(2.0)
    assert history_days({}, 96, "15m") == pytest.approx(1.0)


def test_the_meta_runs_need_follows_its_registry_and_training_window() -> None:
    settings = replace(ReportSettings.for_period("validation"), seeds=(42,))
    meta = next(r for r in build_plan(settings, BASE) if r.kind == "rl")
    assert FREQAI_OVERLAY in meta.configs
    candles, timeframe = strategy_startup_candles(run_config(meta), "MetaStrategy")
    # the registry's longest lookback, not the class's own 1,400 candles
    assert timeframe == "1h" and candles > 1400
    longer = replace(settings, train_period_days=365)
    assert required_history_days(build_plan(longer, BASE)) == math.ceil(candles / 24 + 365)
    assert required_history_days(build_plan(settings, BASE)) == math.ceil(
        candles / 24 + settings.train_period_days
    )
