"""
Benchmark of the meta layer. Prints figures, asserts nothing.

* signal computation for the whole registry on the full 1h history (6 years), and the track
  records and regimes computed from it (floor: 3 s together);
* raw environment steps per second with random actions: BitBot's ``FuturesTradingEnv`` side
  by side with FreqAI's stock ``ReinforcementLearner`` environment (``Base5ActionRLEnv`` with
  its example reward), on the same data in the same process (floor: 5x);
* PPO training timesteps per second (MetaPPO's settings: MlpPolicy [64, 64], n_steps 1024,
  batch 128, 5 epochs, on 1 thread as on a 2-core machine);
* the stacked predictors' fitting time per window, and synthetic pre-training's set-up (the
  generated market and its features) with the timesteps it adds per new agent;
* with ``--walk-forward``: wall time of the one-year walk-forward backtest
  (2024-11-17 to 2025-11-16, Binance proxy, 1h) through ``bitbot backtesting``.

Usage: ``.venv/bin/python bench/bench_meta.py [--datadir DIR] [--walk-forward]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from meta_strategy.paths import FEE  # noqa: E402
from meta_strategy.rl.costs import CostModel  # noqa: E402
from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays  # noqa: E402


PAIR = "BTC/USDT:USDT"
STEPS = 50_000


def load_candles(datadir: Path) -> tuple[pd.DataFrame, str]:
    """:return: 1h candles with their reference price (``reference_close``: the spot pair's
    close) and where they come from"""
    from meta_strategy.data.reference import align_reference

    path = datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather"
    if path.is_file():
        candles = pd.read_feather(path)
        spot = pd.read_feather(datadir / "BTC_USDT-1h.feather")
        return candles.assign(reference_close=align_reference(candles["date"], spot)), (
            f"real {path}"
        )
    from meta_strategy.data.synthetic.config import SyntheticMarketConfig
    from meta_strategy.data.synthetic.simulate import generate_market

    market = generate_market(SyntheticMarketConfig(start="2019-09-01", end="2025-11-17"))
    candles = market.candles_at("1h")
    candles["reference_close"] = market.index_at("1h")["close"].to_numpy()
    return candles, f"SYNTHETIC (no {path})"


def bench_signals(candles: pd.DataFrame) -> None:
    from freqtrade.configuration import Configuration

    from meta_strategy.signals.allocation import allocation_features
    from meta_strategy.signals.engine import SignalEngine
    from meta_strategy.signals.registry import load_registry

    config = Configuration.from_files(
        [str(REPO / "user_data" / "config.json"), str(REPO / "user_data" / "config.binance.json")]
    )
    config["strategy_path"] = str(REPO / "user_data" / "strategies")
    registry = load_registry(REPO / "user_data" / "strategies_registry.json", "1h")
    engine = SignalEngine(registry, config)
    funding = pd.Series(np.where(np.arange(len(candles)) % 8 == 0, 1e-4, 0.0), index=candles.index)
    reference = candles["reference_close"]
    engine.compute(candles.iloc[:6000], PAIR, funding.iloc[:6000], reference.iloc[:6000])
    signal_times, feature_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        signals = engine.compute(candles, PAIR, funding, reference)
        middle = time.perf_counter()
        allocation_features(candles, signals, registry, funding, FEE, 24)
        signal_times.append(middle - start)
        feature_times.append(time.perf_counter() - middle)
    total = min(s + f for s, f in zip(signal_times, feature_times, strict=True))
    print(
        f"signals + allocation features: {len(registry.enabled)} registry entries on "
        f"{len(candles)} 1h candles: best of 3 {total:.3f} s (signals {min(signal_times):.3f} s, "
        f"track records and regimes {min(feature_times):.3f} s; floor 3 s)"
    )


def _steps_per_second(env, steps: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, env.action_space.n, steps)
    env.reset(seed=seed)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(int(a))
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def bench_envs(candles: pd.DataFrame) -> None:
    from freqtrade.freqai.prediction_models.ReinforcementLearner import ReinforcementLearner

    rng = np.random.default_rng(1)
    n_features = 25
    features = rng.normal(size=(len(candles), n_features)).astype(np.float32)
    ours = FuturesTradingEnv(features, MarketArrays.from_frame(candles), CostModel())
    ours_sps = _steps_per_second(ours, STEPS)

    tf = "1h"
    columns = [f"%-f{i}" for i in range(n_features - 1)]
    columns.append(f"%-rsi-period-10_shift-1_{PAIR}_{tf}")  # what the stock reward reads
    df = pd.DataFrame(features, columns=columns)
    df[columns[-1]] = rng.uniform(10, 90, len(df))
    prices = candles[["open", "high", "low", "close"]].reset_index(drop=True)
    config = {
        "timeframe": tf,
        "stake_amount": "unlimited",
        "freqai": {
            "rl_config": {
                "max_trade_duration_candles": 300,
                "model_reward_parameters": {"rr": 1, "profit_aim": 0.025},
            }
        },
    }
    stock = ReinforcementLearner.MyRLEnv(
        df=df,
        prices=prices,
        reward_kwargs={"rr": 1, "profit_aim": 0.025},
        window_size=1,
        config=config,
        live=False,
        fee=FEE,
        can_short=True,
        pair=PAIR,
        df_raw=df,
    )
    stock_steps = 5_000
    stock_sps = _steps_per_second(stock, stock_steps)
    print(f"env steps/s, random actions, {n_features} features, real prices:")
    print(f"  BitBot FuturesTradingEnv        {ours_sps:>10,.0f} steps/s ({STEPS} steps)")
    print(f"  FreqAI ReinforcementLearner env {stock_sps:>10,.0f} steps/s ({stock_steps} steps)")
    print(f"  ratio {ours_sps / stock_sps:.1f}x (floor 5x)")


def bench_ppo(candles: pd.DataFrame, timesteps: int = 20_480) -> None:
    """
    PPO's training throughput with one environment and with ``rl_config.n_envs`` copies
    (:mod:`meta_strategy.rl.vector`), the same 1,024 transitions per rollout.
    """
    import torch as th
    from stable_baselines3 import PPO

    from meta_strategy.rl.vector import seed_envs, training_envs

    th.set_num_threads(1)
    rng = np.random.default_rng(2)
    features = rng.normal(size=(len(candles), 90)).astype(np.float32)  # the meta layer's ~90
    rates = {}
    for n_envs in (1, 4, 8):
        envs = training_envs(
            lambda: FuturesTradingEnv(features, MarketArrays.from_frame(candles), CostModel()),
            n_envs,
        )
        seed_envs(envs, 0)
        model = PPO(
            "MlpPolicy",
            envs,
            n_steps=1024 // n_envs,
            batch_size=128,
            n_epochs=5,
            seed=0,
            policy_kwargs={"net_arch": [64, 64]},
            device="cpu",
            verbose=0,
        )
        start = time.perf_counter()
        model.learn(total_timesteps=timesteps)
        rates[n_envs] = timesteps / (time.perf_counter() - start)
        print(
            f"PPO training, n_envs {n_envs}: {rates[n_envs]:>8,.0f} timesteps/s "
            f"({timesteps} timesteps, 1 torch thread, {1024 // n_envs} steps per copy)"
        )
    print(f"  ratio n_envs 8 / 1: {rates[8] / rates[1]:.1f}x")


def bench_predictors(candles: pd.DataFrame) -> None:
    """
    The stacked predictors' cost per walk-forward window (``rl_config.predictors``): fitting
    one predictor out of fold (3 folds) and on the whole window, on a 180-day training window
    of 90 features, one torch thread.
    """
    import torch as th

    from meta_strategy.rl.predictors import PredictorStack

    th.set_num_threads(1)
    window = 180 * 24
    rng = np.random.default_rng(3)
    features = rng.normal(size=(window, 90)).astype(np.float32)
    close = candles["close"].to_numpy()[-window:]
    for name in ("lightgbm", "gru"):
        stack = PredictorStack((name,), horizon=24, folds=3, seed=0)
        start = time.perf_counter()
        stack.fit(features, close)
        fitted = time.perf_counter() - start
        print(f"stacked predictor {name:<8}: {fitted:5.1f} s per 180-day window (3 folds + whole)")


def bench_pretraining() -> None:
    """
    Synthetic pre-training's set-up (``rl_config.synthetic_pretraining``, shipped off): the
    generated market and the MetaStrategy's features on it, once per run; then each new agent
    trains ``train_cycles`` x its usable candles timesteps (at the PPO rate above).
    """
    from freqtrade.configuration import Configuration
    from freqtrade.resolvers import StrategyResolver

    from meta_strategy.rl.pretraining import PretrainingConfig

    config = Configuration.from_files(
        [str(REPO / "user_data" / f) for f in ("config.json", "config.binance.json")]
        + [str(REPO / "user_data" / "config.freqai.json")]
    )
    config["strategy"] = "MetaStrategy"
    config["strategy_path"] = str(REPO / "user_data" / "strategies")
    strategy = StrategyResolver.load_strategy(config)
    pretraining = PretrainingConfig(days=730)
    start = time.perf_counter()
    market = pretraining.market()
    generated = time.perf_counter() - start
    frame = strategy.synthetic_features(market, PAIR)
    total = time.perf_counter() - start
    usable = int(frame[[c for c in frame.columns if c.startswith("%-")]].notna().all(axis=1).sum())
    print(
        f"synthetic pre-training set-up, 730 days: {total:.1f} s (market {generated:.1f} s, "
        f"features {total - generated:.1f} s); {usable} usable candles -> "
        f"{pretraining.timesteps(usable):,} timesteps per new agent (train_cycles 5)"
    )


def bench_walk_forward(datadir: Path) -> None:
    cmd = [
        str(Path(sys.executable).parent / "bitbot"),
        "backtesting",
        "-c",
        "user_data/config.json",
        "-c",
        "user_data/config.binance.json",
        "-c",
        "user_data/config.freqai.json",
        "--strategy",
        "MetaStrategy",
        "--timerange",
        "20241117-20251116",
        "--datadir",
        str(datadir),
        "--cache",
        "none",
    ]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    print(
        f"one-year walk-forward backtest (exit {result.returncode}): {elapsed / 60:.1f} min "
        f"on {os.cpu_count()} cores (models already trained for an identifier are reused: "
        "clear user_data/models/meta-ppo for a cold run)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    parser.add_argument("--walk-forward", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    candles, source = load_candles(Path(args.datadir))
    print(f"data: {len(candles)} 1h candles <- {source}\n")
    bench_signals(candles)
    bench_envs(candles)
    bench_ppo(candles)
    bench_predictors(candles)
    bench_pretraining()
    if args.walk_forward:
        bench_walk_forward(Path(args.datadir))


if __name__ == "__main__":
    main()
