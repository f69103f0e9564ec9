"""The futures environment against hand-computed cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from meta_strategy.rl.costs import CostModel, margin_breached, traded_quantity
from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays, build_observation
from meta_strategy.rl.errors import RLConfigError, check_rl_config_keys
from meta_strategy.rl.rewards import (
    DifferentialSharpeReward,
    DrawdownPenalisedReward,
    LogReturnReward,
    make_reward,
)
from tests.helpers.freqtrade import REPO


SHORT, FLAT, LONG = 0, 1, 2


def market(open_, high=None, low=None, close=None, funding=None) -> MarketArrays:
    open_ = np.asarray(open_, dtype=float)
    close = open_ if close is None else np.asarray(close, dtype=float)
    df = pd.DataFrame(
        {
            "open": open_,
            "close": close,
            "high": np.maximum(open_, close) if high is None else high,
            "low": np.minimum(open_, close) if low is None else low,
            "funding_rate": np.zeros(len(open_)) if funding is None else funding,
        }
    )
    return MarketArrays.from_frame(df)


def env_for(m: MarketArrays, **costs) -> FuturesTradingEnv:
    features = np.arange(len(m) * 2, dtype=np.float32).reshape(len(m), 2)
    env = FuturesTradingEnv(features, m, CostModel(**costs))
    env.reset(seed=0)
    return env


def test_fee_on_every_exposure_change() -> None:
    env = env_for(market([100.0] * 6), fee=0.001)
    _, _, _, _, info = env.step(LONG)  # buy 0.01 BTC at 100: fee 0.001
    assert info["equity"] == pytest.approx(0.999)
    _, _, _, _, info = env.step(LONG)  # hold: no fee
    assert info["equity"] == pytest.approx(0.999) and info["trades"] == 1
    _, _, _, _, info = env.step(SHORT)  # reverse: sell 0.01 + 0.00999 BTC
    assert info["equity"] == pytest.approx(0.999 - 0.001 * (0.01 + 0.00999) * 100)
    e = info["equity"]
    _, _, _, _, info = env.step(FLAT)  # buy back 0.00999 BTC
    assert info["equity"] == pytest.approx(e - 0.001 * 0.00999 * 100)
    assert info["fees"] == pytest.approx(1 - info["equity"])
    assert info["trades"] == 3


def test_price_moves_and_equity_bookkeeping() -> None:
    # open 100 -> close 110 on candle 1; open 110 -> close 99 on candle 2.
    m = market([100, 100, 110, 99], close=[100, 110, 99, 99])
    env = env_for(m, fee=0.0)
    _, r1, _, _, info = env.step(LONG)  # q = 0.01 at 100, candle closes 110
    assert info["equity"] == pytest.approx(1.1)
    assert r1 == pytest.approx(math.log(1.1))
    _, r2, _, _, info = env.step(LONG)  # 110 -> 99: -0.11
    assert info["equity"] == pytest.approx(0.99)
    assert r2 == pytest.approx(math.log(0.99 / 1.1))


def test_short_gains_when_price_falls_with_leverage() -> None:
    m = market([100, 100, 100], close=[100, 95, 95])
    env = env_for(m, fee=0.0, leverage=3.0)
    _, _, _, _, info = env.step(SHORT)  # q = -0.03, falls 5: +0.15
    assert info["quantity"] == pytest.approx(-0.03)
    assert info["equity"] == pytest.approx(1.15)


@pytest.mark.parametrize(("action", "sign"), [(LONG, -1), (SHORT, +1)])
def test_funding_sign(action: int, sign: int) -> None:
    """A positive rate: longs pay, shorts receive; charged on the mark at the event."""
    m = market([100.0] * 4, funding=[0, 0, 0.001, 0])
    env = env_for(m, fee=0.0)
    env.step(action)  # position from the open of candle 1
    _, _, _, _, info = env.step(action)  # funding event at the open of candle 2
    assert info["funding"] == pytest.approx(-sign * 0.01 * 100 * 0.001)
    assert info["equity"] == pytest.approx(1 + sign * 0.001)
    flat = env_for(m, fee=0.0)
    flat.step(FLAT)
    _, _, _, _, info = flat.step(FLAT)
    assert info["funding"] == 0.0 and info["equity"] == 1.0


def test_stake_fraction_and_amount_step_size_the_position() -> None:
    """Freqtrade's rule: tradable_balance_ratio of the equity, amounts truncated to the step."""
    m = market([100.0] * 5)
    env = env_for(m, fee=0.0, stake_fraction=0.99, amount_step=0.001)
    env.initial_equity = 1000.0
    env.reset(seed=0)
    _, _, _, _, info = env.step(LONG)  # 0.99 * 1000 / 100 = 9.9 BTC
    assert info["quantity"] == pytest.approx(9.9)
    m = market([97.0] * 5)
    env = env_for(m, fee=0.0, stake_fraction=0.99, amount_step=0.01)
    env.initial_equity = 1000.0
    env.reset(seed=0)
    _, _, _, _, info = env.step(SHORT)  # 990 / 97 = 10.206.. -> 10.20
    assert info["quantity"] == pytest.approx(-10.20)


def test_traded_quantity_truncates_what_freqtrade_truncates() -> None:
    assert traded_quantity(0.0, 0.2279, 0.001) == pytest.approx(0.227)  # a new trade
    assert traded_quantity(0.2, -0.2279, 0.001) == pytest.approx(-0.227)  # a flip
    assert traded_quantity(0.227, 0.1134, 0.001) == pytest.approx(0.114)  # sells 0.113
    assert traded_quantity(0.1, 0.2279, 0.001) == pytest.approx(0.227)  # buys 0.127
    assert traded_quantity(0.1, 0.2279, 0.0) == 0.2279


def test_a_trade_opened_on_a_funding_event_pays_it() -> None:
    """As Freqtrade's calculate_funding_fees, which counts a trade's open date."""
    m = market([100.0] * 4, funding=[0, 0.001, 0, 0])
    env = env_for(m, fee=0.0)
    _, _, _, _, info = env.step(LONG)  # opens at the open of candle 1, a funding event
    assert info["funding"] == pytest.approx(0.01 * 100 * 0.001)


def test_liquidation_ends_the_episode() -> None:
    # 10x long at 100; maintenance 1 %: liquidation near 100 * (1 - 0.1) / (1 - 0.01) = 90.9
    m = market([100, 100, 100, 100], low=[100, 100, 90.0, 100], close=[100, 100, 95, 100])
    env = env_for(m, fee=0.0, leverage=10.0, maintenance_margin=0.01)
    _, _, terminated, _, info = env.step(LONG)
    assert not terminated and info["equity"] == pytest.approx(1.0)
    _, reward, terminated, _, info = env.step(LONG)
    assert terminated and info["liquidated"] and info["equity"] == 0.0
    assert reward < -10


def test_margin_breached_at_the_maintenance_margin() -> None:
    """Equity 1 at price 100 with 0.1 BTC: liquidated where 1 + q (p - 100) <= 0.01 |q| p."""
    # the long is liquidated at 9 / 0.099 = 90.909..., the short at 11 / 0.101 = 108.910...
    for q, safe, lost in ((0.1, 91.0, 90.9), (-0.1, 108.9, 108.92)):
        assert not margin_breached(q, 1.0 + q * (safe - 100.0), safe, 0.01)
        assert margin_breached(q, 1.0 + q * (lost - 100.0), lost, 0.01)
    assert not margin_breached(0.0, -5.0, 50.0, 0.01)  # flat: nothing to liquidate
    quantity = np.array([0.1, -0.1, 0.0])
    price = np.array([90.0, 110.0, 90.0])
    assert list(margin_breached(quantity, 1.0 + quantity * (price - 100.0), price, 0.01)) == [
        True,
        True,
        False,
    ]


def test_observation_holds_the_agents_exposure() -> None:
    env = env_for(market([100.0] * 5), fee=0.0)
    obs, *_ = env.step(LONG)
    assert obs[-1] == 1.0 and list(obs[:-1]) == [2.0, 3.0]
    obs, *_ = env.step(SHORT)
    assert obs[-1] == -1.0
    assert list(build_observation(np.array([0.5, 0.25]), -0.5)) == [0.5, 0.25, -0.5]


def test_episode_ends_at_the_last_candle() -> None:
    env = env_for(market([100.0] * 3), fee=0.0)
    assert env.step(FLAT)[3] is False
    assert env.step(FLAT)[3] is True


def test_random_starts_are_seeded() -> None:
    m = market(np.full(500, 100.0))
    features = np.zeros((500, 1), dtype=np.float32)
    a = FuturesTradingEnv(features, m, episode_length=50)
    b = FuturesTradingEnv(features, m, episode_length=50)
    starts_a = [a.reset(seed=s)[1]["tick"] for s in range(5)]
    starts_b = [b.reset(seed=s)[1]["tick"] for s in range(5)]
    assert starts_a == starts_b and len(set(starts_a)) > 1


def test_bad_inputs_are_refused() -> None:
    m = market([100.0] * 3)
    with pytest.raises(ValueError, match="do not match"):
        FuturesTradingEnv(np.zeros((2, 1)), m)
    with pytest.raises(ValueError, match="NaN or infinite feature at row 1"):
        FuturesTradingEnv(np.array([[0.0], [np.nan], [0.0]]), m)
    with pytest.raises(ValueError, match="close is NaN or not positive at row 2"):
        MarketArrays.from_frame(
            pd.DataFrame(
                {"open": [1.0] * 3, "high": [1.0] * 3, "low": [1.0] * 3, "close": [1, 1, np.nan]}
            )
        )
    with pytest.raises(ValueError, match="leverage=20"):
        CostModel(leverage=20)


def test_differential_sharpe_by_hand() -> None:
    reward = DifferentialSharpeReward(eta=0.5)
    reward.reset(1.0)
    r1 = reward(1.0, 1.1)  # A=B=0 before: variance 0 -> 0
    assert r1 == 0.0
    x1 = math.log(1.1)
    a, b = 0.5 * x1, 0.5 * x1 * x1
    x2 = math.log(1.0 / 1.1)
    expected = (b * (x2 - a) - 0.5 * a * (x2 * x2 - b)) / (b - a * a) ** 1.5
    assert reward(1.1, 1.0) == pytest.approx(expected)


def test_drawdown_penalty_by_hand() -> None:
    reward = DrawdownPenalisedReward(penalty=2.0)
    reward.reset(1.0)
    assert reward(1.0, 1.2) == pytest.approx(math.log(1.2))
    # peak 1.2 -> 0.9: drawdown 25 %
    assert reward(1.2, 0.9) == pytest.approx(math.log(0.9 / 1.2) - 2.0 * 0.25)
    # recovering reduces the drawdown: no penalty
    assert reward(0.9, 1.0) == pytest.approx(math.log(1.0 / 0.9))


def test_reward_from_config() -> None:
    assert isinstance(make_reward({}), LogReturnReward)
    r = make_reward({"reward": "differential_sharpe", "eta": 0.05, "win_reward_factor": 2})
    assert isinstance(r, DifferentialSharpeReward) and r.eta == 0.05
    with pytest.raises(ValueError, match="unknown reward 'sharpe'"):
        make_reward({"reward": "sharpe"})
    # a coefficient the chosen reward does not take is an error, not the default in silence
    with pytest.raises(RLConfigError, match=r"'penalti' \(did you mean 'penalty'\?\)"):
        make_reward({"reward": "drawdown_penalised", "penalti": 3.0})
    with pytest.raises(RLConfigError, match=r"\(reward 'log_return'\) has unknown key\(s\) 'eta'"):
        make_reward({"reward": "log_return", "eta": 0.05})


def test_rl_config_keys() -> None:
    shipped = json.loads((REPO / "user_data" / "config.freqai.json").read_text())
    check_rl_config_keys(shipped["freqai"]["rl_config"])
    check_rl_config_keys({"randomize_starting_position": True, "progress_bar": False})  # FreqAI's
    with pytest.raises(RLConfigError, match=r"'trian_cycles' \(did you mean 'train_cycles'\?\)"):
        check_rl_config_keys({"trian_cycles": 3})


@pytest.mark.parametrize("algorithm", ["PPO", "A2C", "DQN", "MaskablePPO", "QRDQN"])
def test_stable_baselines_algorithms_train_on_the_env(algorithm: str) -> None:
    """A handful of steps proves the wiring of every model type MetaPPO can be configured with."""
    import importlib

    module = "stable_baselines3" if algorithm in ("PPO", "A2C", "DQN") else "sb3_contrib"
    cls = getattr(importlib.import_module(module), algorithm)
    rng = np.random.default_rng(0)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    env = FuturesTradingEnv(
        rng.normal(size=(300, 4)).astype(np.float32), market(prices), CostModel()
    )
    kwargs = {"n_steps": 32, "batch_size": 32} if "PPO" in algorithm else {}
    if algorithm in ("DQN", "QRDQN"):
        kwargs = {"learning_starts": 16, "buffer_size": 1000}
    model = cls(
        "MlpPolicy", env, seed=1, device="cpu", policy_kwargs={"net_arch": [8, 8]}, **kwargs
    )
    model.learn(total_timesteps=64)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert 0 <= int(action) < 3


def test_volatility_scales_size_each_trade_when_it_is_decided() -> None:
    """bitbot.sizing in training: the stake share known at t's close sizes the fill at t+1."""
    m = market([100.0, 100.0, 100.0, 100.0, 100.0])
    features = np.zeros((5, 1), dtype=np.float32)
    env = FuturesTradingEnv(features, m, CostModel(fee=0.0), scales=np.array([0.5, 0.8, 1, 1, 1]))
    env.reset(seed=0)
    _, _, _, _, info = env.step(LONG)  # decided after candle 0: half the stake
    assert info["quantity"] == pytest.approx(0.5 * env.initial_equity / 100.0)
    _, _, _, _, info = env.step(LONG)  # held: no trade, the size stays
    assert info["quantity"] == pytest.approx(0.5 * env.initial_equity / 100.0)
    _, _, _, _, info = env.step(SHORT)  # a flip decided after candle 2: the full stake
    assert info["quantity"] == pytest.approx(-1.0 * env.initial_equity / 100.0)
    with pytest.raises(ValueError, match="scales must be finite"):
        FuturesTradingEnv(features, m, scales=np.array([1.0, np.nan, 1, 1, 1]))


def _stop_env(m: MarketArrays, distance: float, decisions=None) -> FuturesTradingEnv:
    features = np.zeros((len(m), 1), dtype=np.float32)
    env = FuturesTradingEnv(
        features,
        m,
        CostModel(fee=0.001),
        stops=np.full(len(m), distance),
        decisions=decisions,
    )
    env.reset(seed=0)
    return env


def test_the_stop_trails_from_the_high_and_closes_at_the_stop() -> None:
    """train_with_stops: Freqtrade's trailing custom_stoploss, priced as its backtester does."""
    m = market(
        [100.0, 100.0, 104.0, 109.0, 103.0, 103.0],
        high=[100.0, 105.0, 110.0, 110.0, 104.0, 103.0],
        low=[100.0, 90.0, 103.0, 102.0, 100.0, 103.0],
        close=[100.0, 104.0, 109.0, 103.0, 103.0, 103.0],
    )
    quantity = 1.0 / 100.0  # the whole equity at the open of candle 1
    env = _stop_env(m, distance=6.0)
    _, _, _, _, info = env.step(LONG)  # opens at 100; stop 105 - 6 = 99: the low 90 reaches it
    assert info["stops"] == 1 and info["quantity"] == 0.0 and info["exposure"] == 0.0
    # the first candle of a trade: Freqtrade's pessimistic price, open x (1 - 6 / 105)
    first = 100.0 * (1.0 - 6.0 / 105.0)
    fees = 0.001 * quantity * (100.0 + first)
    assert info["equity"] == pytest.approx(1.0 + quantity * (first - 100.0) - fees)
    assert info["fees"] == pytest.approx(fees)

    env = _stop_env(m, distance=7.5)
    env.step(FLAT)
    env.step(LONG)  # opens at 104, stop 110 - 7.5 = 102.5 < low 103: held
    assert env.state.stop == pytest.approx(102.5) and env.state.stops == 0
    equity, quantity = env.state.equity, env.state.quantity
    _, _, _, _, info = env.step(LONG)  # high 110 again: 102.5; the low 102 reaches it
    assert info["stops"] == 1 and info["quantity"] == 0.0
    exit_equity = equity + quantity * (102.5 - 109.0) - 0.001 * quantity * 102.5
    assert info["equity"] == pytest.approx(exit_equity), "closed at the stop price"


def test_the_stop_only_tightens_and_a_short_trails_from_the_low() -> None:
    m = market(
        [100.0, 100.0, 96.0, 97.0, 99.0],
        high=[100.0, 101.0, 97.0, 98.0, 104.0],
        low=[100.0, 95.0, 94.0, 96.0, 98.0],
        close=[100.0, 96.0, 97.0, 99.0, 103.0],
    )
    env = _stop_env(m, distance=8.0)
    env.step(SHORT)  # 95 + 8 = 103 > high 101: held
    assert env.state.stop == pytest.approx(103.0)
    env.step(SHORT)  # 94 + 8 = 102: tightened
    assert env.state.stop == pytest.approx(102.0)
    env.step(SHORT)  # 96 + 8 = 104: not loosened
    assert env.state.stop == pytest.approx(102.0)
    _, _, _, _, info = env.step(SHORT)  # high 104 reaches 102: closed at 102
    assert info["stops"] == 1 and info["quantity"] == 0.0


def test_after_a_stop_the_position_stays_flat_until_the_next_decision() -> None:
    """The strategy re-arms entries after a stop on a decision candle; the environment too."""
    n = 10
    open_ = np.full(n, 100.0)
    low = open_.copy()
    low[2] = 90.0  # a fall that reaches the stop on candle 2
    m = market(open_, low=low)
    decisions = np.zeros(n, dtype=bool)
    decisions[[0, 5]] = True
    env = _stop_env(m, distance=5.0, decisions=decisions)
    _, _, _, _, info = env.step(LONG)  # held from candle 1 through candle 5, the next decision
    assert info["tick"] == 5
    assert info["stops"] == 1 and info["quantity"] == 0.0, "no re-entry inside the span"
    assert info["trades"] == 2, "one entry, one stop"
    _, _, _, _, info = env.step(LONG)  # the decision re-arms: long again
    assert info["quantity"] > 0.0 and info["trades"] == 3


def test_after_a_stop_a_new_target_inside_the_span_re_arms_entries() -> None:
    """In the select mode the chosen strategy may turn between decisions: the strategy's
    REARM_TAG re-arms entries on that candle, and the environment does the same."""
    n = 10
    open_ = np.full(n, 100.0)
    low = open_.copy()
    low[2] = 90.0  # the stop on candle 2
    m = market(open_, low=low)
    decisions = np.zeros(n, dtype=bool)
    decisions[[0, 8]] = True
    chosen = np.ones(n)
    chosen[4:] = -1.0  # the followed strategy turns short after candle 4
    choices = np.column_stack([np.zeros(n), chosen])
    features = np.zeros((n, 1), dtype=np.float32)
    env = FuturesTradingEnv(
        features,
        m,
        CostModel(fee=0.001),
        stops=np.full(n, 5.0),
        decisions=decisions,
        choices=choices,
    )
    env.reset(seed=0)
    _, _, _, _, info = env.step(1)  # follow it through candle 8
    assert info["stops"] == 1
    assert info["quantity"] < 0.0, "short again after the target changed"
    assert info["trades"] == 3, "the entry, the stop, the short from candle 5's open"


def test_no_stop_without_a_distance_and_bad_stops_are_refused() -> None:
    m = market([100.0, 100.0, 50.0, 50.0], low=[100.0, 100.0, 40.0, 50.0])
    env = _stop_env(m, distance=0.0)
    env.step(LONG)
    _, _, _, _, info = env.step(LONG)
    assert info["stops"] == 0 and info["quantity"] > 0.0
    with pytest.raises(ValueError, match="3 stop distances for 4 candles"):
        FuturesTradingEnv(np.zeros((4, 1)), m, stops=np.ones(3))


def test_train_with_stops_is_true_or_false() -> None:
    from meta_strategy.rl.env import trains_with_stops

    assert trains_with_stops({}) is False
    assert trains_with_stops({"train_with_stops": True}) is True
    with pytest.raises(RLConfigError, match="train_with_stops must be true or false, got 'yes'"):
        trains_with_stops({"train_with_stops": "yes"})
