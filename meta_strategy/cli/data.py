"""``bitbot synth`` (a SYNTHETIC market) and ``bitbot data check`` (are the files sound?)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from meta_strategy.paths import ENV_DATADIR, KRAKEN_PAIR, SYNTHETIC_DATA_DIR


def add_parsers(sub: Any) -> None:
    """:param sub: the ``bitbot`` subparsers"""
    p_synth = sub.add_parser("synth", help="Write a deterministic SYNTHETIC market (offline demo)")
    p_synth.set_defaults(handler=run_synth)
    p_synth.add_argument("--datadir", default=str(SYNTHETIC_DATA_DIR))
    p_synth.add_argument("--pair", default=KRAKEN_PAIR)
    p_synth.add_argument("--seed", type=int, default=42)
    p_synth.add_argument("--start", default="2022-01-01")
    p_synth.add_argument("--end", default="2024-01-01")

    p_data = sub.add_parser("data", help="Check data files (exists, readable, no NaN, ordered)")
    p_data.set_defaults(handler=run_data_check)
    dsub = p_data.add_subparsers(dest="data_command", required=True)
    p_check = dsub.add_parser("check")
    p_check.add_argument("--datadir", default=os.environ.get(ENV_DATADIR), required=False)
    p_check.add_argument("--pairs", nargs="+", default=[KRAKEN_PAIR])
    p_check.add_argument("--timeframes", nargs="+", default=["1h"])
    p_check.add_argument("--trading-mode", default="futures", choices=("futures", "spot"))
    p_check.add_argument("--timerange")


def run_synth(ns: argparse.Namespace) -> int:
    """``bitbot synth``"""
    from meta_strategy.data.synthetic.config import SyntheticMarketConfig
    from meta_strategy.data.synthetic.files import write_freqtrade_data
    from meta_strategy.data.synthetic.simulate import generate_market

    try:
        config = SyntheticMarketConfig(seed=ns.seed, start=ns.start, end=ns.end)
    except ValueError as e:
        print(f"bitbot: synth: {e}", file=sys.stderr)
        return 2
    market = generate_market(config)
    paths = write_freqtrade_data(market, Path(ns.datadir), pair=ns.pair)
    print(f"SYNTHETIC market (seed {ns.seed}, {ns.start} to {ns.end}) written to {ns.datadir}:")
    for p in paths:
        print(f"  {p}")
    return 0


def run_data_check(ns: argparse.Namespace) -> int:
    """``bitbot data check``"""
    from meta_strategy.data.checks import validate_datadir
    from meta_strategy.data.files import DataError

    if not ns.datadir:
        print("bitbot: data check needs --datadir or BITBOT_DATA", file=sys.stderr)
        return 2
    try:
        reports = validate_datadir(
            Path(ns.datadir),
            pairs=ns.pairs,
            timeframes=ns.timeframes,
            trading_mode=ns.trading_mode,
            timerange=ns.timerange,
        )
    except DataError as e:
        print(f"bitbot: data error: {e}", file=sys.stderr)
        return 2
    for report in reports:
        print(report)
    return 0
