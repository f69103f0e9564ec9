"""``bitbot``'s entry point: BitBot's own subcommands, or Freqtrade with BitBot's checks."""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys

from meta_strategy.cli.parser import BITBOT_COMMANDS, build_parser
from meta_strategy.cli.replay import run_replay_command


logger = logging.getLogger(__name__)

ENV_TRACEBACK = "BITBOT_TRACEBACK"
"""Set it (or pass ``--verbose``) to see the traceback of an error a BitBot command reports in
one line."""
VERBOSE = "--verbose"


STACK_DUMP_SIGNAL = getattr(signal, "SIGUSR1", None)
"""``kill -USR1 <pid>``: the process prints every thread's stack to its stderr and carries on."""


def install_stack_dump() -> None:
    """
    Let ``kill -USR1 <pid>`` print every thread's Python stack to stderr (the bot's log when
    it runs in a terminal, ``docker logs`` or a service's journal) without stopping the
    process: a bot that hangs, or does not stop on Ctrl-C, says where it waits
    (:func:`faulthandler.register`). Nothing happens on a platform without SIGUSR1.
    """
    stderr = sys.__stderr__  # the process's own stderr, not a replacement (a test's capture)
    if STACK_DUMP_SIGNAL is None or stderr is None:
        return
    try:
        faulthandler.register(STACK_DUMP_SIGNAL, file=stderr, all_threads=True)
    except (OSError, ValueError) as e:  # a stderr without a file descriptor
        logger.debug("No stack dump on SIGUSR1: %s", e)


def run_freqtrade_command(argv: list[str]) -> int:
    """
    ``bitbot <freqtrade subcommand> ...``: Freqtrade in this process, with offline markets,
    Telegram's endpoint, slippage folded into the fee, the data files checked first and the
    remote controls' credentials checked before ``trade`` and ``webserver``; ``trade`` stops
    on a Ctrl-C even when CPython drops it (:mod:`meta_strategy.ops.ctrl_c`).

    :param argv: Freqtrade command line without the program name
    :return: exit code
    """
    from meta_strategy.data.preflight import run_freqtrade_checked
    from meta_strategy.ops.security import preflight_security
    from meta_strategy.ops.telegram import install_telegram_endpoint

    install_telegram_endpoint()
    if argv[0] == "trade":
        from meta_strategy.ops.ctrl_c import install_ctrl_c

        install_ctrl_c()
    return run_freqtrade_checked(argv, preflight_security)


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of the ``bitbot`` console command.

    :param argv: command line without the program name (``sys.argv[1:]`` by default)
    :return: exit code
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        build_parser().print_help()
        print(
            "\nFreqtrade subcommands: run `bitbot <subcommand> --help`, e.g. "
            "`bitbot backtesting --help`.\n"
            f"An error of BitBot's own commands is one line; add {VERBOSE} (anywhere) or set "
            f"{ENV_TRACEBACK}=1 for its traceback."
        )
        return 0
    from meta_strategy.freqtrade_bridge import lift_startup_limit_off_exchange
    from meta_strategy.rl.costs import install_slippage_folding

    install_stack_dump()
    install_slippage_folding()  # one cost per fill in every Freqtrade config loaded from here
    lift_startup_limit_off_exchange()  # backtests and analyses read local candles
    if argv[0] not in BITBOT_COMMANDS:
        return run_freqtrade_command(argv)
    if argv[0] == "replay":  # BitBot's options here, the rest for `freqtrade trade`
        ns, trade_argv = build_parser().parse_known_args(argv)
        return run_replay_command(ns, trade_argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    verbose = VERBOSE in argv or bool(os.environ.get(ENV_TRACEBACK))
    ns = build_parser().parse_args([arg for arg in argv if arg != VERBOSE])
    from freqtrade.exceptions import OperationalException

    from meta_strategy.data.markets import SnapshotError

    try:
        return ns.handler(ns)
    except SnapshotError as e:
        print(f"bitbot: markets error: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError, OperationalException) as e:  # a bad value, file or config
        if verbose:
            raise
        print(
            f"bitbot: {argv[0]}: {type(e).__name__}: {e} ({VERBOSE} for the traceback)",
            file=sys.stderr,
        )
        return 2
