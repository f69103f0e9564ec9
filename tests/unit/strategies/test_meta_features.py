"""
No look-ahead in what the meta-learner sees: MetaStrategy's features and MetaPPO's
observations at candle t depend only on candles up to t.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from freqtrade.resolvers import StrategyResolver

from meta_strategy.rl.env import build_observation
from meta_strategy.rl.errors import RLConfigError
from tests.helpers.frames import prices_scaled_after
from tests.helpers.freqtrade import REPO, MarketDataProvider, shipped_config, without_levers


PAIR = "BTC/USDT:USDT"


def _meta_strategy(datadir, risk: dict | None = None, shipped: bool = False, **rl_config: object):
    """
    :param shipped: the shipped meta-learner; else without its levers (each test adds the one
        it tests)
    """
    config = shipped_config(("config.json", "config.binance.json", "config.freqai.json"))
    if not shipped:
        without_levers(config)
    config["freqai"]["rl_config"].update(rl_config)
    config.setdefault("bitbot", {}).setdefault("risk", {}).update(risk or {})
    config["strategy"] = "MetaStrategy"
    strategy = StrategyResolver.load_strategy(config)
    strategy.dp = MarketDataProvider(datadir)
    return strategy


@pytest.fixture(scope="module")
def meta_strategy(binance_datadir):
    """The MetaStrategy with the real funding rates and spot prices."""
    return _meta_strategy(binance_datadir)


@pytest.fixture(scope="module")
def any_meta_strategy(any_market_datadir):
    """
    The shipped MetaStrategy with the funding rates and spot prices of each market in turn, and
    the optional features on (the open trades' returns).
    """
    return _meta_strategy(any_market_datadir, shipped=True, open_trade_returns=True)


def _features(strategy, candles: pd.DataFrame) -> pd.DataFrame:
    df = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    return df[[c for c in df.columns if c.startswith("%-")]]


def test_feature_set(meta_strategy, btc_1h: pd.DataFrame) -> None:
    n = meta_strategy.startup_candle_count + 500  # the last 500 past every warm-up
    features = _features(meta_strategy, btc_1h.iloc[-n:].reset_index(drop=True))
    for entry in meta_strategy.registry.enabled:
        for field in ("direction", "strength", "age"):
            assert f"{entry.feature_prefix}_{field}" in features
        for record in ("ret_7d", "ret_30d", "ret_90d", "sharpe_30d"):
            assert f"%-track_{entry.name}_{record}" in features
    regimes = ["ranging", "trending", "volatile", "trending_volatile"]
    one_hot = features[[f"%-regime_{name}" for name in regimes]].iloc[-500:]
    assert (one_hot.sum(axis=1) == 1).all()
    for name in (
        "%-ret_1",
        "%-ret_168",
        "%-vol_24",
        "%-atr_pct",
        "%-funding",
        "%-funding_24",
        "%-trend_4h",
        "%-raw_close",
        "%-raw_funding",
        "%-raw_decision",
    ):
        assert name in features
    assert (features["%-raw_funding"] != 0).sum() > 300, "funding events every 8h"
    assert (features["%-raw_decision"] == 1.0).all(), "without a clock every candle is a decision"
    last = features.iloc[-500:]
    assert not last.isna().any(axis=None), last.columns[last.isna().any()].tolist()
    assert meta_strategy.startup_candle_count >= meta_strategy.registry.max_lookback_hours


def test_residual_mode_furnishes_its_choices_and_trades_them(
    binance_datadir, btc_1h: pd.DataFrame
) -> None:
    from meta_strategy.signals.votes import equal_vote

    strategy = _meta_strategy(binance_datadir, action_mode="residual")
    n = strategy.startup_candle_count + 300
    candles = btc_1h.iloc[-n:].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    directions = features[[c for c in features.columns if c.endswith("_direction")]]
    base = equal_vote(directions).to_numpy()
    for action, share in enumerate((0.0, 0.5, 1.0)):
        np.testing.assert_array_equal(features[f"%-raw_choice_{action}"], share * base)
    assert (base[-300:] != 0).any(), "the test must see the base take positions"
    # FreqAI hands back the predictions alone: the strategy maps each action by date
    predicted = candles[["date"]].iloc[-300:].reset_index(drop=True)
    predicted["&-action"] = np.tile([0, 1, 2], 100)
    predicted["do_predict"] = 1
    table = strategy.candle_table(predicted, PAIR)
    exposure = strategy.exposure_of_actions(predicted, table)
    assert table["decision_candle"].to_numpy().all(), "no clock: every candle is a decision"
    expected = np.tile([0.0, 0.5, 1.0], 100) * base[-300:]
    np.testing.assert_array_equal(exposure, expected)
    assert strategy.action_count(PAIR) == 3
    # A backtest reusing saved predictions: FreqAI computed features on the last candle only
    strategy.candle_tables[PAIR] = strategy.candle_tables[PAIR].iloc[-1:]
    reused = candles.iloc[-300:].reset_index(drop=True)
    reused["&-action"] = predicted["&-action"]
    reused["do_predict"] = 1
    full_history = pd.concat([candles.iloc[:-300], reused], ignore_index=True)
    again = strategy.exposure_of_actions(full_history, strategy.candle_table(full_history, PAIR))[
        -300:
    ]
    np.testing.assert_array_equal(again, expected)


def test_target_mode_without_a_clock_maps_reused_predictions_without_features(
    binance_datadir, btc_1h: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy = _meta_strategy(binance_datadir)  # the target mode, no clock

    def no_features(*args: object, **kwargs: object) -> None:
        raise AssertionError("the target mode without a clock needs no feature rebuild")

    monkeypatch.setattr(strategy, "feature_engineering_standard", no_features)
    reused = btc_1h.iloc[-30:].reset_index(drop=True)
    reused["&-action"] = np.tile([0, 1, 2], 10)
    reused["do_predict"] = 1
    table = strategy.candle_table(reused, PAIR)
    assert table["decision_candle"].to_numpy().all()
    np.testing.assert_array_equal(
        strategy.exposure_of_actions(reused, table), np.tile(strategy.levels, 10)
    )


def test_an_excess_reward_furnishes_its_benchmark(binance_datadir, btc_1h: pd.DataFrame) -> None:
    from meta_strategy.signals.track_record import following_returns

    reward = {"reward": "excess_log_return", "benchmark": "buy_and_hold"}
    strategy = _meta_strategy(binance_datadir, model_reward_parameters=reward)
    n = strategy.startup_candle_count + 100
    candles = btc_1h.iloc[-n:].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    held = pd.Series(1.0, index=candles.index)
    expected = following_returns(
        held, candles["close"], features["%-raw_funding"], strategy.config["fee"]
    ).fillna(0.0)
    np.testing.assert_allclose(features["%-raw_benchmark"], expected)
    assert "%-raw_benchmark" not in _features(_meta_strategy(binance_datadir), candles)


def test_sizing_furnishes_the_stake_share_the_environment_trades(
    binance_datadir, btc_1h: pd.DataFrame
) -> None:
    strategy = _meta_strategy(binance_datadir)
    strategy.volatility_target = type(strategy.volatility_target)(0.4, 30)
    n = strategy.startup_candle_count + 50
    candles = btc_1h.iloc[-n:].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    expected = strategy.volatility_target.scale(candles["close"], "1h")
    np.testing.assert_allclose(features["%-raw_scale"], expected)
    assert features["%-raw_scale"].iloc[-50:].between(0.01, 1.0).all()


def test_features_do_not_look_ahead(any_meta_strategy, any_market_1h: pd.DataFrame) -> None:
    meta_strategy = any_meta_strategy
    warmup = meta_strategy.startup_candle_count  # every feature is known from here on
    candles = any_market_1h.iloc[-(warmup + 600) :].reset_index(drop=True)
    full = _features(meta_strategy, candles)
    assert full.iloc[warmup:].notna().all(axis=None), "the test must compare known values"
    rng = np.random.default_rng(11)
    for cut in (warmup + 1, warmup + 303, warmup + 590):
        altered = prices_scaled_after(candles, cut, rng, 0.7, 1.4)
        pd.testing.assert_frame_equal(
            full.iloc[: cut + 1], _features(meta_strategy, altered).iloc[: cut + 1]
        )
        pd.testing.assert_frame_equal(
            full.iloc[: cut + 1], _features(meta_strategy, candles.iloc[: cut + 1])
        )


def _meta_ppo_class():
    spec = importlib.util.spec_from_file_location(
        "MetaPPO", REPO / "user_data" / "freqaimodels" / "MetaPPO.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MetaPPO


def _fake_meta_ppo(**state: object) -> SimpleNamespace:
    """The state MetaPPO's prediction walk reads, for calling its methods unbound."""
    from meta_strategy.rl.actions import ActionMode

    return SimpleNamespace(
        **{
            "live": False,
            "levels": (-1.0, 0.0, 1.0),
            "action_mode": ActionMode(),
            "_carry_exposure": {},
            "_carry_action": {},
            "_decisions": {},
            "_choices": {},
            "ensemble_of": lambda model, dk: model,
            "stack_of": lambda dk: None,  # no stacked predictors
            **state,
        }
    )


class EchoModel:
    """A policy whose action depends on the features and on the exposure it is shown."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[int, None]:
        self.seen.append(obs.copy())
        if obs[0] > 0.5:
            return 2, None  # long
        if obs[0] < -0.5:
            return 0, None  # short
        return (2 if obs[-1] > 0 else 1), None  # hold a long, else stay flat


def test_prediction_walk_feeds_back_the_chosen_exposure() -> None:
    meta_ppo = _meta_ppo_class()
    fake = _fake_meta_ppo()
    dk = SimpleNamespace(pair=PAIR, label_list=["&-action"])
    x = [0.0, 0.9, 0.0, 0.0, -0.9, 0.0]
    frame = pd.DataFrame({"f0": x, "f1": np.arange(6.0)})
    model = EchoModel()
    actions = meta_ppo.rl_model_predict(fake, frame, dk, model)["&-action"].tolist()
    assert actions == [1, 2, 2, 2, 0, 1]
    shown = [obs[-1] for obs in model.seen]
    assert shown == [0.0, 0.0, 1.0, 1.0, 1.0, -1.0]
    for i, obs in enumerate(model.seen):  # the same observation code as training
        np.testing.assert_array_equal(obs, build_observation(frame.iloc[i].to_numpy(), shown[i]))
    # A prefix of the window gives the same actions: nothing later is used.
    fake._carry_exposure = {}
    prefix = meta_ppo.rl_model_predict(fake, frame.iloc[:4], dk, EchoModel())
    assert prefix["&-action"].tolist() == actions[:4]
    assert fake._carry_exposure[PAIR] == 1.0, "the next window starts from the last exposure"


def test_prediction_walk_holds_between_the_decision_clock_candles() -> None:
    """Only the candles the strategy marks decide; the others hold the last exposure."""
    meta_ppo = _meta_ppo_class()
    fake = _fake_meta_ppo(_carry_exposure={PAIR: -1.0}, _carry_action={PAIR: 0})
    dk = SimpleNamespace(pair=PAIR, label_list=["&-action"])
    x = [0.9, 0.9, 0.0, -0.9, -0.9, 0.9]
    frame = pd.DataFrame(
        {"f0": x, "%-raw_decision": [0.0, 1.0, 0.0, 0.0, 1.0, 0.0], "%-raw_close": 1.0}
    )
    features = meta_ppo.drop_ohlc_from_df(fake, frame.copy(), dk)  # as FreqAI's predict
    assert list(features.columns) == ["f0"]
    model = EchoModel()
    actions = meta_ppo.rl_model_predict(fake, features, dk, model)["&-action"].tolist()
    # row 0 holds the carried short; row 1 decides long, held; row 4 decides short, held
    assert actions == [0, 2, 2, 2, 0, 0]
    assert len(model.seen) == 2 and [obs[-1] for obs in model.seen] == [-1.0, 1.0]
    assert fake._decisions == {}, "each window's decision candles are used once"


def test_the_walk_loads_the_ensemble_freqai_saved(tmp_path) -> None:
    """FreqAI loads member 0 alone: the walk completes the ensemble from the files, once."""
    from stable_baselines3 import PPO

    from meta_strategy.rl.costs import CostModel
    from meta_strategy.rl.ensemble import AgentEnsemble, EnsembleConfig, EnsembleFileError
    from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays

    close = np.linspace(100, 110, 64)
    frame = pd.DataFrame({"open": close, "high": close, "low": close, "close": close})
    env = FuturesTradingEnv(np.zeros((64, 2)), MarketArrays.from_frame(frame), CostModel())
    agents = [
        PPO("MlpPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=s).learn(32)
        for s in range(3)
    ]
    AgentEnsemble(agents, "majority", (-1.0, 0.0, 1.0)).save(tmp_path / "cb_btc_1_model.zip")
    fake = _fake_meta_ppo(
        ensemble=EnsembleConfig(3, "majority"),
        dd=SimpleNamespace(model_dictionary={}),
    )
    dk = SimpleNamespace(pair=PAIR, label_list=["&-action"], data_path=tmp_path)
    dk.model_filename = "cb_btc_1"
    first = PPO.load(tmp_path / "cb_btc_1_model.zip", device="cpu")
    ensemble = _meta_ppo_class().ensemble_of(fake, first, dk)
    assert isinstance(ensemble, AgentEnsemble) and len(ensemble.members) == 3
    assert fake.dd.model_dictionary[PAIR] is ensemble, "kept for the next candles"
    assert _meta_ppo_class().ensemble_of(fake, ensemble, dk) is ensemble
    (tmp_path / "cb_btc_1_model.member2.zip").unlink()
    with pytest.raises(EnsembleFileError, match="member 2 of 3 is missing"):
        _meta_ppo_class().ensemble_of(fake, first, dk)


def test_live_safe_mode_when_an_ensemble_member_file_is_bad(binance_datadir, tmp_path) -> None:
    from stable_baselines3 import PPO

    from meta_strategy.rl.costs import CostModel
    from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays

    strategy = _meta_strategy(binance_datadir, ensemble={"members": 2})
    strategy.dp = None  # no messages or locks here: the cause is what is checked
    close = np.linspace(100, 110, 64)
    frame = pd.DataFrame({"open": close, "high": close, "low": close, "close": close})
    env = FuturesTradingEnv(np.zeros((64, 2)), MarketArrays.from_frame(frame), CostModel())
    PPO("MlpPolicy", env, n_steps=32, batch_size=16, n_epochs=1).save(tmp_path / "m_model.zip")
    info = {"data_path": str(tmp_path), "model_filename": "m"}
    strategy.freqai = SimpleNamespace(dd=SimpleNamespace(pair_dict={PAIR: info}))
    last = pd.DataFrame({"&-action": [1], "do_predict": [1]})
    strategy.check_model_and_prediction(last, PAIR)
    assert strategy.safe_mode.active
    assert "ensemble member 1" in str(strategy.safe_mode.causes["model"])
    (tmp_path / "m_model.zip").rename(tmp_path / "m_model.member1.zip")
    PPO.load(tmp_path / "m_model.member1.zip").save(tmp_path / "m_model.zip")
    strategy.check_model_and_prediction(last, PAIR)
    assert not strategy.safe_mode.active, "both members' files are sound again"


def test_recurrent_ppo_state_is_carried_through_the_walk() -> None:
    """RecurrentPPO: the walk passes the LSTM state on, as a manual rollout does."""
    from sb3_contrib import RecurrentPPO

    from meta_strategy.rl.costs import CostModel
    from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays

    rng = np.random.default_rng(0)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 200)))
    frame = pd.DataFrame(
        {"open": prices, "high": prices * 1.01, "low": prices * 0.99, "close": prices}
    )
    features = rng.normal(size=(200, 3)).astype(np.float32)
    env = FuturesTradingEnv(features, MarketArrays.from_frame(frame), CostModel())
    model = RecurrentPPO(
        "MlpLstmPolicy",
        env,
        n_steps=32,
        batch_size=32,
        seed=1,
        device="cpu",
        policy_kwargs={"net_arch": [8], "lstm_hidden_size": 8},
    )
    model.learn(total_timesteps=64)
    fake = _fake_meta_ppo(model_type="RecurrentPPO")
    dk = SimpleNamespace(pair=PAIR, label_list=["&-action"])
    walked = _meta_ppo_class().rl_model_predict(fake, pd.DataFrame(features[:50]), dk, model)
    state, exposure, manual = None, 0.0, []
    for i in range(50):
        action, state = model.predict(
            build_observation(features[i], exposure),
            state=state,
            episode_start=np.array([i == 0]),
            deterministic=True,
        )
        manual.append(int(action))
        exposure = (-1.0, 0.0, 1.0)[int(action)]
    assert walked["&-action"].astype(int).tolist() == manual


def test_train_with_stops_furnishes_the_stops_distance(
    binance_datadir, btc_1h: pd.DataFrame
) -> None:
    """The environment trails the distance custom_stoploss trails: k x ATR of bitbot.risk."""
    from meta_strategy.signals.indicators import atr

    strategy = _meta_strategy(
        binance_datadir, risk={"stop_atr_multiple": 4.0}, train_with_stops=True
    )
    n = strategy.startup_candle_count + 50
    candles = btc_1h.iloc[-n:].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    limits = strategy.risk_limits
    expected = limits.stop_atr_multiple * atr(candles, limits.atr_period)
    np.testing.assert_allclose(features["%-raw_stop"], expected)
    assert limits.stop_atr_multiple > 0 and (features["%-raw_stop"].iloc[-50:] > 0).all()
    assert "%-raw_stop" not in _features(_meta_strategy(binance_datadir), candles)


def test_behaviour_cloning_furnishes_the_teachers_exposure(
    binance_datadir, btc_1h: pd.DataFrame
) -> None:
    from meta_strategy.rl.actions import combiner_direction

    cloning = {"teacher": "equal_vote", "epochs": 2}
    strategy = _meta_strategy(binance_datadir, behaviour_cloning=cloning)
    n = strategy.startup_candle_count + 50
    candles = btc_1h.iloc[-n:].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    directions = features[[c for c in features.columns if c.endswith("_direction")]]
    expected = combiner_direction(
        "equal_vote", directions, candles["close"], features["%-raw_funding"], candles["date"], 0, 1
    )
    np.testing.assert_allclose(features["%-raw_teacher"], expected)
    assert "%-raw_teacher" not in _features(_meta_strategy(binance_datadir), candles)


def test_synthetic_features_are_the_real_ones_on_the_generated_market(
    meta_strategy, btc_1h: pd.DataFrame
) -> None:
    """Synthetic pre-training: the same feature code runs on the generated market, with its own
    funding and spot prices, and leaves the strategy's state for the real pair alone."""
    from meta_strategy.rl.pretraining import PretrainingConfig

    real = meta_strategy.feature_engineering_standard(
        btc_1h.iloc[-meta_strategy.startup_candle_count - 50 :].reset_index(drop=True),
        {"pair": PAIR},
    )
    table, provider = meta_strategy.candle_tables[PAIR], meta_strategy.dp
    market = PretrainingConfig(days=400, seed=3).market()
    synthetic = meta_strategy.synthetic_features(market, PAIR)
    assert list(synthetic.columns) == list(real.columns)
    candles = market.candles_at("1h")
    np.testing.assert_array_equal(synthetic["%-raw_close"], candles["close"])
    funding = synthetic["%-raw_funding"]
    assert (funding != 0).sum() > 0.9 * len(candles), "the generated market's hourly funding"
    rows = synthetic.iloc[meta_strategy.startup_candle_count :]
    features = [c for c in rows.columns if c.startswith("%-")]
    assert not rows[features].isna().any(axis=None)
    directions = rows[[c for c in features if c.endswith("_direction")]]
    assert (directions.abs().mean() > 0).all(), "every registered strategy trades on it"
    assert meta_strategy.candle_tables[PAIR] is table and meta_strategy.dp is provider


def test_a_residual_over_one_registered_strategy_furnishes_its_choices(
    binance_datadir, btc_1h: pd.DataFrame
) -> None:
    strategy = _meta_strategy(
        binance_datadir, action_mode="residual", residual_base="strategy:volatility"
    )
    candles = btc_1h.iloc[-(strategy.startup_candle_count + 300) :].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    base = features["%-sig_volatility_direction"].fillna(0.0).to_numpy()
    for action, share in enumerate((0.0, 0.5, 1.0)):
        np.testing.assert_array_equal(features[f"%-raw_choice_{action}"], share * base)
    with pytest.raises(RLConfigError, match="'strategy:nope' names no enabled registry entry"):
        _meta_strategy(binance_datadir, action_mode="residual", residual_base="strategy:nope")


def test_the_agent_decides_daily_and_when_its_base_changes_direction(
    binance_datadir, btc_1h: pd.DataFrame
) -> None:
    strategy = _meta_strategy(
        binance_datadir,
        action_mode="residual",
        residual_base="strategy:volatility",
        decision_clock={"every": 24, "on_base_change": True},
    )
    candles = btc_1h.iloc[-(strategy.startup_candle_count + 24 * 60) :].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    base = features["%-sig_volatility_direction"].fillna(0.0).to_numpy()
    decide = features["%-raw_decision"].to_numpy() == 1.0
    changed = np.r_[False, np.diff(base) != 0]
    midnight = (candles["date"].dt.hour == 0).to_numpy()
    np.testing.assert_array_equal(decide, midnight | changed)
    others = features[[c for c in features if c.endswith("_direction")]].fillna(0.0).to_numpy()
    other_flips = np.r_[False, (np.diff(others, axis=0) != 0).any(axis=1)] & ~changed & ~midnight
    assert changed[-24 * 60 :].any() and other_flips[-24 * 60 :].any(), "the test must see both"
    assert not decide[other_flips].any(), "another strategy's change is no decision"
    with pytest.raises(RLConfigError, match="on_base_change needs a base combiner"):
        _meta_strategy(binance_datadir, decision_clock={"every": 24, "on_base_change": True})


def test_the_open_trades_returns_are_features_on_request(
    binance_datadir, btc_1h: pd.DataFrame
) -> None:
    from meta_strategy.rl.costs import explicit_fee
    from meta_strategy.signals.track_record import open_trade_return

    strategy = _meta_strategy(binance_datadir, open_trade_returns=True)
    candles = btc_1h.iloc[-(strategy.startup_candle_count + 300) :].reset_index(drop=True)
    features = strategy.feature_engineering_standard(candles.copy(), {"pair": PAIR})
    for entry in strategy.registry.enabled:
        direction = features[f"{entry.feature_prefix}_direction"]
        expected = open_trade_return(
            direction, candles["close"], features["%-raw_funding"], explicit_fee(strategy.config)
        )
        np.testing.assert_allclose(features[f"%-track_{entry.name}_open_trade"], expected)
    vs = features["%-track_volatility_open_trade"].iloc[-300:]
    assert (vs != 0).any() and vs.notna().all()
    plain = _features(_meta_strategy(binance_datadir), candles)
    assert not any(c.endswith("_open_trade") for c in plain), "off by default"
    with pytest.raises(RLConfigError, match="open_trade_returns must be true or false"):
        _meta_strategy(binance_datadir, open_trade_returns="yes")
