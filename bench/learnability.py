"""
Can the meta layer's agent learn a veto that pays, from one training window? A planted-signal
check of the shipped residual agent, on synthetic markets.

On real data the residual agent ends within about 0.07 Sharpe of whatever base it is given: it
keeps the base's position and finds no veto that pays out of sample. That is what an agent does
when there is nothing to find, and also what a broken learner does. This separates the two: it
plants a signal of known strength and asks how strong it must be before the agent, trained as
the shipped one is, uses it out of sample.

Each synthetic window has 360 days of hourly candles (BTC-like volatility, 3 % a day): the
first 180 are the training window, the next 180 are held out. As in MetaPPO, the agent trains on
the window's first 80 % and keeps the checkpoint that does best on its last 20 % (FreqAI's
``test_size``). One feature, known at each day's last close, predicts the next day's return
with a given information coefficient (IC: their correlation); ``--noise-features`` others are
pure noise. The base holds a long position throughout; the
agent (residual mode: the base's position whole, half, or none), decides once a day, pays the
shipped costs (0.05 % + 2 bp a fill, funding off), is rewarded by its log return minus the
base's (scale 100), starts by cloning the base and trains as ``config.freqai.json`` says (PPO,
its hyperparameters, 8 environments, 10 passes over the window). The oracle sizes by the
planted feature alone (whole when it is above 0, none below): the veto that was there to find.
Not modelled: the registry's features.

For each IC it prints the IC the generated markets have (mean over the windows), and over the
windows the held-out Sharpe of the base, the agent and the oracle, the agent's Sharpe minus the
base's (mean and the share of windows where it is above 0), and the share of days the agent
holds less than the whole base (its vetoes).

Usage: ``.venv/bin/python bench/learnability.py [--ics 0 0.05 0.1 0.2] [--windows 6]
[--noise-features 30] [--cycles 10] [--no-checkpoint-split] [--members K]``; ``--members 3``
trains three agents per window (seeds differ) and lets them act by majority, as
``rl_config.ensemble`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch as th  # noqa: E402
from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.monitor import Monitor  # noqa: E402

from meta_strategy.paths import FREQAI_OVERLAY  # noqa: E402
from meta_strategy.research.metrics import sharpe_ratio  # noqa: E402
from meta_strategy.rl.actions import RESIDUAL_SIZES  # noqa: E402
from meta_strategy.rl.costs import CostModel  # noqa: E402
from meta_strategy.rl.ensemble import AgentEnsemble  # noqa: E402
from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays  # noqa: E402
from meta_strategy.rl.imitation import clone_behaviour, cloning_set  # noqa: E402
from meta_strategy.rl.rewards import ExcessLogReturnReward  # noqa: E402
from meta_strategy.rl.vector import evaluation_interval, seed_envs, training_envs  # noqa: E402


HOURS = 24
DAILY_VOLATILITY = 0.03
FEE = 0.0005 + 0.0002


def planted_market(
    ic: float, days: int, noise_features: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """
    :param ic: correlation between the feature known at a day's last close and the next day's
        return
    :return: hourly candles, and the features (column 0 the planted one, then noise), one row
        per candle; a day's rows hold what is known at its last close
    """
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=days)
    tilt = ic / np.sqrt(1 - ic * ic) if ic < 1 else 0.0
    drift = np.zeros(days)
    drift[1:] = DAILY_VOLATILITY * tilt * signal[:-1]  # yesterday's feature, today's drift
    hourly = rng.normal(0.0, DAILY_VOLATILITY / np.sqrt(HOURS), (days, HOURS))
    log_close = np.cumsum((hourly + drift[:, None] / HOURS).ravel())
    close = 30_000 * np.exp(log_close)
    opened = np.concatenate([[30_000.0], close[:-1]])
    candles = pd.DataFrame(
        {
            "open": opened,
            "high": np.maximum(opened, close),
            "low": np.minimum(opened, close),
            "close": close,
        }
    )
    features = np.column_stack(
        [np.repeat(signal, HOURS), rng.normal(size=(days * HOURS, noise_features))]
    ).astype(np.float32)
    return candles, features


@cache
def shipped_freqai() -> dict:
    """:return: the ``freqai`` section of ``config.freqai.json``, read once per process (every
    window and every agent trains as it says)"""
    return json.loads((REPO / FREQAI_OVERLAY).read_text())["freqai"]


def _daily_decisions(n: int) -> np.ndarray:
    """:return: per candle, whether the agent decides after it (each day's last candle)"""
    decisions = np.zeros(n, bool)
    decisions[HOURS - 1 :: HOURS] = True
    return decisions


def _residual_choices(n: int) -> np.ndarray:
    """:return: the residual mode's choices over a base that is long throughout"""
    return np.column_stack([size * np.ones(n) for size in RESIDUAL_SIZES])


def _env(candles: pd.DataFrame, features: np.ndarray) -> FuturesTradingEnv:
    return FuturesTradingEnv(
        features,
        MarketArrays.from_frame(candles),
        costs=CostModel(fee=FEE, funding=False),
        reward=ExcessLogReturnReward(benchmark="equal_vote", scale=100.0),
        decisions=_daily_decisions(len(candles)),
        choices=_residual_choices(len(candles)),
        benchmark=candles["close"].pct_change().fillna(0.0).to_numpy(),
    )


def _follow(env: FuturesTradingEnv, act) -> tuple[float, float]:
    """:return: the annualised Sharpe of the daily equity, and the share of days below whole"""
    obs, info = env.reset(seed=0)
    equity, partial, done = [info["equity"]], [], False
    while not done:
        action = int(act(obs))
        partial.append(action < len(RESIDUAL_SIZES) - 1)
        obs, _, terminated, truncated, info = env.step(action)
        equity.append(info["equity"])
        done = terminated or truncated
    returns = pd.Series(equity).pct_change().dropna()
    return sharpe_ratio(returns, periods_per_year=365), float(np.mean(partial))


def train_agent(
    train: pd.DataFrame,
    features: np.ndarray,
    checkpoint: pd.DataFrame | None,
    checkpoint_features: np.ndarray | None,
    cycles: int,
    seed: int,
) -> PPO:
    """
    One agent trained as MetaPPO trains one: cloned from the base, then PPO with the shipped
    settings; with a ``checkpoint`` split, the checkpoint that does best on it is kept.

    :param train: the candles it trains on
    :param features: their features
    :param checkpoint: the candles the checkpoint is chosen on (None: keep the last)
    :param seed: the agent's seed
    """
    freqai = shipped_freqai()
    rl_config = freqai["rl_config"]
    fit = len(train)
    th.manual_seed(seed)
    n_envs = int(rl_config["n_envs"])
    envs = training_envs(lambda: _env(train, features), n_envs)
    seed_envs(envs, seed)
    model = PPO(
        "MlpPolicy",
        envs,
        policy_kwargs={"activation_fn": th.nn.ReLU, "net_arch": list(rl_config["net_arch"])},
        seed=seed,
        device="cpu",
        verbose=0,
        **freqai["model_training_parameters"],
    )
    observations, actions = cloning_set(
        features, _residual_choices(fit), np.ones(fit), _daily_decisions(fit)
    )
    clone_behaviour(model, observations, actions, rl_config["behaviour_cloning"]["epochs"], seed)
    with tempfile.TemporaryDirectory() as folder:
        callbacks = []
        if checkpoint is not None:
            evaluation = Monitor(_env(checkpoint, checkpoint_features))
            evaluation.reset(seed=seed)
            callbacks.append(
                MaskableEvalCallback(
                    evaluation,
                    deterministic=True,
                    eval_freq=evaluation_interval(fit, n_envs),
                    best_model_save_path=folder,
                    use_masking=False,
                    verbose=0,
                )
            )
        model.learn(total_timesteps=cycles * fit, callback=callbacks)
        if (Path(folder) / "best_model.zip").is_file():  # as MetaPPO: the best on the split
            model = PPO.load(Path(folder) / "best_model.zip", device="cpu")
    return model


def one_window(
    ic: float,
    seed: int,
    noise_features: int,
    cycles: int,
    checkpoint_split: bool = True,
    members: int = 1,
) -> dict[str, float]:
    """
    :param checkpoint_split: as MetaPPO, train on the window's first part and keep the best
        checkpoint on the rest; else train on the whole window and keep the last
    :param members: agents trained on the window (seeds ``seed`` ..), acting by majority as
        ``rl_config.ensemble`` makes them (:class:`~meta_strategy.rl.ensemble.AgentEnsemble`)
    :return: held-out Sharpe of base, agent and oracle, and the agent's share of vetoes
    """
    freqai = shipped_freqai()
    train_days = freqai["train_period_days"]
    candles, features = planted_market(ic, 2 * train_days, noise_features, seed)
    split = train_days * HOURS
    # FreqAI keeps the window's last test_size for the checkpoint choice (shuffle off)
    test_size = freqai["data_split_parameters"]["test_size"] if checkpoint_split else 0.0
    fit = round(train_days * (1 - test_size)) * HOURS
    train = candles.iloc[:fit].reset_index(drop=True)
    checkpoint = candles.iloc[fit:split].reset_index(drop=True) if checkpoint_split else None
    held_out = candles.iloc[split:].reset_index(drop=True)
    agents = [
        train_agent(train, features[:fit], checkpoint, features[fit:split], cycles, seed + m)
        for m in range(members)
    ]
    model = agents[0] if members == 1 else AgentEnsemble(agents, "majority", RESIDUAL_SIZES)
    test_env = _env(held_out, features[split:])
    base, _ = _follow(test_env, lambda obs: len(RESIDUAL_SIZES) - 1)
    agent, vetoes = _follow(test_env, lambda obs: model.predict(obs, deterministic=True)[0])
    oracle, _ = _follow(test_env, lambda obs: len(RESIDUAL_SIZES) - 1 if obs[0] > 0 else 0)
    return {
        "base": base,
        "agent": agent,
        "oracle": oracle,
        "vetoes": vetoes,
        "realised_ic": realised_ic(candles, features),
    }


def realised_ic(candles: pd.DataFrame, features: np.ndarray) -> float:
    """:return: the correlation the generated market has between the planted feature at each
    day's last candle and the next day's log return (what ``ic`` asked for, with sampling
    noise)"""
    day_close = np.log(candles["close"].to_numpy()[HOURS - 1 :: HOURS])
    planted = features[HOURS - 1 :: HOURS, 0]
    return float(np.corrcoef(planted[:-1], np.diff(day_close))[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ics", nargs="+", type=float, default=[0.0, 0.05, 0.1, 0.2])
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--noise-features", type=int, default=30)
    parser.add_argument("--cycles", type=int, default=10, help="passes over the training window")
    parser.add_argument(
        "--members",
        type=int,
        default=1,
        help="agents per window, acting by majority (rl_config.ensemble); default 1",
    )
    parser.add_argument(
        "--no-checkpoint-split",
        action="store_true",
        help="train on the whole window and keep the last checkpoint (not as MetaPPO)",
    )
    ns = parser.parse_args()
    split = not ns.no_checkpoint_split
    th.set_num_threads(1)
    print(
        f"Planted-signal check: {ns.windows} windows per IC (180 days to train, 180 held out), "
        f"{ns.noise_features} noise features, {ns.cycles} passes, the shipped PPO settings; "
        + (
            "the best checkpoint on the window's last 20 %, as MetaPPO"
            if split
            else "trained on the whole window, the last checkpoint"
        )
        + (f"; {ns.members} agents per window, by majority" if ns.members > 1 else "")
    )
    print(
        "| IC (realised) | base Sharpe | agent Sharpe | oracle Sharpe | agent - base: mean, "
        "windows above 0 | days vetoed | s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for ic in ns.ics:
        started = time.perf_counter()
        rows = pd.DataFrame(
            [
                one_window(ic, 1000 + w, ns.noise_features, ns.cycles, split, ns.members)
                for w in range(ns.windows)
            ]
        )
        edge = rows["agent"] - rows["base"]
        print(
            f"| {ic:.2f} ({rows['realised_ic'].mean():.2f}) | {rows['base'].mean():+.2f} | "
            f"{rows['agent'].mean():+.2f} | {rows['oracle'].mean():+.2f} | {edge.mean():+.2f}, "
            f"{(edge > 0).sum()} of {len(rows)} | {rows['vetoes'].mean():.0%} | "
            f"{time.perf_counter() - started:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
