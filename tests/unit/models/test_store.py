"""
Trained models on disk (meta_strategy.models.store): FreqAI's walk-forward folders, and model
files checked with an error that names the file and the problem.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from meta_strategy.models.store import (
    ModelFileError,
    TrainedWindow,
    discover_windows,
    file_status,
    read_algorithm,
    verify_model_file,
)
from tests.helpers.model_files import PAIR, T1, T2, fake_run, make_record


def test_discover_windows_on_a_freqai_folder(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = fake_run(saves, root, "run-a", (T2, T1))
    (root / "run-a" / "backtesting_predictions").mkdir()
    windows = discover_windows(root, "run-a")
    assert [w.trained_timestamp for w in windows] == [T1, T2]
    assert windows[0] == TrainedWindow(
        "run-a", PAIR, T1, root / "run-a" / f"sub-train-BTC_{T1}" / f"cb_btc_{T1}_model.zip",
        root / "run-a" / f"sub-train-BTC_{T1}",
    )  # fmt: skip
    assert {w.model_path for w in windows} == set(paths)

    # save_backtest_models: false leaves the metadata only: the window is listed, its model
    # file is missing.
    paths[0].unlink()
    assert discover_windows(root, "run-a")[1].model_path == paths[0]
    with pytest.raises(ModelFileError, match="no such FreqAI identifier folder"):
        discover_windows(root, "nope")
    (root / "run-a" / "run_params.json").unlink()
    (root / "run-a" / "pair_dictionary.json").unlink()
    with pytest.raises(ModelFileError, match="names no pair of coin BTC"):
        discover_windows(root, "run-a")


def test_verify_model_file(saves: dict[str, Path], tmp_path: Path) -> None:
    for algorithm, path in saves.items():
        assert read_algorithm(path) == algorithm
        verify_model_file(path)
        verify_model_file(path, algorithm)

    def fails(path: Path, match: str, algorithm: str | None = None) -> ModelFileError:
        with pytest.raises(ModelFileError, match=match) as info:
            verify_model_file(path, algorithm)
        assert str(path) in str(info.value)
        return info.value

    assert fails(tmp_path / "absent.zip", "missing").missing
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    assert not fails(empty, r"empty \(0 bytes\)").missing
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    fails(garbage, "not a zip archive")
    good = saves["PPO"].read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good[: len(good) // 2])
    fails(truncated, "not a zip archive")
    # A flipped byte inside the policy weights: still a zip, but a member fails its CRC.
    with zipfile.ZipFile(saves["PPO"]) as archive:
        info = archive.getinfo("policy.pth")
    damaged = bytearray(good)
    damaged[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(bytes(damaged))
    fails(flipped, "bad CRC in 'policy.pth'")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    fails(other, "not a stable-baselines3 save")
    fails(saves["PPO"], "saved by PPO, expected a A2C model", "A2C")
    # A readable data entry whose weights are not a torch file: stable-baselines3 fails.
    hollow = tmp_path / "hollow.zip"
    with zipfile.ZipFile(saves["PPO"]) as src, zipfile.ZipFile(hollow, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, b"junk" if item.filename == "policy.pth" else src.read(item))
    fails(hollow, "stable-baselines3 cannot load it as PPO")


def test_file_status_names_missing_and_corrupt_files(
    saves: dict[str, Path], tmp_path: Path
) -> None:
    """What ``bitbot models list`` shows per model: ok, MISSING or CORRUPT."""
    paths = fake_run(saves, tmp_path / "models", "run-a")
    record = make_record("run-a", "2025-06-16", paths[1])
    assert file_status(record.model_path, record.algorithm) == "ok"
    assert file_status(paths[1], "A2C") == "CORRUPT"  # saved by PPO
    paths[0].write_bytes(b"PK\x03\x04 not really")
    assert file_status(paths[0]) == "CORRUPT"
    paths[0].unlink()
    assert file_status(paths[0], "PPO") == "MISSING"
