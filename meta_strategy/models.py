"""
The model registry: every trained meta-model, and the one the bot trades with.

FreqAI's walk-forward trains one model per window and keeps it under
``user_data/models/<identifier>/sub-train-<COIN>_<trained_timestamp>/``: the stable-baselines3
save ``cb_<coin>_<ts>_model.zip``, the ``_metadata.json`` (feature and label lists), the
``_feature_pipeline.pkl`` / ``_label_pipeline.pkl`` scalers and the training frames. A backtest
keeps the model and the pipelines only with ``freqai.save_backtest_models: true`` (Freqtrade's
default is ``false``: then only the metadata is written, and such a window cannot be traded).

* :func:`discover_windows` lists the windows of one identifier found on disk;
* :class:`ModelRegistry` records each model with its configuration hash, seed, data ranges and
  out-of-sample figures in SQLite (``user_data/models.sqlite``); ``bitbot models list`` shows
  them;
* :meth:`ModelRegistry.promote` (``bitbot models promote``) selects one for dry-run and live, by
  the rule in :data:`PROMOTION_RULE`: it copies the window's folder to
  ``user_data/models/promoted-<id>/``, writes the ``pair_dictionary.json`` through which FreqAI
  finds an identifier's current model, and writes the config overlay
  ``user_data/config.promoted.json`` that points FreqAI at that identifier;
* :func:`verify_model_file` turns a missing or corrupt model file into a :class:`ModelFileError`
  that names the file and the problem.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


logger = logging.getLogger(__name__)

DEFAULT_REGISTRY = Path("user_data/models.sqlite")
PROMOTED_CONFIG = Path("user_data/config.promoted.json")
MODELS_ROOT = Path("user_data/models")
LIVE_CONFIG = Path("user_data/config.json")
"""The live / dry-run configuration; its whitelist pairs are keyed to a promoted model."""

PROMOTED_PREFIX = "promoted-"
PIN_RETRAIN_HOURS = 87_600
"""``freqai.live_retrain_hours`` of a promotion (ten years): FreqAI does not retrain it away."""

SCHEMA_VERSION = 1
SUB_TRAIN = re.compile(r"^sub-train-(.+)_(\d{10})$")  # FreqAI's own pattern (purge_old_models)
MODEL_SUFFIX = "_model.zip"
# Besides the model, the files FreqAI's FreqaiDataDrawer.load_data() reads in dry-run / live.
FREQAI_FILES = ("_metadata.json", "_feature_pipeline.pkl", "_label_pipeline.pkl")

# RL algorithms MetaPPO trains (freqai.rl_config.model_type) and the package that has them.
ALGORITHM_PACKAGES = {
    "PPO": "stable_baselines3",
    "A2C": "stable_baselines3",
    "DQN": "stable_baselines3",
    "RecurrentPPO": "sb3_contrib",
    "MaskablePPO": "sb3_contrib",
}
# The module of the policy class in a save's ``data`` tells the algorithm apart (PPO and A2C
# share ActorCriticPolicy; only PPO saves ``clip_range``).
_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "DQN",
    "sb3_contrib.common.recurrent.policies": "RecurrentPPO",
    "sb3_contrib.common.maskable.policies": "MaskablePPO",
}

PROMOTION_RULE = (
    "Promotion rule: `promote ID` promotes that model. `promote --best` takes, among the "
    "configurations (FreqAI identifiers) in the registry, the one whose whole walk-forward run "
    "has the highest out-of-sample Sharpe ratio, and of it the most recently trained model "
    "(latest end of training data). Either way the promotion is refused when that run's Sharpe "
    "did not beat buy-and-hold's Sharpe over the same period (run sharpe <= "
    "buy_and_hold_sharpe, or either figure missing) unless --force is given, and always when "
    "the model file or the files FreqAI loads with it are missing or corrupt. Exactly one model "
    "is promoted at a time."
)


class ModelFileError(Exception):
    """A model file (or a file FreqAI loads with it) is missing or corrupt."""

    def __init__(self, path: Path | str, problem: str) -> None:
        """
        :param path: the file
        :param problem: what is wrong with it
        """
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"Model file {self.path}: {problem}")

    @property
    def missing(self) -> bool:
        """:return: True when the file does not exist (False: it exists but is unusable)"""
        return not self.path.exists()


class ModelRegistryError(ValueError):
    """The registry database is unreadable, or a model id / request cannot be served."""


class PromotionRefusedError(ModelRegistryError):
    """The promotion rule refuses the model (its run did not beat buy-and-hold)."""


# --------------------------------------------------------------------------------------------
# Models on disk
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainedWindow:
    """One FreqAI walk-forward model found on disk."""

    identifier: str
    pair: str
    trained_timestamp: int
    model_path: Path
    folder: Path


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ModelFileError(path, f"cannot be read as JSON ({e})") from e


def _identifier_pairs(id_folder: Path) -> list[str]:
    """:return: the pairs FreqAI recorded for an identifier (run_params / pair_dictionary)"""
    pairs: list[str] = []
    params = _read_json(id_folder / "run_params.json") or {}
    pairs += [p for p in params.get("pairs") or [] if p not in pairs]
    drawer = _read_json(id_folder / "pair_dictionary.json") or {}
    pairs += [p for p in drawer if p not in pairs]
    return pairs


def discover_windows(models_root: Path, identifier: str) -> list[TrainedWindow]:
    """
    The walk-forward windows of one FreqAI identifier, from its ``sub-train-*`` folders.

    A window whose model file is absent is listed all the same (its ``model_path`` is where
    FreqAI saves the model): :func:`verify_model_file` then says it is missing.

    :param models_root: FreqAI's models folder (``user_data/models``)
    :param identifier: ``freqai.identifier`` of the run
    :return: the windows, oldest first
    :raises ModelFileError: the identifier folder does not exist, or its pair cannot be told
        (neither ``run_params.json`` nor ``pair_dictionary.json`` names it)
    """
    id_folder = Path(models_root) / identifier
    if not id_folder.is_dir():
        raise ModelFileError(id_folder, f"no such FreqAI identifier folder in {models_root}")
    pairs = _identifier_pairs(id_folder)
    windows = []
    for folder in sorted(p for p in id_folder.iterdir() if p.is_dir()):
        match = SUB_TRAIN.match(folder.name)
        if match is None:
            continue
        coin, timestamp = match.group(1), int(match.group(2))
        pair = next((p for p in pairs if p.split("/")[0] == coin), None)
        if pair is None:
            raise ModelFileError(
                id_folder / "run_params.json",
                f"names no pair of coin {coin} (pairs: {pairs or 'none'}), so the pair of "
                f"{folder.name} cannot be told",
            )
        metadata = next(iter(sorted(folder.glob("*_metadata.json"))), None)
        filename = f"cb_{coin.lower()}_{timestamp}"  # FreqaiDataKitchen.set_new_model_names
        if metadata is not None:
            with contextlib.suppress(ModelFileError):
                filename = (_read_json(metadata) or {}).get("model_filename") or filename
        windows.append(
            TrainedWindow(identifier, pair, timestamp, folder / f"{filename}{MODEL_SUFFIX}", folder)
        )
    return sorted(windows, key=lambda w: (w.trained_timestamp, w.pair))


def read_algorithm(path: Path) -> str:
    """
    The algorithm that saved a stable-baselines3 model, from the ``data`` entry of its zip.

    :param path: the model zip
    :return: one of ``PPO``, ``A2C``, ``DQN``, ``RecurrentPPO``, ``MaskablePPO``
    :raises ModelFileError: the file is missing, not a zip, has no readable ``data`` entry, or
        was saved by another algorithm
    """
    path = Path(path)
    _check_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except KeyError as e:
        raise ModelFileError(path, "not a stable-baselines3 save (no 'data' entry)") from e
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ModelFileError(path, f"its 'data' entry cannot be read ({e})") from e
    policy = data.get("policy_class") if isinstance(data, dict) else None
    module = policy.get("__module__", "") if isinstance(policy, dict) else ""
    if module in _POLICY_MODULES:
        return _POLICY_MODULES[module]
    if module == "stable_baselines3.common.policies":
        return "PPO" if "clip_range" in data else "A2C"
    raise ModelFileError(
        path,
        f"saved with a policy from {module or 'an unknown module'}, not one of "
        f"{', '.join(ALGORITHM_PACKAGES)}",
    )


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ModelFileError(path, "missing")
    if not path.is_file():
        raise ModelFileError(path, "not a file")
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError(path, "empty (0 bytes)")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            path, f"not a zip archive ({size} bytes; truncated, or not a stable-baselines3 save)"
        )


def algorithm_class(algorithm: str) -> type:
    """
    :param algorithm: one of ``PPO``, ``A2C``, ``DQN``, ``RecurrentPPO``, ``MaskablePPO``
    :return: its stable-baselines3 / sb3-contrib class
    :raises ValueError: for another name
    """
    import importlib

    if algorithm not in ALGORITHM_PACKAGES:
        raise ValueError(
            f"unknown RL algorithm {algorithm!r}; expected one of {', '.join(ALGORITHM_PACKAGES)}"
        )
    return getattr(importlib.import_module(ALGORITHM_PACKAGES[algorithm]), algorithm)


def verify_model_file(path: Path, algorithm: str | None = None) -> None:
    """
    Check that a model file exists and that stable-baselines3 loads it, with the right class.

    :param path: the model zip (``cb_<coin>_<ts>_model.zip``)
    :param algorithm: the algorithm it should have been saved by; default: read from the zip
    :raises ModelFileError: missing, empty, not a zip, a damaged member (CRC), saved by another
        algorithm, or stable-baselines3 cannot load it
    """
    path = Path(path)
    saved_by = read_algorithm(path)
    if algorithm is not None and algorithm != saved_by:
        raise ModelFileError(path, f"saved by {saved_by}, expected a {algorithm} model")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ModelFileError(path, f"damaged zip archive ({e})") from e
    if damaged is not None:
        raise ModelFileError(path, f"damaged zip archive (bad CRC in {damaged!r})")
    try:
        algorithm_class(saved_by).load(path, device="cpu")
    except Exception as e:
        raise ModelFileError(
            path, f"stable-baselines3 cannot load it as {saved_by} ({type(e).__name__}: {e})"
        ) from e


def _check_freqai_files(model_path: Path) -> tuple[str, int, str]:
    """
    Check the files FreqAI loads with a model in dry-run / live.

    :return: the model filename, its trained timestamp and the coin of its sub-train folder
    :raises ModelFileError: a file is missing or unreadable
    """
    import cloudpickle

    folder = model_path.parent
    match = SUB_TRAIN.match(folder.name)
    if match is None or not model_path.name.endswith(MODEL_SUFFIX):
        raise ModelFileError(
            model_path,
            "not a FreqAI model (expected sub-train-<COIN>_<timestamp>/<name>_model.zip)",
        )
    filename = model_path.name[: -len(MODEL_SUFFIX)]
    for suffix in FREQAI_FILES:
        path = folder / f"{filename}{suffix}"
        if not path.is_file():
            raise ModelFileError(
                path,
                "missing; FreqAI loads it with the model in dry-run / live (backtests keep it "
                "only with freqai.save_backtest_models: true)",
            )
        if suffix.endswith(".json"):
            metadata = _read_json(path)
            if not isinstance(metadata, dict) or "training_features_list" not in metadata:
                raise ModelFileError(path, "not FreqAI metadata (no training_features_list)")
        else:
            try:
                with path.open("rb") as fp:
                    cloudpickle.load(fp)
            except Exception as e:
                raise ModelFileError(path, f"cannot be unpickled ({type(e).__name__}: {e})") from e
    return filename, int(match.group(2)), match.group(1)


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


@dataclass
class ModelRecord:
    """
    One trained meta-model: one walk-forward window of one configuration.

    Dates are ISO dates (UTC). ``window_metrics`` are the figures of the model's own
    out-of-sample window (``return`` as a fraction: 0.05 is +5 %, ``sharpe``, ``trades``, ...);
    ``run_metrics`` those of the whole walk-forward run of its configuration (``return``,
    ``sharpe``, ``sharpe_ci_low``, ... and ``buy_and_hold_sharpe`` over the same period).
    """

    id: int | None
    identifier: str
    algorithm: str
    seed: int
    config_hash: str
    pair: str
    train_start: str
    train_end: str
    oos_start: str
    oos_end: str
    model_path: str
    window_metrics: dict = field(default_factory=dict)
    run_metrics: dict = field(default_factory=dict)
    report: str = ""
    created_at: str = ""
    promoted: bool = False


_COLUMNS = tuple(f.name for f in fields(ModelRecord))
_JSON_COLUMNS = ("window_metrics", "run_metrics")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    pair TEXT NOT NULL,
    train_start TEXT NOT NULL,
    train_end TEXT NOT NULL,
    oos_start TEXT NOT NULL,
    oos_end TEXT NOT NULL,
    model_path TEXT NOT NULL,
    window_metrics TEXT NOT NULL,
    run_metrics TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at TEXT NOT NULL,
    promoted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (identifier, train_end)
)
"""


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(metrics: dict, key: str) -> float | None:
    value = metrics.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


class ModelRegistry:
    """
    The trained meta-models, in a SQLite file (``user_data/models.sqlite`` by default).

    One row per model, unique on (identifier, train_end): recording the same window again
    updates it. The promotion rule is :data:`PROMOTION_RULE`.
    """

    def __init__(self, path: Path = DEFAULT_REGISTRY) -> None:
        """
        Open the registry, creating the file and its table when they do not exist.

        :param path: the SQLite file
        :raises ModelRegistryError: the file is not a readable registry database
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ModelRegistryError(
                    f"Model registry {self.path} has schema version {version}; this BitBot "
                    f"reads version {SCHEMA_VERSION}. Use a newer BitBot or another --registry."
                )
            conn.execute(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            columns = [row[1] for row in conn.execute("PRAGMA table_info(models)")]
            if sorted(columns) != sorted(_COLUMNS):
                raise ModelRegistryError(
                    f"Model registry {self.path}: its 'models' table has the columns "
                    f"{columns}, expected {list(_COLUMNS)}. Move the file away to start a new "
                    "registry."
                )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in a transaction; SQLite errors become :class:`ModelRegistryError`."""
        conn = None
        try:
            conn = sqlite3.connect(self.path, timeout=30)
            with conn:
                yield conn
        except sqlite3.IntegrityError as e:
            raise ModelRegistryError(f"Model registry {self.path}: invalid record ({e})") from e
        except sqlite3.DatabaseError as e:
            if "not a database" in str(e) or "malformed" in str(e):
                raise ModelRegistryError(
                    f"Model registry {self.path} is not a readable SQLite database ({e}). Move "
                    "it away to start a new registry (the models themselves stay in "
                    "user_data/models)."
                ) from e
            raise ModelRegistryError(f"Model registry {self.path}: {e}") from e
        finally:
            if conn is not None:
                conn.close()

    @staticmethod
    def _to_record(row: sqlite3.Row | tuple) -> ModelRecord:
        values = dict(zip(_COLUMNS, row, strict=True))
        for key in _JSON_COLUMNS:
            values[key] = json.loads(values[key])
        values["promoted"] = bool(values["promoted"])
        return ModelRecord(**values)

    def _select(self, where: str = "", params: tuple = ()) -> list[ModelRecord]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM models {where}"
        with self._connect() as conn:
            rows = conn.execute(sql + " ORDER BY identifier, train_end, id", params).fetchall()
        return [self._to_record(row) for row in rows]

    def record(self, record: ModelRecord) -> int:
        """
        Record a model, or update the one of the same (identifier, train_end).

        ``record.id`` and ``record.promoted`` are not written (an update keeps the row's id and
        promotion); an empty ``created_at`` is set to now.

        :param record: the model
        :return: its id
        """
        if record.algorithm not in ALGORITHM_PACKAGES:
            raise ModelRegistryError(
                f"Cannot record model {record.identifier} / {record.train_end}: unknown "
                f"algorithm {record.algorithm!r} (expected one of {', '.join(ALGORITHM_PACKAGES)})"
            )
        values = {k: getattr(record, k) for k in _COLUMNS if k not in ("id", "promoted")}
        values["created_at"] = values["created_at"] or _now()
        for key in _JSON_COLUMNS:
            values[key] = json.dumps(values[key], sort_keys=True)
        names = list(values)
        updates = ", ".join(f"{n} = excluded.{n}" for n in names)
        with self._connect() as conn:
            other = conn.execute(
                "SELECT DISTINCT config_hash FROM models WHERE identifier = ? AND config_hash != ?",
                (record.identifier, record.config_hash),
            ).fetchall()
            if other:
                logger.warning(
                    "Model registry: identifier %s was recorded with config hash %s, now %s. "
                    "FreqAI reuses an identifier's models whatever the config: give each "
                    "configuration its own identifier.",
                    record.identifier,
                    ", ".join(r[0] for r in other),
                    record.config_hash,
                )
            conn.execute(
                f"INSERT INTO models ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                f"ON CONFLICT (identifier, train_end) DO UPDATE SET {updates}",
                tuple(values.values()),
            )
            (model_id,) = conn.execute(
                "SELECT id FROM models WHERE identifier = ? AND train_end = ?",
                (record.identifier, record.train_end),
            ).fetchone()
        return int(model_id)

    def list(self, identifier: str | None = None) -> list[ModelRecord]:
        """
        :param identifier: only the models of this configuration
        :return: the models, by identifier and end of training
        """
        if identifier is None:
            return self._select()
        return self._select("WHERE identifier = ?", (identifier,))

    def get(self, model_id: int) -> ModelRecord:
        """
        :param model_id: the model's id
        :return: the model
        :raises ModelRegistryError: no model has that id
        """
        found = self._select("WHERE id = ?", (int(model_id),))
        if not found:
            ids = [r.id for r in self._select()]
            known = f"ids {min(ids)} to {max(ids)}" if ids else "no model at all"
            raise ModelRegistryError(
                f"No model {model_id} in the registry {self.path} (it has {known}); "
                "see `bitbot models list`."
            )
        return found[0]

    def promoted(self) -> ModelRecord | None:
        """:return: the promoted model, if any"""
        found = self._select("WHERE promoted = 1")
        return found[0] if found else None

    def best(self, report: str | None = None) -> ModelRecord:
        """
        The model ``promote --best`` takes: of the configuration (identifier) whose walk-forward
        run has the highest out-of-sample Sharpe (``run_metrics["sharpe"]``), the most recently
        trained model (latest ``train_end``). Ties go to the later-trained, then higher id.

        :param report: only the models of this report (Sharpe ratios of different periods do not
            compare); None: every model
        :return: that model (not yet checked against buy-and-hold: :meth:`promote` does that)
        :raises ModelRegistryError: no model has a run Sharpe
        """
        latest: dict[str, ModelRecord] = {}
        for rec in self._select():
            if report is not None and rec.report != report:
                continue
            current = latest.get(rec.identifier)
            if current is None or (rec.train_end, rec.id or 0) > (
                current.train_end,
                current.id or 0,
            ):
                latest[rec.identifier] = rec
        ranked = [
            (sharpe, rec.train_end, rec.id or 0, rec)
            for rec in latest.values()
            if (sharpe := _number(rec.run_metrics, "sharpe")) is not None
        ]
        if not ranked:
            raise ModelRegistryError(
                f"No model in the registry {self.path}"
                + (f" from report {report!r}" if report else "")
                + " has a run Sharpe (run_metrics['sharpe']); record models with `bitbot report` "
                "first."
            )
        return max(ranked, key=lambda t: t[:3])[3]

    def check_rule(self, record: ModelRecord) -> None:
        """
        :param record: a model
        :raises PromotionRefusedError: its run did not beat buy-and-hold's Sharpe, or a figure
            is missing
        """
        sharpe = _number(record.run_metrics, "sharpe")
        hold = _number(record.run_metrics, "buy_and_hold_sharpe")
        if sharpe is None or hold is None:
            missing = [
                k for k, v in (("sharpe", sharpe), ("buy_and_hold_sharpe", hold)) if v is None
            ]
            raise PromotionRefusedError(
                f"Model {record.id} ({record.identifier}): its run metrics lack "
                f"{', '.join(missing)}, so the promotion rule cannot be applied. Use --force "
                "to promote it anyway."
            )
        if sharpe <= hold:
            raise PromotionRefusedError(
                f"Model {record.id} ({record.identifier}): its walk-forward run's out-of-sample "
                f"Sharpe {sharpe:.2f} does not beat buy-and-hold's {hold:.2f} over the same "
                "period. Use --force to promote it anyway."
            )

    def promote(
        self,
        model_id: int,
        *,
        models_root: Path = MODELS_ROOT,
        config_out: Path = PROMOTED_CONFIG,
        force: bool = False,
        pairs: Sequence[str] | None = None,
    ) -> Path:
        """
        Make the dry-run / live bot trade with one model.

        Promotion rule: ``promote ID`` promotes that model; ``promote --best`` (:meth:`best`)
        takes, among the configurations (identifiers), the one whose whole walk-forward run has
        the highest out-of-sample Sharpe, and of it the most recently trained model. Both are
        refused when the run's Sharpe does not beat buy-and-hold's over the same period
        (``run_metrics["sharpe"] <= run_metrics["buy_and_hold_sharpe"]``, or a figure missing)
        unless ``force``, and always when the model file or the files FreqAI loads with it are
        missing or corrupt. Exactly one model is marked promoted.

        How FreqAI picks it up: in dry-run / live, ``IFreqaiModel`` reads
        ``<user_data>/models/<freqai.identifier>/pair_dictionary.json`` (``FreqaiDataDrawer.
        load_drawer_from_disk``) and, per pair, loads ``<model_filename>_model.zip``, its
        metadata and pipelines from ``data_path`` (``FreqaiDataDrawer.load_data`` with
        ``dk.live``). So the window's folder is copied to ``<models_root>/promoted-<id>/``, and
        its ``pair_dictionary.json`` maps each pair to ``model_filename``, the window's
        ``trained_timestamp`` and ``data_path``. ``config_out`` is an overlay to pass after
        ``config.json`` / ``config.freqai.json``: the ``freqai`` section FreqAI recorded for the
        model's run (``run_params.json``: features, exposure levels, ...), with ``identifier``
        ``promoted-<id>``, the model's ``rl_config.model_type`` / ``seed`` / ``policy_type``,
        and a ``bitbot`` block naming the model.

        Ageing: FreqAI retrains live when the hours since ``trained_timestamp`` exceed
        ``live_retrain_hours`` (``check_if_new_training_required``; 24 in config.freqai.json)
        and, once they exceed ``expiration_hours`` (48), returns empty predictions
        (``check_if_model_expired``). A walk-forward model is older than both, so the shipped
        values would expire it at once and replace it by a fresh training within minutes. The
        overlay therefore pins it: ``live_retrain_hours`` :data:`PIN_RETRAIN_HOURS` (ten years)
        and ``expiration_hours`` 0 (never). The bot trades this model until another one is
        promoted or the overlay is dropped (then FreqAI trains its own models again).

        :param model_id: the model
        :param models_root: FreqAI's models folder of the bot (``<user_data>/models``)
        :param config_out: the overlay to write
        :param force: promote even when the run did not beat buy-and-hold
        :param pairs: the pairs the bot trades with this model (keys of pair_dictionary.json);
            default: the model's own pair. Each must have the model's base currency.
        :return: ``config_out``
        :raises ModelRegistryError: unknown id; :class:`PromotionRefusedError` by the rule
        :raises ModelFileError: the model file or a file FreqAI loads with it is missing or
            corrupt
        :raises ValueError: a pair of another base currency
        """
        record = self.get(model_id)
        if not force:
            self.check_rule(record)
        model_path = Path(record.model_path)
        verify_model_file(model_path, record.algorithm)
        filename, trained_timestamp, coin = _check_freqai_files(model_path)
        pairs = list(pairs) if pairs else [record.pair]
        foreign = [p for p in pairs if p.split("/")[0] != coin]
        if foreign:
            raise ValueError(
                f"Model {model_id} was trained on {coin} ({record.pair}); it cannot trade "
                f"{', '.join(foreign)}"
            )

        models_root = Path(models_root)
        identifier = f"{PROMOTED_PREFIX}{record.id}"
        dest = models_root / identifier
        staging = models_root / f".{identifier}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copytree(model_path.parent, staging / model_path.parent.name)
        run_params = _read_json(model_path.parent.parent / "run_params.json") or {}
        drawer = {
            pair: {
                "model_filename": filename,
                "trained_timestamp": trained_timestamp,
                "data_path": str(dest / model_path.parent.name),
                "extras": {},
            }
            for pair in pairs
        }
        (staging / "pair_dictionary.json").write_text(json.dumps(drawer, indent=2))
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)

        freqai = copy.deepcopy(run_params.get("freqai") or {})
        if not freqai:
            logger.warning(
                "No run_params.json beside %s: the overlay sets only the model's identifier and "
                "algorithm; the rest of freqai comes from your configs and must match training.",
                model_path.parent,
            )
        rl_config = freqai.setdefault("rl_config", {})
        if rl_config.get("model_type", record.algorithm) != record.algorithm:
            logger.warning(
                "run_params.json of %s says %s, the model is %s; the overlay uses %s.",
                record.identifier,
                rl_config["model_type"],
                record.algorithm,
                record.algorithm,
            )
        rl_config.update(
            {
                "model_type": record.algorithm,
                "seed": int(record.seed),
                "policy_type": "MlpLstmPolicy"
                if record.algorithm == "RecurrentPPO"
                else "MlpPolicy",
            }
        )
        freqai.update(
            {
                "enabled": True,
                "identifier": identifier,
                "live_retrain_hours": PIN_RETRAIN_HOURS,
                "expiration_hours": 0,
            }
        )
        overlay = {
            "freqai": freqai,
            "bitbot": {
                "model_id": record.id,
                "model_path": str(dest / model_path.parent.name / model_path.name),
                "source_model_path": str(model_path),
                "source_identifier": record.identifier,
                "config_hash": record.config_hash,
                "trained_until": record.train_end,
                "pairs": pairs,
                "promoted_at": _now(),
            },
        }
        config_out = Path(config_out)
        config_out.parent.mkdir(parents=True, exist_ok=True)
        partial = config_out.with_name(config_out.name + ".tmp")
        partial.write_text(json.dumps(overlay, indent=2) + "\n")
        partial.replace(config_out)

        with self._connect() as conn:
            conn.execute("UPDATE models SET promoted = (id = ?)", (record.id,))
        logger.info("Promoted model %s: %s, overlay %s", record.id, dest, config_out)
        return config_out


def default_pairs(record: ModelRecord, live_config: Path = LIVE_CONFIG) -> list[str]:
    """
    The pairs a promotion keys to the model: its own pair, and the pairs of the live config's
    whitelist with the same base currency (a model trained on the Binance BTC/USDT:USDT research
    proxy then trades Kraken's BTC/USD:USD).

    :param record: the model
    :param live_config: the live / dry-run configuration (skipped when absent or unreadable)
    :return: the pairs
    """
    import rapidjson

    pairs = [record.pair]
    try:
        config = rapidjson.loads(
            Path(live_config).read_text(),
            parse_mode=rapidjson.PM_COMMENTS | rapidjson.PM_TRAILING_COMMAS,
        )
    except (OSError, ValueError):
        return pairs
    coin = record.pair.split("/")[0]
    for pair in (config.get("exchange") or {}).get("pair_whitelist") or []:
        if pair.split("/")[0] == coin and pair not in pairs:
            pairs.append(pair)
    return pairs


def file_status(record: ModelRecord) -> str:
    """
    :param record: a model
    :return: ``ok``, ``MISSING`` or ``CORRUPT`` (the model file, by :func:`verify_model_file`)
    """
    try:
        verify_model_file(Path(record.model_path), record.algorithm)
    except ModelFileError as e:
        return "MISSING" if e.missing else "CORRUPT"
    return "ok"
