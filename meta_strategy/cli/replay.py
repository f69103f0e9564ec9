"""
``bitbot replay`` (``make replay``): the real bot against a recorded market, and
``bitbot replay-fault``: inject a fault into a running replay, or clear it.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meta_strategy.paths import ENV_DATADIR, REPLAY_ROOT


def add_parsers(sub: Any) -> None:
    """:param sub: the ``bitbot`` subparsers"""
    p_replay = sub.add_parser(
        "replay",
        allow_abbrev=False,
        help="The real bot (trade, dry-run) against a recorded market, in shifted time",
        description="Runs `freqtrade trade` in dry-run against recorded candles, mark prices, "
        "funding and a synthetic order book, with the bot's clock in the recording's time "
        "(optionally faster). Every other option goes to `freqtrade trade` (-c, -s, "
        "--freqaimodel, ...). A replay resumes where it stopped unless --fresh is given.",
    )
    p_replay.add_argument(
        "--recording",
        default=os.environ.get(ENV_DATADIR),
        help="Freqtrade data folder with the recorded market (default: $BITBOT_DATA)",
    )
    p_replay.add_argument("--start", help="virtual start, UTC, e.g. 2025-06-01 (new replays)")
    p_replay.add_argument(
        "--speed", type=float, default=1.0, help="virtual seconds per real second (default 1)"
    )
    p_replay.add_argument(
        "--recorded-pair",
        help="pair in the recording standing in for the traded one (default: the traded pair, "
        "or the recording's only pair)",
    )
    p_replay.add_argument("--name", default="default", help="replay name: user_data/replay/NAME")
    p_replay.add_argument(
        "--root",
        default=str(REPLAY_ROOT),
        help="parent folder of replays (default: user_data/replay)",
    )
    p_replay.add_argument(
        "--fresh", action="store_true", help="start over: delete the replay's database and clock"
    )
    p_replay.add_argument(
        "--telegram",
        action="store_true",
        help="keep Telegram on (off by default: replay messages would reach the real chat)",
    )
    p_replay.add_argument("--spread-bps", type=float, default=2.0, help="synthetic spread")
    p_replay.add_argument(
        "--book-level-amount", type=float, default=1.0, help="contracts at the best book level"
    )

    p_fault = sub.add_parser(
        "replay-fault",
        help="Inject a fault into a running replay (exchange down, candles late) or clear it",
    )
    p_fault.set_defaults(handler=run_replay_fault)
    p_fault.add_argument("fault", choices=("exchange-down", "candles-late", "clear"))
    p_fault.add_argument("--name", default="default", help="replay name")
    p_fault.add_argument(
        "--root",
        default=str(REPLAY_ROOT),
        help="parent folder of replays (default: user_data/replay)",
    )


def run_replay_command(ns: argparse.Namespace, trade_argv: list[str]) -> int:
    """
    ``bitbot replay``: BitBot's options, parsed; the rest goes to ``freqtrade trade``.

    :param ns: the replay options
    :param trade_argv: ``freqtrade trade`` options (``-c``, ``-s``, ...)
    :return: exit code
    """
    from freqtrade.loggers import setup_logging_pre

    from meta_strategy.ops.replay.errors import ReplayError
    from meta_strategy.ops.replay.market import BookModel
    from meta_strategy.ops.replay.session import run_replay
    from meta_strategy.ops.replay.settings import ReplaySettings

    setup_logging_pre()
    try:
        if not ns.recording:
            raise ReplayError("no recording: give --recording or set BITBOT_DATA")
        settings = ReplaySettings(
            recording=Path(ns.recording),
            start=parse_utc(ns.start) if ns.start else None,
            speed=ns.speed,
            recorded_pair=ns.recorded_pair,
            name=ns.name,
            root=Path(ns.root),
            fresh=ns.fresh,
            book=BookModel(spread_bps=ns.spread_bps, level_amount=ns.book_level_amount),
            telegram=ns.telegram,
        )
        return run_replay(settings, trade_argv)
    except ValueError as e:  # ReplayError, DataError, SnapshotError, bad book values
        print(f"bitbot: replay error: {e}", file=sys.stderr)
        return 2


def parse_utc(text: str) -> datetime:
    """
    :param text: a date or date-time, UTC unless it says otherwise
    :return: the timezone-aware time
    :raises ReplayError: it is not a date
    """
    from meta_strategy.ops.replay.errors import ReplayError

    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise ReplayError(
            f"--start {text!r} is not a date; e.g. 2025-06-01 or 2025-06-01T12:00"
        ) from e
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def run_replay_fault(ns: argparse.Namespace) -> int:
    """``bitbot replay-fault``"""
    try:
        return _replay_fault(ns)
    except ValueError as e:  # a corrupt faults or clock file
        print(f"bitbot: replay-fault error: {e}", file=sys.stderr)
        return 2


def _replay_fault(ns: argparse.Namespace) -> int:
    from meta_strategy.ops.replay.clock import read_clock_file
    from meta_strategy.ops.replay.faults import FaultState, read_faults, write_faults

    root = Path(ns.root)
    workdir = root / ns.name
    if not workdir.is_dir():
        print(f"bitbot: no replay {ns.name!r} in {root}", file=sys.stderr)
        return 2
    path = workdir / "faults.json"
    state = read_faults(path) if path.is_file() else FaultState()
    if ns.fault == "exchange-down":
        state = FaultState(True, state.candles_frozen_at)
    elif ns.fault == "candles-late":
        clock = read_clock_file(workdir / "clock.json")
        if clock is None:
            print(f"bitbot: replay {ns.name!r} has no clock yet", file=sys.stderr)
            return 2
        state = FaultState(state.exchange_down, clock.virtual_now)
    else:
        state = FaultState()
    write_faults(path, state)
    print(f"replay {ns.name}: {state}")
    return 0
