"""Benchmark of meta_strategy.signals.indicators on the real BTC perp 1h and 5m candles.

Prints figures (no asserts): numba compile time, best-of-3 wall time of every indicator on both
files, and the speed-up of the numba ``ott`` over the pure-Python ``ott_reference`` measured on
the same data in the same process (project floor: >= 50x).

Usage: ``.venv/bin/python bench/bench_indicators.py [--datadir DIR]``; ``DIR`` defaults to
``$BITBOT_DATA`` or ``../shared/data/binance`` next to the repository. A missing file is
replaced by a seeded synthetic random walk of the same length (and said so).
"""

from __future__ import annotations

import sys
from pathlib import Path


REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from meta_strategy.signals import indicators as ind  # noqa: E402
from tests.helpers.reference_indicators import ott_reference  # noqa: E402


DEFAULT_DATADIR = REPO_ROOT.parent / "shared" / "data" / "binance"
FILES = {
    "1h": ("futures/BTC_USDT_USDT-1h-futures.feather", 54_271),
    "5m": ("futures/BTC_USDT_USDT-5m-futures.feather", 302_688),
}
SPEEDUP_FLOOR = 50.0


def synthetic_ohlc(n: int, seed: int = 42) -> pd.DataFrame:
    """Seeded BTC-like geometric random walk with ``n`` candles.

    :param n: number of candles.
    :param seed: RNG seed.
    :return: OHLCV DataFrame on a RangeIndex.
    """
    rng = np.random.default_rng(seed)
    close = np.round(30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.004, n))), 1)
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, 0.002, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, 0.002, n)))
    volume = rng.gamma(2.0, 500.0, n)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume})


def load(datadir: Path, name: str) -> tuple[pd.DataFrame, str]:
    """Load one candle file, or a synthetic stand-in of the same length.

    :param datadir: Binance data directory.
    :param name: key of ``FILES``.
    :return: (OHLCV DataFrame, description of its origin).
    """
    rel, rows = FILES[name]
    path = datadir / rel
    if path.is_file():
        df = pd.read_feather(path)
        cols = ["open", "high", "low", "close", "volume"]
        return df[cols].astype(np.float64).reset_index(drop=True), f"real {path}"
    return synthetic_ohlc(rows), f"SYNTHETIC random walk ({path} not found)"


def best_of(func: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls.

    :param func: zero-argument callable.
    :param repeat: number of runs.
    :return: the smallest time in seconds (time.perf_counter).
    """
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    """Run the benchmark and print the figures.

    :return: process exit code (always 0).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get("BITBOT_DATA")
    parser.add_argument(
        "--datadir",
        type=Path,
        default=Path(env) if env else DEFAULT_DATADIR,
        help="Binance data directory holding futures/*.feather (default: $BITBOT_DATA or "
        f"{DEFAULT_DATADIR})",
    )
    args = parser.parse_args()

    data = {name: load(args.datadir, name) for name in FILES}
    for name, (df, origin) in data.items():
        print(f"{name}: {len(df):>7} rows  <- {origin}")

    t0 = time.perf_counter()
    tiny = synthetic_ohlc(64)
    ind.atr(tiny, 14)
    ind.rsi(tiny["close"], 14)
    ind.supertrend(tiny, 3, 10)
    ind.ott(tiny)
    print(f"numba warm-up (compile or load from cache): {time.perf_counter() - t0:.3f} s")

    cases: dict[str, Callable[[pd.DataFrame], object]] = {
        "true_range": ind.true_range,
        "atr(14)": lambda d: ind.atr(d, 14),
        "rsi(14)": lambda d: ind.rsi(d["close"], 14),
        "typical_price": ind.typical_price,
        "bollinger_bands(20,2)": lambda d: ind.bollinger_bands(d["close"], 20, 2.0),
        "adx(14) [ta-lib]": lambda d: ind.adx(d, 14),
        "supertrend(3,10)": lambda d: ind.supertrend(d, 3, 10),
        "ott(2,1.4,9)": lambda d: ind.ott(d),
    }
    print()
    print(f"{'indicator':<24}" + "".join(f"{name + ' (ms)':>14}" for name in data))
    for label, func in cases.items():
        times = [best_of(lambda f=func, d=df: f(d)) * 1e3 for df, _ in data.values()]
        print(f"{label:<24}" + "".join(f"{t:>14.3f}" for t in times))

    print()
    print("ott (numba) vs ott_reference (pure Python), same data, same process, best of 3:")
    worst = float("inf")
    for name, (df, _) in data.items():
        close_list = df["close"].tolist()
        fast = best_of(lambda d=df: ind.ott(d))
        slow = best_of(lambda c=close_list: ott_reference(c, 2, 1.4, 9))
        ref_var, ref_ott = ott_reference(close_list, 2, 1.4, 9)
        out = ind.ott(df)
        max_diff = max(
            float(np.nanmax(np.abs(out["var"].to_numpy() - np.asarray(ref_var)))),
            float(np.nanmax(np.abs(out["ott"].to_numpy() - np.asarray(ref_ott)))),
        )
        ratio = slow / fast
        worst = min(worst, ratio)
        print(
            f"  {name}: ott {fast * 1e3:9.3f} ms  ott_reference {slow * 1e3:10.1f} ms  "
            f"speed-up {ratio:8.1f}x  max|diff| {max_diff:.3g}"
        )
    verdict = "meets" if worst >= SPEEDUP_FLOOR else "BELOW"
    print(f"lowest speed-up {worst:.1f}x {verdict} the project floor of {SPEEDUP_FLOOR:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
