"""
Out-of-sample summary of a Freqtrade backtest next to buy-and-hold of the perpetual.

For each strategy in the latest backtest result of ``--results``: trades, total return,
Sharpe, Sortino and maximum drawdown of the daily wallet balance (``meta_strategy.research.metrics``
conventions), fees and funding paid; and the same figures for 1x buy-and-hold of the
perpetual over the same period (funding and fees included). ``bitbot compare`` prints the same.

Usage: ``.venv/bin/python bench/walk_forward_summary.py --results DIR [--datadir D]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from meta_strategy.paths import FEE  # noqa: E402
from meta_strategy.research.compare import print_out_of_sample_summary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True)
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    parser.add_argument("--pair", default="BTC/USDT:USDT")
    parser.add_argument("--fee", type=float, default=FEE)
    args = parser.parse_args()
    print_out_of_sample_summary(Path(args.results), Path(args.datadir), args.pair, args.fee)


if __name__ == "__main__":
    main()
