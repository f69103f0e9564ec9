"""
What a replay is and what it runs with: its settings (:class:`ReplaySettings`: the recording,
the virtual start and speed, its folder ``user_data/replay/<name>/``), the config overlay and
the environment that make any bot config a replay (dry-run, no exchange keys, its own database),
the recorded pair standing in for the traded one, and the copy of a promoted model under the
replay's own FreqAI identifier.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from meta_strategy.data import markets
from meta_strategy.data.files import detect_datasets
from meta_strategy.ops.replay.errors import ReplayError
from meta_strategy.ops.replay.market import BookModel
from meta_strategy.paths import MODELS_ROOT, REPLAY_ROOT, under_user_data


logger = logging.getLogger(__name__)

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
    models_dir = under_user_data(MODELS_ROOT, config.get("user_data_dir"))
    folder = models_dir / identifier
    if settings.fresh and folder.exists():
        shutil.rmtree(folder)
    source = models_dir / config["freqai"].get("identifier", "freqai")
    if (config.get("bitbot") or {}).get("model_id") is not None and not folder.exists():
        if not source.is_dir():
            raise ReplayError(
                f"the config names promoted model {config['bitbot']['model_id']}, but its folder "
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
