"""
``bitbot replay``: the real bot, ``freqtrade trade`` in dry-run, against a recorded market.

A replay lives in ``user_data/replay/<name>/``:

* ``tradesv3.replay.sqlite``: its trade database (apart from the dry-run's);
* ``clock.json``: where its clock is, so a restarted replay resumes where it stopped;
* ``config.replay.json``: the overlay that makes any config a replay (dry-run, no exchange
  keys, the database above, FreqAI models under their own identifier);
* ``data/``: the candles Freqtrade and FreqAI download while it runs (the recording itself is
  only read);
* ``faults.json``: faults injected with ``bitbot replay-fault``.

Everything Freqtrade offers in dry-run works unchanged: the REST API and FreqUI, Telegram,
``freqtrade-client``, restarts with open trades.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from freqtrade.exceptions import OperationalException

from meta_strategy.data.preflight import run_freqtrade_checked
from meta_strategy.freqtrade_bridge import patch_worker_sleep
from meta_strategy.ops.ctrl_c import install_ctrl_c
from meta_strategy.ops.replay.clock import ClockError, ReplayClock, read_clock_file
from meta_strategy.ops.replay.errors import ReplayDataError, ReplayError
from meta_strategy.ops.replay.exchange import install_replay_exchange
from meta_strategy.ops.replay.faults import Faults
from meta_strategy.ops.replay.market import RecordedMarket, format_ms
from meta_strategy.ops.replay.settings import (
    ReplaySettings,
    choose_recorded_pair,
    forced_environment,
    prepare_models,
    price_tick,
    replay_overlay,
)
from meta_strategy.ops.security import preflight_security
from meta_strategy.ops.telegram import install_telegram_endpoint


logger = logging.getLogger(__name__)

MIN_REAL_SLEEP = 0.2
"""
Shortest real pause between two iterations of the bot's loop (seconds). At high speed an
iteration lasts longer than ``process_throttle_secs`` in virtual time, and Freqtrade would not
sleep at all: a busy loop that starves the REST API's thread. So the bot reacts about every
``MIN_REAL_SLEEP * speed`` virtual seconds (2 minutes at 600x).
"""


def _out_of_sample_start(settings: ReplaySettings, config: dict[str, Any]) -> ReplaySettings:
    """
    With a promoted model (``bitbot.trained_until``): a new replay starts by default the day
    after its training data ends, and a start before that gets a warning (in-sample).
    """
    trained_until = (config.get("bitbot") or {}).get("trained_until")
    if trained_until is None or settings.clock_file.is_file():
        return settings
    first_unseen = datetime.fromisoformat(str(trained_until)).replace(tzinfo=UTC) + timedelta(
        days=1
    )
    if settings.start is None:
        logger.info(
            "Replay %s starts %s, the day after the promoted model's training data ends.",
            settings.name,
            first_unseen.date(),
        )
        return replace(settings, start=first_unseen)
    if settings.start < first_unseen:
        logger.warning(
            "Replay %s starts %s, but the promoted model was trained on data up to %s: up to "
            "then the replay is in-sample and says nothing about how the model trades.",
            settings.name,
            settings.start.isoformat(),
            trained_until,
        )
    return settings


def newest_db_time(db_path: Path) -> datetime | None:
    """
    :param db_path: a Freqtrade trade database
    :return: the latest time written into it (trade and order dates), None when it has none
    """
    if not db_path.is_file():
        return None
    queries = (
        "SELECT max(open_date), max(close_date) FROM trades",
        "SELECT max(order_date), max(order_filled_date), max(order_update_date) FROM orders",
    )
    found: list[str] = []
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
            for query in queries:
                found += [v for v in db.execute(query).fetchone() if v]
    except sqlite3.Error as e:
        logger.warning("Replay: cannot read %s (%s); resuming from the clock file.", db_path, e)
        return None
    if not found:
        return None
    return max(datetime.fromisoformat(v).replace(tzinfo=UTC) for v in found)


def _clock(settings: ReplaySettings) -> ReplayClock:
    state = read_clock_file(settings.clock_file)
    if state is not None:
        start = max(state.resume_at(), newest_db_time(settings.db_path) or state.resume_at())
        if settings.start is not None and settings.start != start:
            logger.warning(
                "Replay %s resumes at %s (its clock file %s); --start %s is ignored. Use "
                "--fresh to start over.",
                settings.name,
                start.isoformat(),
                settings.clock_file,
                settings.start.isoformat(),
            )
        else:
            logger.info("Replay %s resumes at %s.", settings.name, start.isoformat())
    elif settings.start is None:
        raise ReplayError(
            f"Replay {settings.name!r} has not run yet ({settings.clock_file} does not exist): "
            f"give --start, e.g. --start 2025-06-01."
        )
    else:
        start = settings.start
    return ReplayClock(start, settings.speed, settings.clock_file)


@dataclass(frozen=True)
class _Request:
    """A replay's request, checked before anything is touched: the config and its pair."""

    config: dict[str, Any]
    datadir: str | None
    pair: str
    recorded_pair: str
    trading_mode: str


def _check_request(settings: ReplaySettings, trade_argv: list[str]) -> _Request:
    """
    :return: the checked ``freqtrade trade`` options, config (one pair) and recording
    :raises ReplayError: bad options or config, or no pair to replay
    :raises ReplayDataError: the recording is not a folder
    """
    from freqtrade.commands import Arguments
    from freqtrade.configuration.load_config import load_from_files

    args = Arguments(["trade", *trade_argv]).get_parsed_arg()
    if not args.get("config"):
        raise ReplayError("give the bot's config with -c, e.g. -c user_data/config.json")
    if args.get("db_url"):
        raise ReplayError(
            f"--db-url is not for replays: a replay keeps its trades in {settings.db_path}."
        )
    datadir = args.get("datadir")
    if datadir and Path(datadir).resolve().is_relative_to(settings.recording.resolve()):
        raise ReplayError(
            f"--datadir {datadir} is inside the recording {settings.recording}: FreqAI writes its "
            f"downloads into --datadir, and the recording is only read. Leave --datadir out."
        )
    try:
        config = load_from_files(args["config"])
    except OperationalException as e:
        raise ReplayError(str(e)) from e
    pairs = config.get("exchange", {}).get("pair_whitelist") or []
    if len(pairs) != 1:
        raise ReplayError(
            f"a replay trades one pair; exchange.pair_whitelist in {', '.join(args['config'])} "
            f"has {len(pairs)}: {pairs}"
        )
    trading_mode = config.get("trading_mode", "spot")
    if not settings.recording.is_dir():
        raise ReplayDataError(
            settings.recording,
            f"replay recording {settings.recording} is not a folder; give --recording or set "
            f"BITBOT_DATA to a Freqtrade data folder (e.g. ../shared/data/binance).",
        )
    recorded_pair = settings.recorded_pair or choose_recorded_pair(
        settings.recording, pairs[0], trading_mode
    )
    return _Request(config, datadir, pairs[0], recorded_pair, trading_mode)


def _open_market(settings: ReplaySettings, request: _Request) -> tuple[ReplayClock, RecordedMarket]:
    """
    :return: the replay's clock (not installed yet) and the recorded market it reads
    :raises ReplayError: no start, a bad clock file, or a start outside the recording
    """
    try:
        clock = _clock(settings)
    except ClockError as e:
        raise ReplayError(str(e)) from e
    book = settings.book
    if book.tick is None:
        book = replace(book, tick=price_tick(request.config, request.pair))
    market = RecordedMarket(
        settings.recording,
        request.recorded_pair,
        request.pair,
        request.trading_mode,
        clock.now_ms,
        book,
        Faults(settings.faults_file),
    )
    start_ms = clock.now_ms()
    if settings.clock_file.is_file() and start_ms >= market.last_ms:
        raise ReplayError(
            f"replay {settings.name} already reached the end of the recording "
            f"({format_ms(market.last_ms)} UTC); start over with --fresh --start <date>."
        )
    if not market.first_ms <= start_ms < market.last_ms:
        raise ReplayError(
            f"replay start {clock.now().isoformat()} is outside the recording {settings.recording}"
            f" ({request.recorded_pair}: {format_ms(market.first_ms)} UTC to "
            f"{format_ms(market.last_ms)} UTC)."
        )
    return clock, market


def _write_overlay(settings: ReplaySettings, request: _Request, trade_argv: list[str]) -> list[str]:
    """:return: the replay's ``freqtrade trade`` argv, once its models and overlay are written"""
    prepare_models(settings, request.config)
    overlay_path = settings.workdir / "config.replay.json"
    overlay_path.write_text(json.dumps(replay_overlay(settings, request.config), indent=2))
    argv = ["trade", *trade_argv, "-c", str(overlay_path)]
    if not request.datadir:
        argv += ["--datadir", str(settings.workdir / "data")]
    return argv


def _install_replay(settings: ReplaySettings, market: RecordedMarket, clock: ReplayClock) -> None:
    """Make this process a replay: forced environment, Telegram, Ctrl-C, exchange, loop sleep,
    clock."""
    forced = forced_environment(settings)
    overridden = sorted(k for k in forced if os.environ.get(k) not in (None, forced[k]))
    if overridden:
        logger.warning("Replay: ignoring %s from the environment.", ", ".join(overridden))
    os.environ.update(forced)
    install_telegram_endpoint()
    install_ctrl_c()
    install_replay_exchange(market, settings.db_path)
    patch_worker_sleep(settings.speed, MIN_REAL_SLEEP)
    clock.install()


def run_replay(settings: ReplaySettings, trade_argv: list[str]) -> int:
    """
    Run ``freqtrade trade`` in dry-run against the recording, in this process.

    :param settings: replay settings
    :param trade_argv: ``freqtrade trade`` options (``-c``, ``-s``, ``--freqaimodel``, ...)
    :return: exit code
    :raises ReplayError: bad settings, config or recording
    :raises meta_strategy.data.files.DataError: a broken file in the recording
    """
    request = _check_request(settings, trade_argv)  # touches nothing
    if settings.fresh and settings.workdir.exists():
        logger.info("Replay %s: starting over, removing %s.", settings.name, settings.workdir)
        shutil.rmtree(settings.workdir)
    settings.workdir.mkdir(parents=True, exist_ok=True)
    # The start comes from the clock file, so only after --fresh has removed it.
    settings = _out_of_sample_start(settings, request.config)
    clock, market = _open_market(settings, request)
    argv = _write_overlay(settings, request, trade_argv)
    _install_replay(settings, market, clock)
    logger.info(
        "Replay %s: %s as %s from %s at %g x real time; database %s. The recording ends %s.",
        settings.name,
        request.pair,
        request.recorded_pair,
        clock.now().isoformat(),
        settings.speed,
        settings.db_path,
        f"{format_ms(market.last_ms)} UTC",
    )
    try:
        return run_freqtrade_checked(argv, preflight_security)
    finally:
        clock.uninstall()
