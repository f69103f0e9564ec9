"""``bitbot markets snapshot / build / show``: markets snapshots (offline market definitions)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def add_parsers(sub: Any) -> None:
    """:param sub: the ``bitbot`` subparsers"""
    p_markets = sub.add_parser("markets", help="Markets snapshots (offline market definitions)")
    p_markets.set_defaults(handler=run_markets)
    msub = p_markets.add_subparsers(dest="markets_command", required=True)
    for name, helptext in (
        ("snapshot", "Save the live markets and leverage tiers of an exchange (needs network)"),
        ("build", "Build a snapshot offline from saved raw API responses, via ccxt's parsers"),
    ):
        p = msub.add_parser(name, help=helptext)
        p.add_argument("--exchange", required=True, help="ccxt id, e.g. krakenfutures, binance")
        p.add_argument("--pairs", nargs="+", required=True, help="e.g. BTC/USD:USD")
        p.add_argument("--trading-mode", default="futures", choices=("futures", "spot"))
        p.add_argument("--output", help="default: user_data/markets/<exchange>.json")
        if name == "build":
            p.add_argument("--raw", required=True, help="JSON: ccxt raw method name -> response")
    p_show = msub.add_parser("show", help="Print what a snapshot holds")
    p_show.add_argument("--exchange", default="krakenfutures")
    p_show.add_argument("--file", help="snapshot file (default: user_data/markets/<exchange>.json)")


def run_markets(ns: argparse.Namespace) -> int:
    """``bitbot markets ...``; a :class:`SnapshotError` is reported by :func:`..main.main`."""
    from meta_strategy.data import markets

    if ns.markets_command == "show":
        path = Path(ns.file) if ns.file else markets.default_snapshot_path(ns.exchange)
        snap = markets.load_snapshot(path)
        print(f"{path}: {snap.exchange}, created {snap.created}, source: {snap.source}")
        for symbol, market in snap.markets.items():
            tiers = snap.leverage_tiers.get(symbol, [])
            max_lev = max((t.get("maxLeverage") or 0 for t in tiers), default=None)
            print(
                f"  {symbol:<16} id={market['id']:<12} precision={market['precision']} "
                f"taker={market.get('taker')} maker={market.get('maker')} "
                f"tiers={len(tiers)} max_leverage={max_lev}"
            )
        return 0
    output = Path(ns.output) if ns.output else markets.default_snapshot_path(ns.exchange)
    if ns.markets_command == "snapshot":
        snap = markets.fetch_snapshot(
            ns.exchange,
            ns.pairs,
            ns.trading_mode,
            api_key=os.environ.get("BITBOT_EXCHANGE_KEY"),
            secret=os.environ.get("BITBOT_EXCHANGE_SECRET"),
        )
    else:
        try:
            raw: dict[str, Any] = json.loads(Path(ns.raw).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise markets.SnapshotError(f"Cannot read raw responses {ns.raw}: {e}") from e
        source = raw.pop("_source", f"raw API responses from {ns.raw}")
        snap = markets.build_snapshot_from_raw(
            ns.exchange,
            raw,
            ns.pairs,
            ns.trading_mode,
            source=source,
            notes=(
                f"Built offline by `bitbot markets build --raw {ns.raw}` through ccxt's own "
                "parsers; `bitbot markets snapshot` refreshes it from the live exchange.",
            ),
        )
    markets.save_snapshot(snap, output)
    print(f"Saved {len(snap.markets)} market(s) and their leverage tiers to {output}")
    return 0
