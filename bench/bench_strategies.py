"""
Benchmark: each POC strategy's indicators and signals on the full 1h and 5m histories.

Prints figures, asserts nothing. For every strategy: best-of-3 wall time of
``advise_indicators`` + ``advise_entry`` + ``advise_exit`` (what Freqtrade runs per pair) on the
real Binance BTC perpetual 1h file (54k candles) and 5m file (300k candles), after one warm-up
run that compiles the numba kernels. Project floor: under 1 s per strategy on 300k candles.

Usage: ``.venv/bin/python bench/bench_strategies.py [--datadir DIR]`` (default ``$BITBOT_DATA``
or ``../shared/data/binance``). Without real data, a synthetic market of the same length is
used, and said so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from freqtrade.configuration import Configuration  # noqa: E402
from freqtrade.resolvers import StrategyResolver  # noqa: E402


STRATEGIES = ("VolatilitySystem", "SupertrendStrategy", "OTTStrategy", "BbandRsi")
FILES = {
    "1h": "futures/BTC_USDT_USDT-1h-futures.feather",
    "5m": "futures/BTC_USDT_USDT-5m-futures.feather",
}
FLOOR_5M_SECONDS = 1.0


def load_candles(datadir: Path, timeframe: str) -> tuple[pd.DataFrame, str]:
    """:return: candles and a description of where they come from"""
    path = datadir / FILES[timeframe]
    if path.is_file():
        return pd.read_feather(path), f"real {path}"
    from meta_strategy.data.synthetic.config import SyntheticMarketConfig
    from meta_strategy.data.synthetic.simulate import generate_market

    years = "2019-09-01" if timeframe == "1h" else "2023-01-01"
    market = generate_market(SyntheticMarketConfig(start=years, end="2025-11-17"))
    return market.candles_at(timeframe), f"SYNTHETIC (no {path})"


def load_strategy(name: str, timeframe: str):
    """:return: the strategy as Freqtrade loads it, at ``timeframe``"""
    config = Configuration.from_files([str(REPO / "user_data" / "config.json")])
    config.update(
        strategy=name, strategy_path=str(REPO / "user_data" / "strategies"), timeframe=timeframe
    )
    strategy = StrategyResolver.load_strategy(config)
    strategy.ft_bot_start()
    return strategy


def populate(strategy, candles: pd.DataFrame) -> pd.DataFrame:
    meta = {"pair": "BTC/USD:USD"}
    df = strategy.advise_indicators(candles.copy(), meta)
    df = strategy.advise_entry(df, meta)
    return strategy.advise_exit(df, meta)


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)
    data = {tf: load_candles(Path(args.datadir), tf) for tf in FILES}
    for tf, (df, source) in data.items():
        print(f"{tf}: {len(df):>7} candles <- {source}")
    print(
        f"\n{'strategy':<20} {'warm-up 1h (s)':>15} {'1h (s)':>9} {'5m (s)':>9} "
        f"{'5m us/candle':>13}  floor 5m < {FLOOR_5M_SECONDS:g} s"
    )
    for name in STRATEGIES:
        row = [name]
        strategy_1h = load_strategy(name, "1h")
        start = time.perf_counter()
        populate(strategy_1h, data["1h"][0])
        row.append(time.perf_counter() - start)
        row.append(best_of(3, lambda s=strategy_1h: populate(s, data["1h"][0])))
        strategy_5m = load_strategy(name, "5m")
        populate(strategy_5m, data["5m"][0].iloc[:5000])
        seconds_5m = best_of(3, lambda s=strategy_5m: populate(s, data["5m"][0]))
        row.append(seconds_5m)
        per_candle = seconds_5m / len(data["5m"][0]) * 1e6
        verdict = "ok" if seconds_5m < FLOOR_5M_SECONDS else "SLOWER THAN FLOOR"
        print(
            f"{row[0]:<20} {row[1]:>15.3f} {row[2]:>9.3f} {row[3]:>9.3f} {per_candle:>13.2f}  "
            f"{verdict}"
        )


if __name__ == "__main__":
    main()
