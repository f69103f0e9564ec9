"""
How the registered strategies' signals did, and how their returns move together, over a period.

Follows each registry entry's direction one candle at a time
(:func:`meta_strategy.signals.track_record.following_returns`: fee per fill, funding), sums the
log returns by UTC day and prints each entry's annualised Sharpe ratio, maximum drawdown and
time in the market, then the correlation matrix of the daily returns. A strategy's Freqtrade
backtest differs (its own stake rules, stops and add-ons); this is the quick view of which
parts diversify which, e.g. before choosing a registry for the meta layer. Choose on the
validation period only.

Usage: ``.venv/bin/python bench/strategy_correlations.py [--start 2021-01-01] [--end 2024-01-01]
[--registry user_data/strategies_registry.json] [--datadir D]`` (Binance proxy data:
``futures/BTC_USDT_USDT-1h-futures.feather``, its funding rates and the spot pair's candles).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from freqtrade.configuration import Configuration  # noqa: E402

from meta_strategy.data.candles import align_funding, load_candles, load_funding  # noqa: E402
from meta_strategy.data.files import candle_file  # noqa: E402
from meta_strategy.data.reference import load_reference_closes  # noqa: E402
from meta_strategy.paths import BINANCE_PAIR as PAIR  # noqa: E402
from meta_strategy.paths import STRATEGY_REGISTRY  # noqa: E402
from meta_strategy.research.metrics import max_drawdown, sharpe_ratio  # noqa: E402
from meta_strategy.rl.costs import cost_per_fill  # noqa: E402
from meta_strategy.signals.engine import SignalEngine  # noqa: E402
from meta_strategy.signals.registry import load_registry  # noqa: E402
from meta_strategy.signals.track_record import following_returns  # noqa: E402


CONFIGS = ("config.json", "config.binance.json")
"""The Binance proxy's configs, as the report loads them."""
WARMUP = pd.Timedelta(days=200)
"""Candles before ``--start`` that the signals' lookbacks read."""


def registry_signals(
    args: argparse.Namespace, config: dict
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """:return: the 1h candles from :data:`WARMUP` before ``--start`` to ``--end``, their
    funding rates and every registry entry's signals on them"""
    datadir = Path(args.datadir)
    candles = load_candles(candle_file(datadir, PAIR, "1h"))
    start, end = pd.Timestamp(args.start, tz="UTC"), pd.Timestamp(args.end, tz="UTC")
    candles = candles[(candles["date"] >= start - WARMUP) & (candles["date"] < end)]
    candles = candles.reset_index(drop=True)
    funding = align_funding(
        candles["date"], load_funding(candle_file(datadir, PAIR, "1h", "funding_rate"))
    )
    reference = load_reference_closes(datadir, config, PAIR, "1h", candles["date"])
    engine = SignalEngine(load_registry(Path(args.registry), "1h"), config)
    return candles, funding, engine.compute(candles, PAIR, funding, reference)


def daily_returns(args: argparse.Namespace, config: dict, fee: float) -> pd.DataFrame:
    """:return: one column per registry entry: its daily log return of following it"""
    candles, funding, signals = registry_signals(args, config)
    start = pd.Timestamp(args.start, tz="UTC")
    out = {}
    for column in signals.columns:
        if column.endswith("_direction"):
            name = column.removeprefix("%-sig_").removesuffix("_direction")
            direction = signals[column].fillna(0.0)
            net = following_returns(direction, candles["close"], funding, fee)
            out[name] = np.log1p(net.set_axis(pd.DatetimeIndex(candles["date"])))
    returns = pd.DataFrame(out)
    return returns[returns.index >= start].resample("1D").sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", default="2021-01-01")
    parser.add_argument("--end", default="2024-01-01")
    parser.add_argument("--registry", default=str(STRATEGY_REGISTRY))
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    parser.add_argument("--fee", type=float, help="cost per fill (default: fee + slippage)")
    args = parser.parse_args()
    config = Configuration.from_files([str(REPO / "user_data" / f) for f in CONFIGS])
    fee = cost_per_fill(config) if args.fee is None else args.fee
    daily = daily_returns(args, config, fee)
    summary = pd.DataFrame(
        {
            "sharpe": daily.apply(sharpe_ratio, periods_per_year=365.0),
            "max_drawdown": np.exp(daily.cumsum()).apply(max_drawdown),
            "days_in_market": (daily != 0).mean(),
        }
    )
    pd.set_option("display.width", 200)
    print(f"Following each entry's direction, {args.start} .. {args.end} (cost {fee:.4%} a fill):")
    print(summary.round(2).to_string())
    print("\nCorrelation of their daily returns:")
    print(daily.corr().round(2).to_string())


if __name__ == "__main__":
    main()
