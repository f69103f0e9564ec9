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
import re
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from freqtrade.exceptions import OperationalException

from meta_strategy import markets
from meta_strategy.data import detect_datasets
from meta_strategy.replay.clock import ClockError, ReplayClock, read_clock_file
from meta_strategy.replay.market import (
    BookModel,
    Faults,
    RecordedMarket,
    ReplayDataError,
    format_ms,
)


logger = logging.getLogger(__name__)

REPLAY_ROOT = Path("user_data/replay")
MIN_REAL_SLEEP = 0.2
"""
Shortest real pause between two iterations of the bot's loop (seconds). At high speed an
iteration lasts longer than ``process_throttle_secs`` in virtual time, and Freqtrade would not
sleep at all: a busy loop that starves the REST API's thread. So the bot reacts about every
``MIN_REAL_SLEEP * speed`` virtual seconds (2 minutes at 600x).
"""


NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
MAX_SPEED = 100_000.0
FORCED_ENV = (
    "FREQTRADE__DRY_RUN",
    "FREQTRADE__DB_URL",
    "FREQTRADE__EXCHANGE__KEY",
    "FREQTRADE__EXCHANGE__SECRET",
    "FREQTRADE__EXCHANGE__PASSWORD",
    "FREQTRADE__EXCHANGE__UID",
    "FREQTRADE__EXCHANGE__ENABLE_WS",
    "FREQTRADE__DATADIR",
    "FREQTRADE__BOT_NAME",
)
"""Environment variables a replay sets itself (Freqtrade lets them beat every config file)."""


class ReplayError(ValueError):
    """The replay cannot start: bad options, config or recording."""


@dataclass(frozen=True)
class ReplaySettings:
    """
    :param recording: Freqtrade data folder with the recorded market
    :param start: virtual start (UTC); None to resume a replay that has a clock file
    :param speed: virtual seconds per real second
    :param recorded_pair: the pair in the recording (None: the traded pair, or the one pair of
        the recording)
    :param name: replay name (its folder under ``root``)
    :param root: where replays live
    :param fresh: delete the replay's folder (database, clock) and its FreqAI models first
    :param book: synthetic order book
    :param telegram: keep Telegram on (off by default: a replay must not write into the real
        chat, nor poll the same bot token as a running dry-run / live bot)
    """

    recording: Path
    start: datetime | None = None
    speed: float = 1.0
    recorded_pair: str | None = None
    name: str = "default"
    root: Path = REPLAY_ROOT
    fresh: bool = False
    book: BookModel = field(default_factory=BookModel)
    telegram: bool = False

    def __post_init__(self) -> None:
        if not NAME_RE.fullmatch(self.name):
            raise ReplayError(
                f"replay name {self.name!r}: letters, digits, '-' and '_' only (it names a "
                f"folder under {self.root} that --fresh deletes)."
            )
        if not 0 < self.speed <= MAX_SPEED:
            raise ReplayError(f"--speed must be > 0 and at most {MAX_SPEED:g}, got {self.speed}.")

    @property
    def workdir(self) -> Path:
        """:return: the replay's folder"""
        return self.root / self.name

    @property
    def db_path(self) -> Path:
        """:return: the replay's trade database"""
        return self.workdir / "tradesv3.replay.sqlite"

    @property
    def clock_file(self) -> Path:
        """:return: the replay's clock file"""
        return self.workdir / "clock.json"

    @property
    def faults_file(self) -> Path:
        """:return: the replay's faults file"""
        return self.workdir / "faults.json"


def choose_recorded_pair(recording: Path, pair: str, trading_mode: str) -> str:
    """
    :param recording: the recording's folder
    :param pair: the traded pair
    :param trading_mode: ``futures`` or ``spot``
    :return: ``pair`` when recorded, else the recording's only pair of that trading mode
    :raises ReplayError: no candles, or several pairs to choose from
    """
    candle_type = "futures" if trading_mode == "futures" else "spot"
    pairs = sorted({p for p, _, ct in detect_datasets(recording) if ct == candle_type})
    if pair in pairs:
        return pair
    if len(pairs) == 1:
        logger.info("Replay: %s stands in for %s.", pairs[0], pair)
        return pairs[0]
    raise ReplayError(
        f"{recording} has {'no' if not pairs else 'several'} {candle_type} pairs "
        f"({', '.join(pairs) or 'none'}) and not {pair}: choose one with --recorded-pair."
    )


def replay_overlay(settings: ReplaySettings, config: dict[str, Any]) -> dict[str, Any]:
    """
    The config that turns ``config`` into a replay of it.

    :param settings: replay settings
    :param config: the merged configuration the user gave
    :return: overlay, merged last
    """
    internals = config.get("internals") or {}
    overlay: dict[str, Any] = {
        "bot_name": f"replay-{settings.name}",
        "dry_run": True,
        "db_url": f"sqlite:///{settings.db_path.resolve()}",
        "exchange": {"key": "", "secret": "", "password": "", "uid": "", "enable_ws": False},
        # Never ask the exchange, not even for markets: they come from the snapshot.
        "bitbot": {"markets": "snapshot"},
        # The heartbeat is in virtual seconds: keep it once a real minute at high speed.
        "internals": {
            "heartbeat_interval": internals.get("heartbeat_interval", 60) * settings.speed
        },
    }
    if not settings.telegram:
        overlay["telegram"] = {"enabled": False}
    identifier = replay_identifier(settings, config)
    if identifier is not None:
        overlay["freqai"] = {"identifier": identifier}
    return overlay


def forced_environment(settings: ReplaySettings) -> dict[str, str]:
    """
    The environment variables that make the replay a replay whatever else is set: Freqtrade
    applies ``FREQTRADE__*`` variables after every config file, so a ``.env`` exported for
    dry-run or live (``FREQTRADE__DRY_RUN``, ``FREQTRADE__DB_URL``, exchange keys) would
    otherwise win over the overlay.

    :return: variable -> value, to put into ``os.environ``
    """
    env = {name: "" for name in FORCED_ENV}
    env |= {
        "FREQTRADE__DRY_RUN": "true",
        "FREQTRADE__DB_URL": f"sqlite:///{settings.db_path.resolve()}",
        "FREQTRADE__EXCHANGE__ENABLE_WS": "false",
        "FREQTRADE__DATADIR": str((settings.workdir / "data").resolve()),
        "FREQTRADE__BOT_NAME": f"replay-{settings.name}",
        "BITBOT_MARKETS": "snapshot",
    }
    if not settings.telegram:
        env["FREQTRADE__TELEGRAM__ENABLED"] = "false"
    return env


def replay_identifier(settings: ReplaySettings, config: dict[str, Any]) -> str | None:
    """
    :return: the FreqAI identifier of the replay (its models apart from the dry-run's and the
        backtests'), None without FreqAI
    """
    freqai = config.get("freqai") or {}
    if not freqai.get("enabled"):
        return None
    return f"replay-{settings.name}-{freqai.get('identifier', 'freqai')}"


def prepare_models(settings: ReplaySettings, config: dict[str, Any]) -> Path | None:
    """
    Give the replay its FreqAI model folder. A promoted model (``bitbot.model_id``, see
    ``bitbot models promote``) is copied into it, so the replay trades that model and never
    writes into the promoted folder; otherwise FreqAI trains in it as in dry-run.

    :return: the replay's model folder, None without FreqAI
    """
    identifier = replay_identifier(settings, config)
    if identifier is None:
        return None
    models_dir = Path(config.get("user_data_dir") or "user_data") / "models"
    folder = models_dir / identifier
    if settings.fresh and folder.exists():
        shutil.rmtree(folder)
    source = models_dir / config["freqai"].get("identifier", "freqai")
    if (config.get("bitbot") or {}).get("model_id") is not None and not folder.exists():
        if not source.is_dir():
            raise ReplayError(
                f"the config pins promoted model {config['bitbot']['model_id']}, but its folder "
                f"{source} does not exist; run `bitbot models promote` again."
            )
        shutil.copytree(source, folder)
        _repoint_pair_dictionary(folder / "pair_dictionary.json", source, folder)
        logger.info(
            "Replay %s trades promoted model %s (copied to %s).", settings.name, source, folder
        )
    return folder


def price_tick(config: dict[str, Any], pair: str) -> float | None:
    """
    :param config: the bot's configuration
    :param pair: the traded pair
    :return: the pair's price tick from the markets snapshot (ccxt's ``precision.price``), None
        when the snapshot does not have it
    """
    try:
        snap = markets.load_snapshot(markets.snapshot_path(config))
    except markets.SnapshotError:
        return None
    tick = (snap.markets.get(pair, {}).get("precision") or {}).get("price")
    return float(tick) if tick else None


def _repoint_pair_dictionary(path: Path, source: Path, folder: Path) -> None:
    """FreqAI loads each model from the ``data_path`` in ``pair_dictionary.json``: the copy's."""
    if not path.is_file():
        return
    pairs = json.loads(path.read_text())
    for info in pairs.values():
        data_path = Path(info.get("data_path", "")).resolve()
        if data_path.is_relative_to(source.resolve()):
            info["data_path"] = str(folder / data_path.relative_to(source.resolve()))
    path.write_text(json.dumps(pairs, indent=2))


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


def _speed_up_loop(speed: float) -> None:
    """
    Freqtrade's loop sleeps in virtual seconds: sleep ``1 / speed`` of them in real time, and
    at least :data:`MIN_REAL_SLEEP`.
    """
    import freqtrade.worker
    from freqtrade.worker import Worker

    def _sleep(sleep_duration: float) -> None:
        time.sleep(max(sleep_duration / speed, MIN_REAL_SLEEP))

    Worker._sleep = staticmethod(_sleep)  # type: ignore[method-assign]
    # The pause after a temporary exchange error (30 s) is virtual time too.
    freqtrade.worker.RETRY_TIMEOUT = max(30 / speed, MIN_REAL_SLEEP)  # type: ignore[attr-defined]


def run_replay(settings: ReplaySettings, trade_argv: list[str]) -> int:
    """
    Run ``freqtrade trade`` in dry-run against the recording, in this process.

    :param settings: replay settings
    :param trade_argv: ``freqtrade trade`` options (``-c``, ``-s``, ``--freqaimodel``, ...)
    :return: exit code
    :raises ReplayError: bad settings, config or recording
    :raises meta_strategy.data.DataError: a broken file in the recording
    """
    from freqtrade.commands import Arguments
    from freqtrade.configuration.load_config import load_from_files

    from meta_strategy.cli import run_freqtrade
    from meta_strategy.replay.exchange import install_replay_exchange

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
    if settings.fresh and settings.workdir.exists():
        logger.info("Replay %s: starting over, removing %s.", settings.name, settings.workdir)
        shutil.rmtree(settings.workdir)
    settings.workdir.mkdir(parents=True, exist_ok=True)
    settings = _out_of_sample_start(settings, config)
    try:
        clock = _clock(settings)
    except ClockError as e:
        raise ReplayError(str(e)) from e
    book = settings.book
    if book.tick is None:
        book = replace(book, tick=price_tick(config, pairs[0]))
    market = RecordedMarket(
        settings.recording,
        recorded_pair,
        pairs[0],
        trading_mode,
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
            f" ({recorded_pair}: {format_ms(market.first_ms)} UTC to "
            f"{format_ms(market.last_ms)} UTC)."
        )
    prepare_models(settings, config)
    overlay_path = settings.workdir / "config.replay.json"
    overlay_path.write_text(json.dumps(replay_overlay(settings, config), indent=2))
    argv = ["trade", *trade_argv, "-c", str(overlay_path)]
    if not datadir:
        argv += ["--datadir", str(settings.workdir / "data")]
    forced = forced_environment(settings)
    overridden = sorted(k for k in forced if os.environ.get(k) not in (None, forced[k]))
    if overridden:
        logger.warning("Replay: ignoring %s from the environment.", ", ".join(overridden))
    os.environ.update(forced)
    install_replay_exchange(market, settings.db_path)
    _speed_up_loop(settings.speed)
    clock.install()
    logger.info(
        "Replay %s: %s as %s from %s at %g x real time; database %s. The recording ends %s.",
        settings.name,
        pairs[0],
        recorded_pair,
        clock.now().isoformat(),
        settings.speed,
        settings.db_path,
        f"{format_ms(market.last_ms)} UTC",
    )
    try:
        return run_freqtrade(argv)
    finally:
        clock.uninstall()
