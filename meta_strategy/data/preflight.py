"""
Before Freqtrade starts: check the data files and markets a command will read, and run it with
markets from the snapshot when the exchange cannot be reached.

:func:`check_data_files` reads the command line and the configuration the way Freqtrade will,
and stops with a :class:`~meta_strategy.data.files.DataError` naming the file and the problem
before Freqtrade silently runs on less data than asked for. :func:`run_freqtrade_checked` is
how every part of BitBot runs a Freqtrade command in this process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meta_strategy.data import markets
from meta_strategy.data.checks import DataConfigError, DataPolicy, validate_datadir
from meta_strategy.data.files import DataError
from meta_strategy.freqtrade_bridge import DATA_COMMANDS, PreflightError, run_freqtrade
from meta_strategy.paths import DATA_DIR, under_user_data


logger = logging.getLogger(__name__)


class BadArgumentError(PreflightError, ValueError):
    """A command-line or config value the data check cannot read (e.g. a malformed timerange)."""

    label = "bad argument"


def run_freqtrade_checked(argv: list[str], *checks: Callable[[list[str]], None]) -> int:
    """
    Run a Freqtrade command in this process, with markets from the snapshot when one is
    configured or the exchange cannot be reached, after :func:`check_data_files` and ``checks``.

    :param argv: Freqtrade command line without the program name
    :param checks: further checks (e.g. :func:`meta_strategy.ops.security.preflight_security`)
    :return: exit code (2 when a check fails)
    """
    markets.install_offline_markets()
    return run_freqtrade(argv, checks=(check_data_files, *checks))


def check_data_files(argv: list[str]) -> None:
    """
    Check the data files a Freqtrade data command will read, before Freqtrade starts.

    :param argv: Freqtrade command line without the program name
    :raises meta_strategy.data.files.DataError: a file is missing or broken
    :raises meta_strategy.data.markets.SnapshotError: a pair is not in the markets snapshot
    :raises BadArgumentError: a malformed ``--timerange`` (or trading mode)
    """
    if not argv or argv[0] not in DATA_COMMANDS:
        return
    from freqtrade.commands import Arguments
    from freqtrade.configuration.load_config import load_from_files

    args = Arguments(argv).get_parsed_arg()
    if not args.get("config"):
        return
    try:
        config = load_from_files(args["config"])
    except Exception:  # Freqtrade reports config errors itself, and better.
        return
    exchange = config.get("exchange", {}).get("name", "").lower()
    datadir = args.get("datadir") or config.get("datadir")
    if datadir is None:
        user_data = args.get("user_data_dir") or config.get("user_data_dir")
        datadir = under_user_data(DATA_DIR, user_data) / exchange
    pairs = args.get("pairs") or config.get("exchange", {}).get("pair_whitelist", [])
    timeframe = args.get("timeframe") or config.get("timeframe")
    detail = args.get("timeframe_detail") or config.get("timeframe_detail")
    if pairs and markets.markets_mode(config) == "snapshot":
        check_pairs_in_snapshot(pairs, config, args["config"])
    if not pairs or not timeframe:
        logger.warning(
            "bitbot: data files not checked before the run (no %s in the config or command "
            "line); Freqtrade will load what it finds.",
            "pairs" if not pairs else "timeframe",
        )
        return
    try:
        validate_datadir(
            Path(datadir),
            pairs=list(pairs),
            timeframes=[timeframe, *([detail] if detail else [])],
            trading_mode=config.get("trading_mode", "spot"),
            timerange=args.get("timerange"),
            policy=DataPolicy.from_config(config),
        )
    except (DataError, DataConfigError):
        raise
    except ValueError as e:  # a malformed --timerange or trading mode
        raise BadArgumentError(str(e)) from e


def check_pairs_in_snapshot(pairs: list[str], config: dict[str, Any], files: list[str]) -> None:
    """
    :param pairs: pairs the command will trade or test
    :param config: merged configuration
    :param files: the configuration files (named in the error)
    :raises markets.SnapshotError: a pair is not a market in the snapshot
    """
    path = markets.snapshot_path(config)
    exchange = config["exchange"]["name"].lower()
    snap = markets.load_snapshot(path, exchange=exchange)
    unknown = [p for p in pairs if p not in snap.markets]
    if unknown:
        raise markets.SnapshotError(
            f"Unknown pair {', '.join(unknown)} on {exchange}: not a market in the snapshot "
            f"{path}, which has {', '.join(snap.markets)}. Check --pairs or "
            f"exchange.pair_whitelist in {', '.join(files)}; for a new market, refresh the "
            f"snapshot online with `bitbot markets snapshot --exchange {exchange} --pairs ...`."
        )
