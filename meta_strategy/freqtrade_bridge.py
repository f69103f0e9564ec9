"""
The one place BitBot touches Freqtrade's internals: running a Freqtrade command in this process,
and every patch of Freqtrade (each names the Freqtrade function and version it replaces, and
why). Depends on nothing else in the package but :mod:`meta_strategy.paths`.

Running: :func:`run_freqtrade` runs ``freqtrade <argv>`` in this process with ``--datadir``
defaulting to ``$BITBOT_DATA`` (:func:`inject_datadir`) and the caller's checks run first;
a check that fails raises a :class:`PreflightError`, which ends the command with exit code 2
and one line naming the problem.

The patches, all written against freqtrade 2026.9 (pinned in ``pyproject.toml``; another
version is warned about); the domain logic each one calls is passed in by the module named.
The markets and Telegram patches take no per-run state and are installed once (a second call
changes nothing); the replay's exchange feed and loop speed are set anew by each call.

======================================  ===================================  ======================
Freqtrade function                      why                                  installed by
======================================  ===================================  ======================
``freqtrade.main.main`` (its            a ``ConfigurationError`` exits 0;    :func:`run_freqtrade`
``ConfigurationError`` clause)          scripts and CI must see it fail
``Exchange.validate_required_           the exchange's download limit on     :func:`run_freqtrade`
startup_candles``                       startup candles, off the exchange
                                        (backtests read local files)
``Exchange._api_reload_markets``,       markets and leverage tiers from a    ``data.markets``
``fill_leverage_tiers``,                snapshot, so every command runs
``check_time_offset``                   offline
``Telegram._init_telegram_app``         another Bot API server (a local      ``ops.telegram``
                                        stub for rehearsals and tests)
``Exchange._init_ccxt``                 ``bitbot replay``: the exchange      ``ops.replay.exchange``
                                        answers from a recording
``Worker._sleep``, ``worker.            ``bitbot replay``: the bot's loop    ``ops.replay.session``
RETRY_TIMEOUT``                         sleeps in the recording's time
``Worker._throttle``                    a Ctrl-C CPython dropped still stops ``ops.ctrl_c``
``Configuration.load_config``           one cost per fill: slippage folded   ``rl.costs``
                                        into ``fee`` for every command
======================================  ===================================  ======================
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from meta_strategy.paths import ENV_DATADIR


logger = logging.getLogger(__name__)

# Freqtrade subcommands that accept --datadir and read candles from it.
DATA_COMMANDS = frozenset(
    {
        "backtesting",
        "hyperopt",
        "lookahead-analysis",
        "recursive-analysis",
        "plot-dataframe",
        "edge",
    }
)
# Freqtrade subcommands that accept --datadir at all (ARGS_COMMON or data arguments).
DATADIR_COMMANDS = DATA_COMMANDS | {
    "trade",
    "webserver",
    "list-data",
    "download-data",
    "trades-to-ohlcv",
    "plot-profit",
    "backtesting-analysis",
    "backtesting-show",
    "list-pairs",
    "list-markets",
}

MarketsAndTiers = tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]
"""What a markets snapshot gives Freqtrade: ccxt markets and ccxt leverage tiers per symbol."""

FREQTRADE_VERSION = "2026.9"
"""The Freqtrade every patch is written against (pinned in ``pyproject.toml``)."""
_MARK = "_bitbot_patch"
"""Attribute set on every replacement function, so a patch already in place is recognised."""


class PreflightError(Exception):
    """
    A check before Freqtrade starts failed. Subclasses name the kind of problem in ``label``;
    :func:`run_freqtrade` prints ``bitbot: <label>: <message>`` and exits 2.
    """

    label = "error"


def _mark(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _MARK, True)
    return function


def _is_patched(function: Any) -> bool:
    return bool(getattr(function, _MARK, False))


@functools.cache
def _check_version() -> None:
    """Warn (once) when the installed Freqtrade is not the one the patches were written for."""
    import freqtrade

    if freqtrade.__version__ != FREQTRADE_VERSION:
        logger.warning(
            "bitbot patches Freqtrade %s, but %s is installed: check every patch in %s before "
            "trusting the results.",
            FREQTRADE_VERSION,
            freqtrade.__version__,
            __name__,
        )


# --------------------------------------------------------------------------------------------
# Running a Freqtrade command
# --------------------------------------------------------------------------------------------


def config_args(configs: Sequence[str]) -> list[str]:
    """:return: ``-c FILE`` for each config file, in order (Freqtrade merges them)"""
    return [arg for c in configs for arg in ("-c", c)]


def has_option(argv: Sequence[str], *names: str) -> bool:
    """:return: True when the command line sets one of the options ``names``"""
    return any(a == n or a.startswith(n + "=") for a in argv for n in names)


def inject_datadir(argv: list[str], env: Mapping[str, str] | None = None) -> list[str]:
    """
    Add ``--datadir $BITBOT_DATA`` to a Freqtrade command line that has no ``--datadir``.

    :param argv: command line without the program name
    :param env: environment (``os.environ`` by default)
    :return: the command line to run
    """
    env = os.environ if env is None else env
    if not argv or argv[0] not in DATADIR_COMMANDS:
        return argv
    data = env.get(ENV_DATADIR)
    if not data or has_option(argv, "-d", "--datadir", "--data-dir"):
        return argv
    return [*argv, "--datadir", data]


def run_freqtrade(argv: list[str], checks: Iterable[Callable[[list[str]], None]] = ()) -> int:
    """
    Run a Freqtrade command in this process.

    :param argv: command line without the program name
    :param checks: called with the command line (``--datadir`` filled in) after Freqtrade has
        accepted its arguments and before it starts; each raises a :class:`PreflightError`
        to stop the command
    :return: exit code; 2 when a backtest or hyperopt skipped a FreqAI window whose training
        failed (FreqAI logs it and goes on), with the first failure on stderr
    """
    from freqtrade.commands import Arguments
    from freqtrade.main import main as freqtrade_main

    argv = inject_datadir(argv)
    try:
        # Freqtrade's main() turns argparse's exit code into 0; check the arguments first.
        Arguments(argv).get_parsed_arg()
        for check in checks:
            check(argv)
    except SystemExit as e:  # usage error or --help, already printed by argparse
        return e.code if isinstance(e.code, int) else 2
    except PreflightError as e:
        print(f"bitbot: {e.label}: {e}", file=sys.stderr)
        return 2
    exit_nonzero_on_configuration_error()
    lift_startup_limit_off_exchange()
    failures = _TrainingFailures()
    freqai_log = logging.getLogger(FREQAI_LOGGER)
    freqai_log.addHandler(failures)
    try:
        freqtrade_main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        freqai_log.removeHandler(failures)
    if code == 0 and failures.messages and argv and argv[0] in SIMULATION_COMMANDS:
        print(
            f"bitbot: training failed in {len(failures.messages)} FreqAI window(s), so the "
            f"results are not a walk-forward: {failures.messages[0]}",
            file=sys.stderr,
        )
        return 2
    return code


FREQAI_LOGGER = "freqtrade.freqai.freqai_interface"
TRAINING_FAILED = "raised exception"
"""What FreqAI 2026.9 logs (``IFreqaiModel.start_backtesting``) when it skips a window whose
training raised, before it goes on without a model for that window."""
SIMULATION_COMMANDS = frozenset({"backtesting", "hyperopt", "lookahead-analysis"})
"""Commands whose result a skipped FreqAI training makes wrong (they then exit 2)."""


class _TrainingFailures(logging.Handler):
    """Collects FreqAI's "Training ... raised exception ..., skipping" messages of one command."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if TRAINING_FAILED in message:
            self.messages.append(message)


# --------------------------------------------------------------------------------------------
# freqtrade.main.main (2026.9): a ConfigurationError exits 0
# --------------------------------------------------------------------------------------------


class _NotCaughtHereError(Exception):
    """Stands in for ConfigurationError in ``freqtrade.main``'s first except clause."""


def exit_nonzero_on_configuration_error() -> None:
    """
    Freqtrade 2026.9's ``main()`` logs a ``ConfigurationError`` and then exits with code 0 (that
    branch never sets ``return_code``). With this, such an error reaches the next branch
    (``OperationalException``, its base class), which logs the same message and exits 2, so
    scripts and CI see the failure.
    """
    import freqtrade.main

    _check_version()
    freqtrade.main.ConfigurationError = _NotCaughtHereError  # type: ignore[attr-defined,misc]


def lift_startup_limit_off_exchange() -> None:
    """
    Freqtrade 2026.9's ``Exchange.validate_required_startup_candles`` refuses a strategy that
    needs more startup candles than five downloads from the exchange give (Binance: 2,494 at
    1h), in every mode. A backtest, hyperopt or analysis reads its candles from local files, so
    there the limit only stops a strategy with long windows (the MetaStrategy's 90-day track
    records): it is logged instead. Dry-run and live download their candles: unchanged.
    """
    from freqtrade.enums import TRADE_MODES
    from freqtrade.exceptions import ConfigurationError
    from freqtrade.exchange import Exchange

    original = Exchange.validate_required_startup_candles
    if _is_patched(original):
        return

    @functools.wraps(original)
    def validate_required_startup_candles(self: Any, startup_candles: int, timeframe: str) -> int:
        try:
            return original(self, startup_candles, timeframe)
        except ConfigurationError as e:
            if self._config.get("runmode") in TRADE_MODES:
                raise
            logger.info("%s The candles come from local files here, so that is no limit.", e)
            return 5

    Exchange.validate_required_startup_candles = _mark(validate_required_startup_candles)


# --------------------------------------------------------------------------------------------
# Exchange._api_reload_markets, fill_leverage_tiers, check_time_offset (2026.9): offline markets
# --------------------------------------------------------------------------------------------


def patch_exchange_markets(
    configured: Callable[[dict[str, Any], str], MarketsAndTiers | None],
    unreachable: Callable[[dict[str, Any], str, Exception], MarketsAndTiers],
) -> None:
    """
    Let markets and leverage tiers come from a snapshot instead of the exchange (idempotent).

    Freqtrade 2026.9 fetches markets in one place, ``Exchange._api_reload_markets``, and
    leverage tiers in ``Exchange.fill_leverage_tiers``; both need the network, as does
    ``check_time_offset``. The replacements ask ``configured(config, exchange_id)`` first: markets
    it returns are used without the network. Otherwise Freqtrade's own method runs, and when it
    fails for a network error, ``unreachable(config, exchange_id, error)`` gives the markets or
    raises. With snapshot markets, the leverage tiers come from the snapshot and the time-offset
    check is skipped. Everything else, including Freqtrade's validation of pairs, timeframes and
    stake currency against the markets, runs unchanged. A ``ValueError`` of either callable
    becomes Freqtrade's ``OperationalException``, which Freqtrade reports and exits with.

    :param configured: markets to use without asking the exchange, or None
    :param unreachable: markets to use when the exchange cannot be reached (or raise)
    """
    import ccxt
    from freqtrade.exceptions import OperationalException, TemporaryError
    from freqtrade.exchange.exchange import Exchange

    _check_version()
    if _is_patched(Exchange._api_reload_markets):
        return
    original_reload = Exchange._api_reload_markets
    original_fill_tiers = Exchange.fill_leverage_tiers
    original_time_offset = Exchange.check_time_offset

    def _use(self: Exchange, found: MarketsAndTiers) -> None:
        markets, tiers = found
        self._api_async.set_markets(markets)
        self._bitbot_leverage_tiers = tiers

    def _ask(source: Callable[..., MarketsAndTiers | None], *args: Any) -> Any:
        try:
            return source(*args)
        except ValueError as e:
            raise OperationalException(str(e)) from e

    async def _api_reload_markets(self: Exchange, reload: bool = False) -> None:
        found = _ask(configured, self._config, self._api.id)
        if found is None:
            try:
                await original_reload(self, reload)
                self._bitbot_leverage_tiers = None
                return
            except TemporaryError as e:
                if not isinstance(e.__cause__, ccxt.NetworkError):
                    raise
                found = _ask(unreachable, self._config, self._api.id, e)
        _use(self, found)

    def fill_leverage_tiers(self: Exchange) -> None:
        tiers = getattr(self, "_bitbot_leverage_tiers", None)
        if tiers is None:
            return original_fill_tiers(self)
        for pair, pair_tiers in tiers.items():
            self._leverage_tiers[pair] = [self.parse_leverage_tier(t) for t in pair_tiers]
        return None

    def check_time_offset(self: Exchange) -> None:
        if getattr(self, "_bitbot_leverage_tiers", None) is not None:
            logger.info("Offline markets: skipping the exchange time-offset check.")
            return
        original_time_offset(self)

    Exchange._api_reload_markets = _mark(_api_reload_markets)  # type: ignore[method-assign]
    Exchange.fill_leverage_tiers = _mark(fill_leverage_tiers)  # type: ignore[method-assign]
    Exchange.check_time_offset = _mark(check_time_offset)  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# Telegram._init_telegram_app (2026.9): another Bot API server
# --------------------------------------------------------------------------------------------


def patch_telegram_endpoint(urls: Callable[[], tuple[str, str | None] | None]) -> None:
    """
    Wrap ``freqtrade.rpc.telegram.Telegram._init_telegram_app`` (idempotent). Each time
    Freqtrade starts Telegram the wrapper asks ``urls()``: given ``(base_url, base_file_url)``,
    it builds python-telegram-bot's Application with ``.base_url`` / ``.base_file_url`` (and the
    token from the config, as Freqtrade does); given None, it calls Freqtrade's own method.

    :param urls: the Bot API server to use, or None for Telegram's own
    """
    from freqtrade.rpc.telegram import Telegram

    _check_version()
    original = Telegram._init_telegram_app
    if _is_patched(original):
        return

    def _init_telegram_app(self: Telegram) -> Any:
        found = urls()
        if found is None:
            return original(self)
        from telegram.ext import Application

        url, file_url = found
        builder = Application.builder().token(self._config["telegram"]["token"]).base_url(url)
        if file_url is not None:
            builder = builder.base_file_url(file_url)
        return builder.build()

    _init_telegram_app.__wrapped__ = original  # type: ignore[attr-defined]
    _init_telegram_app.__doc__ = original.__doc__
    Telegram._init_telegram_app = _mark(_init_telegram_app)  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# Exchange._init_ccxt (2026.9): the exchange of bitbot replay
# --------------------------------------------------------------------------------------------

_ccxt_feed: Callable[[Any, Any, bool], Any] | None = None


def patch_exchange_ccxt(feed: Callable[[Any, Any, bool], Any]) -> None:
    """
    Hand every ccxt object Freqtrade's ``Exchange`` builds from now on in this process
    (``Exchange._init_ccxt``, sync and async) to ``feed(exchange, api, sync)``, which returns
    the object to use. A second call replaces the feed.

    :param feed: called with the Freqtrade exchange, the ccxt object and whether it is the
        sync one; may raise to refuse the exchange
    """
    global _ccxt_feed
    _ccxt_feed = feed
    from freqtrade.exchange.exchange import Exchange

    _check_version()
    original = Exchange._init_ccxt
    if _is_patched(original):
        return

    def _init_ccxt(self: Exchange, exchange_config: dict, sync: bool, *args: Any) -> Any:
        assert _ccxt_feed is not None
        return _ccxt_feed(self, original(self, exchange_config, sync, *args), sync)

    Exchange._init_ccxt = _mark(_init_ccxt)  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# Worker._sleep, freqtrade.worker.RETRY_TIMEOUT (2026.9): the loop of bitbot replay
# --------------------------------------------------------------------------------------------


def patch_worker_sleep(speed: float, min_real_sleep: float) -> None:
    """
    Freqtrade's loop sleeps (``Worker._sleep``) and waits after a temporary exchange error
    (``RETRY_TIMEOUT``, 30 s) in virtual seconds when the clock runs ``speed`` times faster:
    sleep ``1 / speed`` of them in real time, and at least ``min_real_sleep``, so a fast replay
    still leaves the REST API's thread time to answer.

    :param speed: virtual seconds per real second
    :param min_real_sleep: the shortest real sleep
    """
    import freqtrade.worker
    from freqtrade.worker import Worker

    _check_version()

    def _sleep(sleep_duration: float) -> None:
        time.sleep(max(sleep_duration / speed, min_real_sleep))

    Worker._sleep = staticmethod(_mark(_sleep))  # type: ignore[method-assign]
    freqtrade.worker.RETRY_TIMEOUT = max(30 / speed, min_real_sleep)  # type: ignore[attr-defined]


def patch_worker_loop(check: Callable[[], None]) -> None:
    """
    Call ``check()`` at the start of every iteration of Freqtrade's loop (``Worker._throttle``):
    it raises (e.g. ``KeyboardInterrupt``) to stop the bot. Idempotent: the first one stays.
    """
    from freqtrade.worker import Worker

    _check_version()
    throttle = Worker._throttle
    if _is_patched(throttle):
        return

    @functools.wraps(throttle)
    def _throttle(self: Any, *args: Any, **kwargs: Any) -> Any:
        check()
        return throttle(self, *args, **kwargs)

    Worker._throttle = _mark(_throttle)  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------
# Configuration.load_config (2026.9): BitBot's adjustments of every loaded config
# --------------------------------------------------------------------------------------------

_config_adjust: Callable[[dict[str, Any]], None] | None = None


def patch_configuration(adjust: Callable[[dict[str, Any]], None]) -> None:
    """
    Every config Freqtrade loads from now on in this process (``Configuration.load_config``,
    after the config files, environment variables and command-line options such as ``--fee``
    are merged) passes through ``adjust``, which changes it in place. A second call replaces
    ``adjust``.

    :param adjust: called with the loaded config; may raise to refuse it
    """
    global _config_adjust
    _config_adjust = adjust
    from freqtrade.configuration.configuration import Configuration

    _check_version()
    original = Configuration.load_config
    if _is_patched(original):
        return

    def load_config(self: Configuration) -> dict[str, Any]:
        config = original(self)
        assert _config_adjust is not None
        _config_adjust(config)
        return config

    Configuration.load_config = _mark(load_config)  # type: ignore[method-assign]
