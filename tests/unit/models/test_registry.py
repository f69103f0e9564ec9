"""The model registry (meta_strategy.models.registry): recording, reading, unreadable files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from meta_strategy.models.registry import ModelRegistry, ModelRegistryError
from tests.helpers.model_files import make_record


def test_record_list_get_round_trip_and_upsert(registry: ModelRegistry) -> None:
    first = make_record("run-a", "2025-06-01", "a1.zip")
    id1 = registry.record(first)
    id2 = registry.record(make_record("run-a", "2025-06-16", "a2.zip"))
    id3 = registry.record(make_record("run-b", "2025-06-01", "b1.zip", seed=7))
    assert len({id1, id2, id3}) == 3
    got = registry.get(id1)
    assert got.id == id1 and got.created_at and not got.promoted
    assert {**got.__dict__, "id": None, "created_at": ""} == first.__dict__
    assert [r.id for r in registry.list()] == [id1, id2, id3]
    assert [r.id for r in registry.list("run-b")] == [id3]
    assert registry.list("nope") == []

    # Recording the same (identifier, train_end) again updates the row, keeping its id.
    again = make_record("run-a", "2025-06-01", "a1-new.zip", window_metrics={"return": -0.5})
    assert registry.record(again) == id1
    assert len(registry.list()) == 3
    assert registry.get(id1).model_path == "a1-new.zip"
    assert registry.get(id1).window_metrics == {"return": -0.5}
    # The file persists: a new instance reads the same rows.
    assert [r.id for r in ModelRegistry(registry.path).list()] == [id1, id2, id3]


def test_unknown_id_and_bad_records_are_clear_errors(registry: ModelRegistry) -> None:
    with pytest.raises(ModelRegistryError, match=r"No model 99 .*no model at all"):
        registry.get(99)
    registry.record(make_record("run-a", "2025-06-01", "a1.zip"))
    with pytest.raises(ModelRegistryError, match=r"No model 99 .*ids 1 to 1.*models list"):
        registry.get(99)
    with pytest.raises(ModelRegistryError, match="unknown algorithm 'SAC'"):
        registry.record(make_record("run-a", "2025-06-16", "x.zip", algorithm="SAC"))


def test_corrupt_or_foreign_registry_file_is_a_clear_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all, just some text" * 100)
    with pytest.raises(ModelRegistryError, match=r"garbage.sqlite is not a readable SQLite"):
        ModelRegistry(garbage)

    good = tmp_path / "good.sqlite"
    ModelRegistry(good).record(make_record("run-a", "2025-06-01", "a1.zip"))
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(good.read_bytes()[:1500])
    with pytest.raises(ModelRegistryError, match=r"truncated\.sqlite"):
        ModelRegistry(truncated).list()

    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(ModelRegistryError, match=r"foreign.sqlite: its 'models' table"):
        ModelRegistry(foreign)
