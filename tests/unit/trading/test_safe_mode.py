"""
Safe mode: each cause forced on a dry-run strategy (candles late, exchange failing, model
missing / corrupt / stale, NaN prediction); the strategy goes flat, refuses entries, locks the
pair with the reason and says so through the message API; it resumes when the cause clears.
The market causes (candles, exchange) hold for a rule strategy traded alone as well.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import PairLocks, init_db

from meta_strategy.trading.config import BitBotConfigError
from meta_strategy.trading.risk_controls import SAFE_MODE_LOCK
from meta_strategy.trading.safe_mode import (
    SafeMode,
    SafeModeConfig,
    candle_delay,
    feature_problem,
    model_problem,
    prediction_problem,
)
from tests.helpers.freqtrade import load_strategy


PAIR = "BTC/USDT:USDT"
NOW = datetime(2025, 3, 1, 10, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)


class FakeProvider:
    """Stands in for Freqtrade's DataProvider in dry-run."""

    def __init__(self) -> None:
        self.last_candle = NOW.replace(minute=0) - HOUR  # on time: the 09:00 candle at 10:05
        self.ticker_ok = True
        self.last_candle_of: dict[str, datetime] = {}  # pairs whose candles differ
        self.tickers_failing: set[str] = set()
        self.ticker_requests = 0
        self.whitelist = [PAIR]
        self.messages: list[str] = []

    def current_whitelist(self) -> list[str]:
        return self.whitelist

    def get_analyzed_dataframe(self, pair: str, timeframe: str) -> tuple[pd.DataFrame, datetime]:
        last = self.last_candle_of.get(pair, self.last_candle)
        dates = pd.date_range(end=last, periods=3, freq="1h")
        return pd.DataFrame({"date": dates, "close": [1.0, 1.0, 1.0]}), NOW

    def ticker(self, pair: str) -> dict:
        self.ticker_requests += 1
        return {"last": 1.0} if self.ticker_ok and pair not in self.tickers_failing else {}

    def send_msg(self, message: str, *, always_send: bool = False) -> None:
        self.messages.append(message)


def _strategy(name: str, *configs: str):
    plain = "config.freqai.json" in configs  # these tests check safe mode, not the levers
    strategy = load_strategy(name, configs, RunMode.DRY_RUN, plain_meta_learner=plain)
    strategy.dp = FakeProvider()
    return strategy


@pytest.fixture(params=["EqualVoteStrategy", "VolatilitySystem"])
def dry_run_strategy(request):
    """A vote and a rule strategy traded alone: the market causes apply to both."""
    init_db("sqlite://")
    PairLocks.timeframe = "1h"
    return _strategy(request.param, "config.json", "config.binance.json")


def _flat_and_blocked(strategy) -> bool:
    exit_reason = strategy.custom_exit(PAIR, None, NOW, 1.0, 0.0)
    entry = strategy.confirm_trade_entry(PAIR, "limit", 1.0, 1.0, "gtc", NOW, None, "long")
    locked = PairLocks.is_pair_locked(PAIR, NOW)
    return exit_reason == "safe_mode" and not entry and locked


def test_config_and_bookkeeping() -> None:
    assert SafeModeConfig.from_config({}) == SafeModeConfig()
    with pytest.raises(BitBotConfigError, match="unknown key"):
        SafeModeConfig.from_config({"bitbot": {"safe_mode": {"max_age": 1}}})
    with pytest.raises(BitBotConfigError, match="positive number"):
        SafeModeConfig.from_config({"bitbot": {"safe_mode": {"max_candle_delay": 0}}})
    with pytest.raises(BitBotConfigError, match="exchange_check_seconds must be a positive"):
        SafeModeConfig.from_config({"bitbot": {"safe_mode": {"exchange_check_seconds": -5}}})
    mode = SafeMode()
    assert mode.report("candles", None) is None
    assert "SAFE MODE (candles)" in mode.report("candles", "late")
    assert mode.report("candles", "still late") is None  # said once
    assert "SAFE MODE (exchange)" in mode.report("exchange", "down")
    assert "Still in safe mode: exchange: down" in mode.report("candles", None)
    assert "Trading resumes" in mode.report("exchange", None)
    assert not mode.active


def test_candle_delay_counts_candles() -> None:
    assert candle_delay(datetime(2025, 3, 1, 9, tzinfo=UTC), NOW, HOUR) == 0.0
    assert candle_delay(datetime(2025, 3, 1, 6, tzinfo=UTC), NOW, HOUR) == 3.0


def test_late_candles_go_flat_and_resume(dry_run_strategy) -> None:
    strategy = dry_run_strategy
    strategy.bot_loop_start(NOW)
    assert not strategy.safe_mode.active
    strategy.dp.last_candle = NOW.replace(minute=0) - 4 * HOUR  # 3 candles late, limit 2
    strategy.bot_loop_start(NOW)
    assert _flat_and_blocked(strategy)
    assert "SAFE MODE (candles)" in strategy.dp.messages[-1]
    assert PairLocks.get_pair_locks(PAIR, NOW)[0].reason == SAFE_MODE_LOCK
    strategy.dp.last_candle = NOW.replace(minute=0) - HOUR
    strategy.bot_loop_start(NOW)
    assert not strategy.safe_mode.active and "Trading resumes" in strategy.dp.messages[-1]
    assert not PairLocks.is_pair_locked(PAIR, NOW)
    assert strategy.confirm_trade_entry(PAIR, "limit", 1.0, 1.0, "gtc", NOW, None, "long")


def test_failing_exchange_goes_flat_after_three_failures(dry_run_strategy) -> None:
    strategy = dry_run_strategy
    strategy.dp.ticker_ok = False
    for minute in range(2):
        strategy.bot_loop_start(NOW + timedelta(minutes=minute))
    assert not strategy.safe_mode.active
    strategy.bot_loop_start(NOW + timedelta(minutes=2))
    assert _flat_and_blocked(strategy)
    assert "3 ticker requests" in strategy.dp.messages[-1]
    strategy.dp.ticker_ok = True
    strategy.bot_loop_start(NOW + timedelta(minutes=3))
    assert not strategy.safe_mode.active


def test_the_ticker_is_asked_once_a_minute_not_on_every_loop(dry_run_strategy) -> None:
    strategy = dry_run_strategy
    strategy.dp.ticker_ok = False
    for second in range(0, 120, 5):  # Freqtrade's bot loop: every 5 s by default
        strategy.bot_loop_start(NOW + timedelta(seconds=second))
    assert strategy.dp.ticker_requests == 2, "at 0 s and 60 s"
    assert not strategy.safe_mode.active, "two failed requests, not 24"
    strategy.bot_loop_start(NOW + timedelta(seconds=120))
    assert strategy.safe_mode.active and strategy.dp.ticker_requests == 3


def test_one_failing_pair_is_not_cleared_by_another_that_answers(dry_run_strategy) -> None:
    strategy = dry_run_strategy
    other = "ETH/USDT:USDT"
    strategy.dp.whitelist = [PAIR, other]
    strategy.dp.tickers_failing = {PAIR}
    for minute in range(3):
        strategy.bot_loop_start(NOW + timedelta(minutes=minute))
    assert strategy.safe_mode.active
    assert f"3 ticker requests for {PAIR} in a row failed" in strategy.dp.messages[-1]
    assert other not in strategy.dp.messages[-1]


def test_one_late_pair_is_not_cleared_by_another_on_time(dry_run_strategy) -> None:
    strategy = dry_run_strategy
    other = "ETH/USDT:USDT"
    strategy.dp.whitelist = [PAIR, other]  # PAIR late, the other on time (checked after it)
    strategy.dp.last_candle_of = {PAIR: NOW.replace(minute=0) - 4 * HOUR}
    strategy.bot_loop_start(NOW)
    assert strategy.safe_mode.active
    assert f"{PAIR}: the last closed candle opened" in strategy.dp.messages[-1]
    assert other not in strategy.dp.messages[-1]


def test_backtests_never_enter_safe_mode() -> None:
    strategy = load_strategy("EqualVoteStrategy", runmode=RunMode.BACKTEST)
    strategy.dp = FakeProvider()
    strategy.dp.ticker_ok = False
    for _ in range(5):
        strategy.bot_loop_start(NOW)
    assert not strategy.safe_mode.active


FEATURES = ["%-sig_ott_direction", "%-ret_1"]


def _tiny_model(path: Path, features: list[str] = FEATURES) -> Path:
    """A tiny PPO save at ``<path>.zip``, with FreqAI's metadata naming ``features``."""
    import gymnasium as gym
    from stable_baselines3 import PPO

    env = gym.make("CartPole-v1")
    PPO("MlpPolicy", env, n_steps=64, batch_size=32, seed=0).save(path)
    name = path.name.removesuffix("_model")
    metadata = {"training_features_list": features, "label_list": ["&-action"]}
    (path.parent / f"{name}_metadata.json").write_text(json.dumps(metadata))
    return path.with_suffix(".zip")


def test_model_problems(tmp_path: Path) -> None:
    good = _tiny_model(tmp_path / "cb_btc_1_model")
    fresh = int((NOW - HOUR).timestamp())
    assert model_problem(good, fresh, NOW, 72) is None
    assert "no trained model" in model_problem(None, None, NOW, 72)
    assert "missing" in model_problem(tmp_path / "gone_model.zip", fresh, NOW, 72).lower()
    garbage = tmp_path / "garbage_model.zip"
    garbage.write_bytes(b"not a zip at all")
    assert "garbage_model.zip" in model_problem(garbage, fresh, NOW, 72)
    stale = int((NOW - timedelta(hours=100)).timestamp())
    assert "100 h ago (limit 72 h)" in model_problem(good, stale, NOW, 72)
    assert model_problem(good, fresh, NOW, 72, furnished=FEATURES) is None
    short = model_problem(good, fresh, NOW, 72, furnished=FEATURES[:1])
    assert short == (
        "the model was trained on 2 features, the strategy furnishes 1; not furnished: %-ret_1"
    )
    (tmp_path / "cb_btc_1_metadata.json").write_text("{}")
    assert "no training_features_list" in model_problem(good, fresh, NOW, 72, FEATURES)
    (tmp_path / "cb_btc_1_metadata.json").unlink()
    assert "cb_btc_1_metadata.json: missing" in model_problem(good, fresh, NOW, 72, FEATURES)
    assert model_problem(good, fresh, NOW, 72) is None  # the feature list is not checked


def test_feature_problems() -> None:
    assert feature_problem(["%-a", "%-b"], ["%-a", "%-b"]) is None
    assert feature_problem(["%-a", "%-b"], ["%-a", "%-c"]) == (
        "the model was trained on 2 features, the strategy furnishes 2; not furnished: %-b; "
        "not in the model: %-c"
    )
    assert feature_problem(["%-a", "%-b"], ["%-b", "%-a"]).endswith("in another order)")
    many = [f"%-f{i}" for i in range(7)]
    assert feature_problem(many, []).endswith("%-f0, %-f1, %-f2, %-f3, %-f4 ...")


def test_prediction_problems() -> None:
    assert prediction_problem(2, 1, range(3)) is None
    assert prediction_problem(np.nan, 1, range(3)) == "prediction is NaN"
    assert "do_predict=0" in prediction_problem(1, 0, range(3))
    assert "not one of the actions" in prediction_problem(7, 1, range(3))


def test_meta_strategy_model_and_prediction_causes(tmp_path: Path) -> None:
    init_db("sqlite://")
    PairLocks.timeframe = "1h"
    strategy = _strategy("MetaStrategy", "config.json", "config.binance.json", "config.freqai.json")
    good = _tiny_model(tmp_path / "cb_btc_1_model")
    now = datetime.now(tz=UTC)
    info = {
        "data_path": str(tmp_path),
        "model_filename": "cb_btc_1",
        "trained_timestamp": int(now.timestamp()) - 3600,
    }
    strategy.freqai = SimpleNamespace(dd=SimpleNamespace(pair_dict={PAIR: info}))
    features = pd.DataFrame({"date": [NOW], **dict.fromkeys(FEATURES, 0.0)})
    strategy.set_freqai_targets(features, {"pair": PAIR})  # FreqAI's last call with features
    frame = pd.DataFrame({"&-action": [1.0, 2.0], "do_predict": [1, 1]})
    strategy.check_model_and_prediction(frame, PAIR)
    assert not strategy.safe_mode.active
    # the strategy furnishes another feature than the model learned from
    strategy.set_freqai_targets(features.rename(columns={"%-ret_1": "%-ret:2"}), {"pair": PAIR})
    strategy.check_model_and_prediction(frame, PAIR)
    assert "not in the model: %-ret2" in strategy.safe_mode.causes["model"]
    strategy.set_freqai_targets(features, {"pair": PAIR})
    strategy.check_model_and_prediction(frame, PAIR)
    assert not strategy.safe_mode.active
    frame.loc[1, "&-action"] = np.nan
    strategy.check_model_and_prediction(frame, PAIR)
    assert set(strategy.safe_mode.causes) == {"prediction"}
    frame.loc[1, "&-action"] = 2.0
    good.unlink()
    strategy.check_model_and_prediction(frame, PAIR)
    assert set(strategy.safe_mode.causes) == {"model"}
    assert strategy.custom_exit(PAIR, None, now, 1.0, 0.0) == "safe_mode"


def test_first_loop_before_any_analysis_is_not_safe_mode(dry_run_strategy) -> None:
    strategy = dry_run_strategy
    strategy.dp.get_analyzed_dataframe = lambda pair, tf: (pd.DataFrame(), NOW)
    strategy.bot_loop_start(NOW)
    assert not strategy.safe_mode.active


def test_a_promoted_model_has_the_age_limit_of_the_retraining_schedule(tmp_path: Path) -> None:
    """The model-age check stays on for a promoted model; its limit is FreqAI's expiration."""
    init_db("sqlite://")
    strategy = _strategy("MetaStrategy", "config.json", "config.binance.json", "config.freqai.json")
    expiration = strategy.config["freqai"]["expiration_hours"]
    assert strategy.safe_mode_config.max_model_age_hours == expiration
    _tiny_model(tmp_path / "cb_btc_1_model")
    frame = pd.DataFrame({"&-action": [1.0], "do_predict": [1]})
    for promoted in (None, 240):  # bitbot.model_id of config.promoted.json
        strategy.promoted_model = promoted
        for age_hours, stale in ((expiration - 24, False), (expiration + 24, True)):
            trained = int((datetime.now(tz=UTC) - timedelta(hours=age_hours)).timestamp())
            info = {
                "data_path": str(tmp_path),
                "model_filename": "cb_btc_1",
                "trained_timestamp": trained,
            }
            strategy.freqai = SimpleNamespace(dd=SimpleNamespace(pair_dict={PAIR: info}))
            strategy.check_model_and_prediction(frame, PAIR)
            assert ("model" in strategy.safe_mode.causes) is stale, (promoted, age_hours)


def test_the_age_limit_without_freqai_and_set_explicitly() -> None:
    assert SafeModeConfig.from_config({}).max_model_age_hours == 72
    config = {
        "freqai": {"expiration_hours": 768},
        "bitbot": {"safe_mode": {"max_model_age_hours": 100}},
    }
    assert SafeModeConfig.from_config(config).max_model_age_hours == 100


def test_a_model_that_fails_to_load_puts_the_bot_in_safe_mode(tmp_path: Path) -> None:
    """FreqAI raising inside populate_indicators (a truncated zip) is safe mode, not a log line."""
    init_db("sqlite://")
    PairLocks.timeframe = "1h"
    strategy = _strategy("MetaStrategy", "config.json", "config.binance.json", "config.freqai.json")

    def broken(dataframe: pd.DataFrame, metadata: dict, strategy: object) -> pd.DataFrame:
        raise ValueError("File is not a zip file")

    strategy.freqai = SimpleNamespace(start=broken)
    candles = pd.DataFrame({"date": [NOW], "close": [1.0]})
    out = strategy.populate_indicators(candles, {"pair": PAIR})
    assert out["target_exposure"].tolist() == [0.0]
    assert "File is not a zip file" in strategy.safe_mode.causes["model"]
    assert _flat_and_blocked(strategy)
    backtest = load_strategy(
        "MetaStrategy", ("config.json", "config.binance.json", "config.freqai.json")
    )
    backtest.freqai = SimpleNamespace(start=broken)
    with pytest.raises(ValueError, match="zip"):  # a backtest fails loud instead
        backtest.populate_indicators(candles, {"pair": PAIR})


def test_a_missing_reference_price_is_safe_mode_for_the_reference_not_the_model() -> None:
    """The registry's spot or index price missing live: safe mode says so, and clears once the
    price is back (the model was never the problem)."""
    from meta_strategy.data.reference import ReferencePriceError

    init_db("sqlite://")
    PairLocks.timeframe = "1h"
    strategy = _strategy("MetaStrategy", "config.json", "config.binance.json", "config.freqai.json")

    def no_reference(dataframe: pd.DataFrame, metadata: dict, strategy: object) -> pd.DataFrame:
        raise ReferencePriceError("no BTC/USDT spot candles: the exchange binance returned none")

    strategy.freqai = SimpleNamespace(start=no_reference)
    candles = pd.DataFrame({"date": [NOW], "close": [1.0]})
    out = strategy.populate_indicators(candles, {"pair": PAIR})
    assert out["target_exposure"].tolist() == [0.0]
    assert "model" not in strategy.safe_mode.causes
    assert "could not read the reference price" in strategy.safe_mode.causes["reference"]
    assert _flat_and_blocked(strategy)

    def predicted(dataframe: pd.DataFrame, metadata: dict, strategy: object) -> pd.DataFrame:
        return dataframe.assign(**{"&-action": 1, "do_predict": 1})

    strategy.freqai = SimpleNamespace(start=predicted, dd=SimpleNamespace(pair_dict={}))
    strategy.populate_indicators(candles, {"pair": PAIR})  # the price is back
    assert "reference" not in strategy.safe_mode.causes


def test_no_add_on_in_safe_mode() -> None:
    """Freqtrade skips confirm_trade_entry for position adjustments: the add-on asks itself."""
    init_db("sqlite://")
    PairLocks.timeframe = "1h"
    strategy = _strategy("VolatilitySystem", "config.json", "config.binance.json")
    breakout = pd.DataFrame(
        {
            "date": pd.date_range(end=NOW.replace(minute=0) - HOUR, periods=3, freq="1h"),
            "breakout": [0, 0, 1],
        }
    )
    strategy.dp.get_analyzed_dataframe = lambda pair, timeframe: (breakout, NOW)
    trade = SimpleNamespace(
        pair=PAIR,
        nr_of_successful_entries=1,
        has_open_orders=False,
        is_short=False,
        open_date_utc=NOW - 5 * HOUR,
        stake_amount=50.0,
    )

    def add_on() -> float | None:
        return strategy.adjust_trade_position(trade, NOW, 1.0, 0.0, None, 100.0, 1.0, 1.0, 0.0, 0.0)

    assert add_on() == 50.0  # a fresh breakout in the trade's direction
    strategy.safe_mode.report("exchange", "down")
    assert add_on() is None
    strategy.safe_mode.report("exchange", None)
    assert add_on() == 50.0
    strategy.risk.blocked_until = NOW + HOUR  # a risk limit blocks trading
    assert add_on() is None
