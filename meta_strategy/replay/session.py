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
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from meta_strategy import markets
from meta_strategy.data import detect_datasets
from meta_strategy.replay.clock import ClockError, ReplayClock, read_clock_file
from meta_strategy.replay.market import BookModel, Faults, RecordedMarket, ReplayDataError


logger = logging.getLogger(__name__)

REPLAY_ROOT = Path("user_data/replay")
MIN_REAL_SLEEP = 0.2
"""
Shortest real pause between two iterations of the bot's loop (seconds). At high speed an
iteration lasts longer than ``process_throttle_secs`` in virtual time, and Freqtrade would not
sleep at all: a busy loop that starves the REST API's thread. So the bot reacts about every
``MIN_REAL_SLEEP * speed`` virtual seconds (2 minutes at 600x).
"""


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
    """

    recording: Path
    start: datetime | None = None
    speed: float = 1.0
    recorded_pair: str | None = None
    name: str = "default"
    root: Path = REPLAY_ROOT
    fresh: bool = False
    book: BookModel = field(default_factory=BookModel)

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
    identifier = replay_identifier(settings, config)
    if identifier is not None:
        overlay["freqai"] = {"identifier": identifier}
    return overlay


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


def _clock(settings: ReplaySettings) -> ReplayClock:
    state = read_clock_file(settings.clock_file)
    if state is not None:
        start = state.resume_at()
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
    from freqtrade.worker import Worker

    def _sleep(sleep_duration: float) -> None:
        time.sleep(max(sleep_duration / speed, MIN_REAL_SLEEP))

    Worker._sleep = staticmethod(_sleep)  # type: ignore[method-assign]


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
    config = load_from_files(args["config"])
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
    if not market.first_ms <= start_ms < market.last_ms:
        raise ReplayError(
            f"replay start {clock.now().isoformat()} is outside the recording {settings.recording}"
            f" ({recorded_pair}: {_date(market.first_ms)} to {_date(market.last_ms)})."
        )
    prepare_models(settings, config)
    overlay_path = settings.workdir / "config.replay.json"
    overlay_path.write_text(json.dumps(replay_overlay(settings, config), indent=2))
    argv = ["trade", *trade_argv, "-c", str(overlay_path)]
    if not any(a in ("--datadir", "--data-dir", "-d") for a in trade_argv):
        argv += ["--datadir", str(settings.workdir / "data")]
    install_replay_exchange(market)
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
        _date(market.last_ms),
    )
    try:
        return run_freqtrade(argv)
    finally:
        clock.uninstall()


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
