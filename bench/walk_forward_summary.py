"""
Out-of-sample summary of a Freqtrade backtest next to buy-and-hold of the perpetual.

For each strategy in the latest backtest result of ``--results``: trades, total return,
Sharpe, Sortino and maximum drawdown of the daily wallet balance (``meta_strategy.metrics``
conventions), fees and funding paid; and the same figures for 1x buy-and-hold of the
perpetual over the same period (funding and the config's fee included).

Usage: ``.venv/bin/python bench/walk_forward_summary.py --results DIR [--datadir D]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from meta_strategy.metrics import buy_and_hold_summary, strategy_summaries  # noqa: E402


def main() -> None:
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True)
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    parser.add_argument("--pair", default="BTC/USDT:USDT")
    parser.add_argument("--fee", type=float, default=0.0005)
    args = parser.parse_args()
    results = Path(args.results)
    stats = load_backtest_stats(results / get_latest_backtest_filename(results))
    first = next(iter(stats["strategy"].values()))
    start, end = first["backtest_start"][:10], first["backtest_end"][:10]
    print(f"Out of sample {start} .. {end}")
    for row in strategy_summaries(stats):
        print(row)
    pair = args.pair
    print(buy_and_hold_summary(Path(args.datadir), pair, start, end, args.fee))


if __name__ == "__main__":
    main()
