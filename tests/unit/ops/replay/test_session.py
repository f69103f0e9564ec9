"""
The replay's settings and session (meta_strategy.ops.replay.session): the pair, the forced
dry-run, the start, the promoted model, names, resuming.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meta_strategy.ops.replay.errors import ReplayError
from meta_strategy.ops.replay.exchange import check_replay_config
from meta_strategy.ops.replay.session import _out_of_sample_start, newest_db_time, run_replay
from meta_strategy.ops.replay.settings import (
    ReplaySettings,
    choose_recorded_pair,
    forced_environment,
    prepare_models,
    replay_overlay,
)
from tests.helpers.recording import PAIR, T0


def test_recorded_pair_choice(recording: Path) -> None:
    assert choose_recorded_pair(recording, "BTC/USD:USD", "futures") == PAIR
    assert choose_recorded_pair(recording, PAIR, "futures") == PAIR
    with pytest.raises(ReplayError, match="no spot pairs"):
        choose_recorded_pair(recording, "BTC/USD", "spot")


def test_overlay_forces_dry_run_without_keys(recording: Path, tmp_path: Path) -> None:
    settings = ReplaySettings(recording=recording, name="x", root=tmp_path, speed=600)
    config = {"freqai": {"enabled": True, "identifier": "meta"}, "internals": {}}
    overlay = replay_overlay(settings, config)
    assert overlay["dry_run"] is True
    assert overlay["exchange"]["key"] == "" and overlay["exchange"]["secret"] == ""
    assert overlay["db_url"].endswith(f"{tmp_path.name}/x/tradesv3.replay.sqlite")
    assert overlay["freqai"]["identifier"] == "replay-x-meta"
    assert overlay["bitbot"]["markets"] == "snapshot"
    assert overlay["internals"]["heartbeat_interval"] == 60 * 600


def test_new_replay_needs_a_start_inside_the_recording(recording: Path, tmp_path: Path) -> None:
    config = ["-c", "user_data/config.json", "-s", "EqualVoteStrategy"]
    with pytest.raises(ReplayError, match="give --start"):
        run_replay(ReplaySettings(recording=recording, root=tmp_path), config)
    late = ReplaySettings(recording=recording, root=tmp_path, start=T0 + timedelta(days=30))
    with pytest.raises(ReplayError, match="outside the recording"):
        run_replay(late, config)
    with pytest.raises(ValueError, match="not a folder"):
        run_replay(ReplaySettings(recording=tmp_path / "nope", start=T0), config)


def test_promoted_model_replays_out_of_sample_by_default(
    recording: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"bitbot": {"model_id": 7, "trained_until": "2025-05-30"}}
    settings = ReplaySettings(recording=recording, root=tmp_path)
    assert _out_of_sample_start(settings, config).start == datetime(2025, 5, 31, tzinfo=UTC)
    early = ReplaySettings(
        recording=recording, root=tmp_path, start=datetime(2025, 5, 1, tzinfo=UTC)
    )
    assert _out_of_sample_start(early, config).start == early.start
    assert "in-sample" in caplog.text


def test_promoted_model_is_copied_never_written(recording: Path, tmp_path: Path) -> None:
    user_data = tmp_path / "user_data"
    promoted = user_data / "models" / "promoted-7"
    (promoted / "sub-train-BTC_1").mkdir(parents=True)
    (promoted / "sub-train-BTC_1" / "model.zip").write_bytes(b"model")
    sub = str(promoted / "sub-train-BTC_1")
    (promoted / "pair_dictionary.json").write_text(json.dumps({"BTC/USD:USD": {"data_path": sub}}))
    config = {
        "user_data_dir": str(user_data),
        "freqai": {"enabled": True, "identifier": "promoted-7"},
        "bitbot": {"model_id": 7},
    }
    settings = ReplaySettings(recording=recording, root=tmp_path / "replays", name="r")
    folder = prepare_models(settings, config)
    assert folder == user_data / "models" / "replay-r-promoted-7"
    assert (folder / "sub-train-BTC_1" / "model.zip").read_bytes() == b"model"
    # FreqAI loads the model from the pair dictionary's data_path: the copy, not the original.
    copied = json.loads((folder / "pair_dictionary.json").read_text())
    assert copied["BTC/USD:USD"]["data_path"] == str(folder / "sub-train-BTC_1")
    assert json.loads((promoted / "pair_dictionary.json").read_text())["BTC/USD:USD"] == {
        "data_path": sub
    }
    assert replay_overlay(settings, config)["freqai"]["identifier"] == "replay-r-promoted-7"
    config["freqai"]["identifier"] = "promoted-8"
    config["bitbot"]["model_id"] = 8
    with pytest.raises(ReplayError, match="promoted model 8"):
        prepare_models(settings, config)


@pytest.mark.parametrize("name", ["..", "", "a/b", "-x"])
def test_replay_names_cannot_escape_the_replay_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ReplayError, match="replay name"):
        ReplaySettings(recording=tmp_path, name=name, root=tmp_path)


def test_the_environment_cannot_turn_a_replay_live(tmp_path: Path) -> None:
    settings = ReplaySettings(recording=tmp_path, name="x", root=tmp_path)
    env = forced_environment(settings)
    assert env["FREQTRADE__DRY_RUN"] == "true"
    assert env["FREQTRADE__DB_URL"] == f"sqlite:///{settings.db_path.resolve()}"
    assert env["FREQTRADE__EXCHANGE__KEY"] == env["FREQTRADE__EXCHANGE__SECRET"] == ""
    assert env["FREQTRADE__TELEGRAM__ENABLED"] == "false"
    assert env["BITBOT_MARKETS"] == "snapshot"
    with_telegram = ReplaySettings(recording=tmp_path, name="x", root=tmp_path, telegram=True)
    assert "FREQTRADE__TELEGRAM__ENABLED" not in forced_environment(with_telegram)
    db = settings.db_path
    good = {"dry_run": True, "db_url": f"sqlite:///{db.resolve()}", "exchange": {"key": ""}}
    check_replay_config(good, db)
    for bad, why in (
        ({**good, "dry_run": False}, "dry_run"),
        ({**good, "db_url": "sqlite:///tradesv3.dryrun.sqlite"}, "db_url"),
        ({**good, "exchange": {"key": "k", "secret": "s"}}, "keys"),
    ):
        with pytest.raises(ReplayError, match=why):
            check_replay_config(bad, db)


def test_resume_is_never_before_the_database(tmp_path: Path) -> None:
    db = tmp_path / "trades.sqlite"
    assert newest_db_time(db) is None
    with closing(sqlite3.connect(db)) as con:
        con.execute("CREATE TABLE trades (open_date TEXT, close_date TEXT)")
        con.execute(
            "CREATE TABLE orders (order_date TEXT, order_filled_date TEXT, order_update_date TEXT)"
        )
        con.execute("INSERT INTO trades VALUES ('2025-06-02 10:00:00.000000', NULL)")
        con.execute(
            "INSERT INTO orders VALUES ('2025-06-02 10:00:00', '2025-06-02 11:30:00.5', NULL)"
        )
        con.commit()
    assert newest_db_time(db) == datetime(2025, 6, 2, 11, 30, 0, 500000, tzinfo=UTC)
