"""
The model registry: every trained meta-model in SQLite (``user_data/models.sqlite``), with its
FreqAI identifier, configuration hash, algorithm, seed, training range, out-of-sample window
and figures. ``bitbot models list`` shows them; :mod:`meta_strategy.models.promotion` selects
one for dry-run and live.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from meta_strategy.paths import MODEL_REGISTRY
from meta_strategy.rl.algorithms import ALGORITHM_PACKAGES


logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class ModelRegistryError(ValueError):
    """The registry database is unreadable, or a model id / request cannot be served."""


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


def utc_now() -> str:
    """:return: the current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``"""
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metric(metrics: dict, key: str) -> float | None:
    """:return: ``metrics[key]`` when it is a number (not NaN), else None"""
    value = metrics.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


class ModelRegistry:
    """
    The trained meta-models, in a SQLite file (``user_data/models.sqlite`` by default).

    One row per model, unique on (identifier, train_end): recording the same window again
    updates it. Which one the bot trades with is :mod:`meta_strategy.models.promotion`'s choice.
    """

    def __init__(self, path: Path = MODEL_REGISTRY) -> None:
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
        values["created_at"] = values["created_at"] or utc_now()
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

    def set_promoted(self, model_id: int) -> None:
        """
        Mark one model as the promoted one (and no other).

        :param model_id: the model's id
        """
        with self._connect() as conn:
            conn.execute("UPDATE models SET promoted = (id = ?)", (int(model_id),))
