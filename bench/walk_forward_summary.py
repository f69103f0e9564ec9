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

import pandas as pd


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from meta_strategy.metrics import buy_and_hold_equity, performance  # noqa: E402


def strategy_rows(stats: dict) -> list[str]:
    rows = []
    for name, s in stats["strategy"].items():
        start = s["starting_balance"]
        days = pd.DataFrame(s["daily_profit"], columns=["date", "profit"])
        days["date"] = pd.to_datetime(days["date"], utc=True)
        equity = start + days.set_index("date")["profit"].cumsum()
        equity = pd.concat(
            [pd.Series([start], index=[equity.index[0] - pd.Timedelta(days=1)]), equity]
        )
        perf = performance(equity)
        trades = s["trades"]
        fees = sum(
            t["amount"] * (t["open_rate"] * t["fee_open"] + t["close_rate"] * t["fee_close"])
            for t in trades
        )
        funding = -sum(t["funding_fees"] for t in trades)
        shorts = sum(1 for t in trades if t["is_short"])
        rows.append(
            f"{name:<18} trades {len(trades):>4} ({len(trades) - shorts} long, {shorts} short)  "
            f"{perf.row()}  fees paid {fees / start:6.2%}  funding paid {funding / start:+7.3%}"
        )
    return rows


def main() -> None:
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True)
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    parser.add_argument("--pair", default="BTC_USDT_USDT")
    parser.add_argument("--fee", type=float, default=0.0005)
    args = parser.parse_args()
    results = Path(args.results)
    stats = load_backtest_stats(results / get_latest_backtest_filename(results))
    first = next(iter(stats["strategy"].values()))
    start, end = first["backtest_start"][:10], first["backtest_end"][:10]
    print(f"Out of sample {start} .. {end}")
    for row in strategy_rows(stats):
        print(row)
    futures = Path(args.datadir) / "futures"
    candles = pd.read_feather(futures / f"{args.pair}-1h-futures.feather")
    funding = pd.read_feather(futures / f"{args.pair}-1h-funding_rate.feather")
    equity, paid = buy_and_hold_equity(candles, funding, start, end, fee=args.fee)
    print(
        f"{'buy-and-hold perp':<18} trades    1 (1 long, 0 short)  {performance(equity).row()}  "
        f"fees paid {2 * args.fee:6.2%}  funding paid {paid:+7.3%}"
    )


if __name__ == "__main__":
    main()
