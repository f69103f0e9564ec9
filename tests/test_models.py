"""
The model registry (``meta_strategy.models``, ``bitbot models``): recording, file checks, the
promotion rule, and that FreqAI's own dry-run / live code loads the promoted model.

The fast tests build FreqAI-like model folders in ``tmp_path`` around tiny stable-baselines3
saves; the slow one promotes a model of a real (tiny) walk-forward.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import cloudpickle
import gymnasium as gym
import numpy as np
import pytest
from datasieve.pipeline import Pipeline

from meta_strategy import cli, models
from meta_strategy.models import (
    ModelFileError,
    ModelRecord,
    ModelRegistry,
    ModelRegistryError,
    PromotionRefusedError,
)
from tests.conftest import REPO, freqai_backtest, run_bitbot


PAIR = "BTC/USDT:USDT"
FEATURES = ["%-sig_ott_direction", "%-ret_1", "%-raw_open", "%-raw_close"]
T1, T2, T3 = 1748736000, 1750032000, 1751328000  # 2025-06-01, 2025-06-16, 2025-07-01
LIVE_CONFIGS = [
    REPO / "user_data" / "config.json",
    REPO / "user_data" / "config.binance.json",
    REPO / "user_data" / "config.freqai.json",
]


class _TinyEnv(gym.Env):
    """Observation and action spaces shaped like MetaPPO's (features + exposure, 3 levels)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (len(FEATURES) - 1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        return np.zeros(self.observation_space.shape, np.float32), {}

    def step(self, action: int) -> tuple:
        return np.zeros(self.observation_space.shape, np.float32), 0.0, False, False, {}


@pytest.fixture(scope="module")
def saves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny untrained save of every algorithm MetaPPO trains."""
    folder = tmp_path_factory.mktemp("sb3")
    out = {}
    for algorithm in models.ALGORITHM_PACKAGES:
        cls = models.algorithm_class(algorithm)
        kwargs: dict[str, Any] = {"policy_kwargs": {"net_arch": [8]}}
        policy = "MlpPolicy"
        if algorithm == "RecurrentPPO":
            policy = "MlpLstmPolicy"
            kwargs["policy_kwargs"]["lstm_hidden_size"] = 8
        if algorithm in ("PPO", "RecurrentPPO", "MaskablePPO"):
            kwargs.update(n_steps=16, batch_size=16)
        if algorithm == "DQN":
            kwargs.update(buffer_size=64, learning_starts=16)
        model = cls(policy, _TinyEnv(), seed=1, device="cpu", **kwargs)
        out[algorithm] = folder / f"{algorithm}.zip"
        model.save(out[algorithm])
    return out


def _fake_run(
    saves: dict[str, Path],
    models_root: Path,
    identifier: str,
    timestamps: tuple[int, ...] = (T1, T2),
    algorithm: str = "PPO",
) -> list[Path]:
    """
    A model folder as a FreqAI walk-forward with ``save_backtest_models: true`` leaves it.

    :return: the model files, oldest first
    """
    folder = models_root / identifier
    folder.mkdir(parents=True)
    freqai = json.loads((REPO / "user_data" / "config.freqai.json").read_text())["freqai"]
    freqai["identifier"] = identifier
    freqai["rl_config"]["model_type"] = algorithm
    run_params = {"freqai": freqai, "timeframe": "1h", "pairs": [PAIR]}
    (folder / "run_params.json").write_text(json.dumps(run_params))
    paths = []
    for ts in timestamps:
        sub = folder / f"sub-train-BTC_{ts}"
        sub.mkdir()
        name = f"cb_btc_{ts}"
        shutil.copy(saves[algorithm], sub / f"{name}_model.zip")
        shutil.copy(saves[algorithm], sub / "best_model.zip")
        metadata = {
            "data_path": str(sub),
            "model_filename": name,
            "training_features_list": FEATURES,
            "label_list": ["&-action"],
            "labels_mean": {"&-action": 0.0},
            "labels_std": {"&-action": 0.0},
            "extra_returns_per_train": {},
        }
        (sub / f"{name}_metadata.json").write_text(json.dumps(metadata))
        for kind in ("feature", "label"):
            with (sub / f"{name}_{kind}_pipeline.pkl").open("wb") as fp:
                cloudpickle.dump(Pipeline(), fp)
        paths.append(sub / f"{name}_model.zip")
    drawer = {
        PAIR: {
            "model_filename": f"cb_btc_{timestamps[-1]}",
            "trained_timestamp": timestamps[-1],
            "data_path": str(folder / f"sub-train-BTC_{timestamps[-1]}"),
            "extras": {},
        }
    }
    (folder / "pair_dictionary.json").write_text(json.dumps(drawer))
    return paths


def _record(
    identifier: str,
    train_end: str,
    model_path: Path | str,
    sharpe: float | None = 1.0,
    hold: float | None = 0.5,
    **kwargs: Any,
) -> ModelRecord:
    run = {"return": 0.1, "sharpe_ci_low": -0.2}
    if sharpe is not None:
        run["sharpe"] = sharpe
    if hold is not None:
        run["buy_and_hold_sharpe"] = hold
    values: dict[str, Any] = {
        "id": None,
        "identifier": identifier,
        "algorithm": "PPO",
        "seed": 42,
        "config_hash": "abc123",
        "pair": PAIR,
        "train_start": "2025-05-02",
        "train_end": train_end,
        "oos_start": train_end,
        "oos_end": "2025-07-01",
        "model_path": str(model_path),
        "window_metrics": {"return": 0.0123, "sharpe": 0.8, "trades": 3},
        "run_metrics": run,
        "report": "full",
        "created_at": "",
        **kwargs,
    }
    return ModelRecord(**values)


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models.sqlite")


# --------------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------------


def test_record_list_get_round_trip_and_upsert(registry: ModelRegistry) -> None:
    first = _record("run-a", "2025-06-01", "a1.zip")
    id1 = registry.record(first)
    id2 = registry.record(_record("run-a", "2025-06-16", "a2.zip"))
    id3 = registry.record(_record("run-b", "2025-06-01", "b1.zip", seed=7))
    assert len({id1, id2, id3}) == 3
    got = registry.get(id1)
    assert got.id == id1 and got.created_at and not got.promoted
    assert {**got.__dict__, "id": None, "created_at": ""} == first.__dict__
    assert [r.id for r in registry.list()] == [id1, id2, id3]
    assert [r.id for r in registry.list("run-b")] == [id3]
    assert registry.list("nope") == []

    # Recording the same (identifier, train_end) again updates the row, keeping its id.
    again = _record("run-a", "2025-06-01", "a1-new.zip", window_metrics={"return": -0.5})
    assert registry.record(again) == id1
    assert len(registry.list()) == 3
    assert registry.get(id1).model_path == "a1-new.zip"
    assert registry.get(id1).window_metrics == {"return": -0.5}
    # The file persists: a new instance reads the same rows.
    assert [r.id for r in ModelRegistry(registry.path).list()] == [id1, id2, id3]


def test_unknown_id_and_bad_records_are_clear_errors(registry: ModelRegistry) -> None:
    with pytest.raises(ModelRegistryError, match=r"No model 99 .*no model at all"):
        registry.get(99)
    registry.record(_record("run-a", "2025-06-01", "a1.zip"))
    with pytest.raises(ModelRegistryError, match=r"No model 99 .*ids 1 to 1.*models list"):
        registry.get(99)
    with pytest.raises(ModelRegistryError, match="unknown algorithm 'SAC'"):
        registry.record(_record("run-a", "2025-06-16", "x.zip", algorithm="SAC"))


def test_corrupt_or_foreign_registry_file_is_a_clear_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all, just some text" * 100)
    with pytest.raises(ModelRegistryError, match=r"garbage.sqlite is not a readable SQLite"):
        ModelRegistry(garbage)

    good = tmp_path / "good.sqlite"
    ModelRegistry(good).record(_record("run-a", "2025-06-01", "a1.zip"))
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(good.read_bytes()[:1500])
    with pytest.raises(ModelRegistryError, match=r"truncated\.sqlite"):
        ModelRegistry(truncated).list()

    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(ModelRegistryError, match=r"foreign.sqlite: its 'models' table"):
        ModelRegistry(foreign)


# --------------------------------------------------------------------------------------------
# models on disk
# --------------------------------------------------------------------------------------------


def test_discover_windows_on_a_freqai_folder(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = _fake_run(saves, root, "run-a", (T2, T1))
    (root / "run-a" / "backtesting_predictions").mkdir()
    windows = models.discover_windows(root, "run-a")
    assert [w.trained_timestamp for w in windows] == [T1, T2]
    assert windows[0] == models.TrainedWindow(
        "run-a", PAIR, T1, root / "run-a" / f"sub-train-BTC_{T1}" / f"cb_btc_{T1}_model.zip",
        root / "run-a" / f"sub-train-BTC_{T1}",
    )  # fmt: skip
    assert {w.model_path for w in windows} == set(paths)

    # save_backtest_models: false leaves the metadata only: the window is listed, its model
    # file is missing.
    paths[0].unlink()
    assert models.discover_windows(root, "run-a")[1].model_path == paths[0]
    with pytest.raises(ModelFileError, match="no such FreqAI identifier folder"):
        models.discover_windows(root, "nope")
    (root / "run-a" / "run_params.json").unlink()
    (root / "run-a" / "pair_dictionary.json").unlink()
    with pytest.raises(ModelFileError, match="names no pair of coin BTC"):
        models.discover_windows(root, "run-a")


def test_verify_model_file(saves: dict[str, Path], tmp_path: Path) -> None:
    for algorithm, path in saves.items():
        assert models.read_algorithm(path) == algorithm
        models.verify_model_file(path)
        models.verify_model_file(path, algorithm)

    def fails(path: Path, match: str, algorithm: str | None = None) -> ModelFileError:
        with pytest.raises(ModelFileError, match=match) as info:
            models.verify_model_file(path, algorithm)
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


# --------------------------------------------------------------------------------------------
# promotion
# --------------------------------------------------------------------------------------------


def _live_freqai(overlay: Path, user_data: Path) -> Any:
    """FreqAI as ``bitbot trade`` builds it from the configs plus the overlay (MetaPPO)."""
    from freqtrade.configuration.config_validation import validate_config_schema
    from freqtrade.configuration.load_config import load_from_files
    from freqtrade.resolvers.freqaimodel_resolver import FreqaiModelResolver

    config = load_from_files([str(p) for p in [*LIVE_CONFIGS, overlay]])
    validate_config_schema(config)
    config.update(
        user_data_dir=user_data,
        freqaimodel_path=str(REPO / "user_data" / "freqaimodels"),
    )
    return FreqaiModelResolver.load_freqaimodel(config)


def _check_freqai_loads_it(overlay: Path, user_data: Path, expected: Path, pair: str) -> None:
    """Freqtrade's dry-run / live path: pair_dictionary -> no retrain, not expired, load_data."""
    from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

    freqai = _live_freqai(overlay, user_data)
    filename, trained_timestamp = freqai.dd.get_pair_dict_info(pair)
    assert filename == expected.name.removesuffix("_model.zip")
    dk = FreqaiDataKitchen(freqai.config, live=True, pair=pair)
    retrain, _, _ = dk.check_if_new_training_required(trained_timestamp)
    assert not retrain, "FreqAI would replace the promoted model by a fresh training"
    assert not dk.check_if_model_expired(trained_timestamp)
    model = freqai.dd.load_data(pair, dk)
    assert (
        type(model).__name__ == json.loads(overlay.read_text())["freqai"]["rl_config"]["model_type"]
    )
    assert Path(dk.data_path) == expected.parent
    metadata = json.loads(next(expected.parent.glob("*_metadata.json")).read_text())
    assert dk.training_features_list == metadata["training_features_list"]
    action, _ = model.predict(np.zeros(model.observation_space.shape, np.float32))
    assert int(action) in range(model.action_space.n)


def test_promote_writes_what_freqai_live_loads(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = _fake_run(saves, root, "run-a")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    model_id = registry.record(_record("run-a", "2025-06-16", paths[1]))
    out = registry.promote(
        model_id,
        models_root=root,
        config_out=tmp_path / "config.promoted.json",
        pairs=[PAIR, "BTC/USD:USD"],
    )
    assert out == tmp_path / "config.promoted.json"
    dest = root / f"promoted-{model_id}"
    copied = dest / f"sub-train-BTC_{T2}" / f"cb_btc_{T2}_model.zip"
    assert copied.read_bytes() == paths[1].read_bytes()
    drawer = json.loads((dest / "pair_dictionary.json").read_text())
    entry = {
        "model_filename": f"cb_btc_{T2}",
        "trained_timestamp": T2,
        "data_path": str(copied.parent),
        "extras": {},
    }
    assert drawer == {PAIR: entry, "BTC/USD:USD": entry}  # the keys of data_drawer.pair_info

    overlay = json.loads(out.read_text())
    freqai = overlay["freqai"]
    assert freqai["identifier"] == f"promoted-{model_id}"
    assert freqai["rl_config"]["model_type"] == "PPO" and freqai["rl_config"]["seed"] == 42
    assert freqai["rl_config"]["policy_type"] == "MlpPolicy"
    assert freqai["live_retrain_hours"] == models.PIN_RETRAIN_HOURS
    assert freqai["expiration_hours"] == 0
    assert freqai["rl_config"]["exposure_levels"] == 3  # the run's own freqai section
    assert overlay["bitbot"]["model_id"] == model_id
    assert overlay["bitbot"]["model_path"] == str(copied)
    assert overlay["bitbot"]["promoted_at"].endswith("Z")
    assert registry.promoted() == registry.get(model_id)

    # Freqtrade's own dry-run / live code finds, keeps and loads exactly that model, for the
    # research pair and for Kraken's pair alike.
    _check_freqai_loads_it(out, tmp_path, copied, PAIR)
    _check_freqai_loads_it(out, tmp_path, copied, "BTC/USD:USD")

    # Without the overlay's pinning, the shipped config would expire and retrain it at once.
    from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

    plain = dict(_live_freqai(out, tmp_path).config)
    plain["freqai"] = {**plain["freqai"], "live_retrain_hours": 24, "expiration_hours": 48}
    dk = FreqaiDataKitchen(plain, live=True, pair=PAIR)
    assert dk.check_if_new_training_required(T2)[0] and dk.check_if_model_expired(T2)

    # One promoted model at a time; promoting again replaces the folder and the overlay.
    other = registry.record(_record("run-a", "2025-06-01", paths[0]))
    registry.promote(other, models_root=root, config_out=out)
    assert [r.id for r in registry.list() if r.promoted] == [other]
    assert json.loads(out.read_text())["bitbot"]["model_id"] == other
    registry.promote(model_id, models_root=root, config_out=out)
    assert [r.id for r in registry.list() if r.promoted] == [model_id]
    assert list(json.loads((dest / "pair_dictionary.json").read_text())) == [PAIR]


def test_promote_recurrent_ppo_sets_its_policy(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = _fake_run(saves, root, "run-r", (T1,), algorithm="RecurrentPPO")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    model_id = registry.record(
        _record("run-r", "2025-06-01", paths[0], algorithm="RecurrentPPO", seed=3)
    )
    out = registry.promote(model_id, models_root=root, config_out=tmp_path / "o.json")
    rl = json.loads(out.read_text())["freqai"]["rl_config"]
    assert (rl["model_type"], rl["policy_type"], rl["seed"]) == ("RecurrentPPO", "MlpLstmPolicy", 3)
    copied = root / f"promoted-{model_id}" / f"sub-train-BTC_{T1}" / f"cb_btc_{T1}_model.zip"
    _check_freqai_loads_it(out, tmp_path, copied, PAIR)


def test_rule_refuses_unless_forced(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = _fake_run(saves, root, "run-a")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    out = tmp_path / "config.promoted.json"
    worse = registry.record(_record("run-a", "2025-06-16", paths[1], sharpe=0.1, hold=0.17))
    with pytest.raises(PromotionRefusedError, match=r"Sharpe 0.10 does not beat buy-and-hold's"):
        registry.promote(worse, models_root=root, config_out=out)
    assert not out.exists() and not (root / f"promoted-{worse}").exists()
    assert registry.promoted() is None
    tie = registry.record(_record("run-b", "2025-06-16", paths[1], sharpe=0.5, hold=0.5))
    with pytest.raises(PromotionRefusedError, match="does not beat"):
        registry.promote(tie, models_root=root, config_out=out)
    unknown = registry.record(_record("run-c", "2025-06-16", paths[1], hold=None))
    with pytest.raises(PromotionRefusedError, match="lack buy_and_hold_sharpe"):
        registry.promote(unknown, models_root=root, config_out=out)
    assert registry.promote(worse, models_root=root, config_out=out, force=True) == out
    assert registry.promoted().id == worse


def test_promote_refuses_missing_or_corrupt_files(saves: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "models"
    paths = _fake_run(saves, root, "run-a")
    registry = ModelRegistry(tmp_path / "models.sqlite")
    out = tmp_path / "config.promoted.json"
    good = registry.record(_record("run-a", "2025-06-16", paths[1]))
    corrupt = registry.record(_record("run-a", "2025-06-01", paths[0]))
    paths[0].write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="not a zip archive"):
        registry.promote(corrupt, models_root=root, config_out=out, force=True)
    paths[0].unlink()
    with pytest.raises(ModelFileError, match="missing"):
        registry.promote(corrupt, models_root=root, config_out=out, force=True)
    with pytest.raises(ValueError, match="cannot trade ETH/USDT:USDT"):
        registry.promote(good, models_root=root, config_out=out, pairs=["ETH/USDT:USDT"])
    pipeline = paths[1].parent / f"cb_btc_{T2}_feature_pipeline.pkl"
    pipeline.write_bytes(b"not a pickle")
    with pytest.raises(ModelFileError, match=r"feature_pipeline.pkl: cannot be unpickled"):
        registry.promote(good, models_root=root, config_out=out)
    pipeline.unlink()
    with pytest.raises(ModelFileError, match="save_backtest_models: true"):
        registry.promote(good, models_root=root, config_out=out)
    assert not out.exists() and registry.promoted() is None


def test_best_follows_the_rule(saves: dict[str, Path], tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models.sqlite")
    with pytest.raises(ModelRegistryError, match="has a run Sharpe"):
        registry.best()
    registry.record(_record("low", "2025-07-01", "l.zip", sharpe=0.3))
    registry.record(_record("high", "2025-06-01", "h1.zip", sharpe=0.9))
    latest = registry.record(_record("high", "2025-06-16", "h2.zip", sharpe=0.9))
    registry.record(_record("no-figure", "2025-08-01", "n.zip", sharpe=None))
    assert registry.best().id == latest
    registry.record(_record("higher", "2025-05-01", "x.zip", sharpe=float("nan")))
    assert registry.best().id == latest

    root = tmp_path / "models"
    paths = _fake_run(saves, root, "top")
    registry.record(_record("top", "2025-06-01", paths[0], sharpe=2.0, hold=2.5))
    top = registry.record(_record("top", "2025-06-16", paths[1], sharpe=2.0, hold=2.5))
    assert registry.best().id == top
    with pytest.raises(PromotionRefusedError):  # the best run must still beat buy-and-hold
        registry.promote(registry.best().id, models_root=root, config_out=tmp_path / "o.json")


def test_default_pairs_add_the_live_pairs_of_the_same_coin(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        '{"exchange": {"pair_whitelist": ["BTC/USD:USD", "ETH/USD:USD"]}, // comment\n}'
    )
    record = _record("run-a", "2025-06-16", "x.zip")
    assert models.default_pairs(record, config) == [PAIR, "BTC/USD:USD"]
    assert models.default_pairs(record, tmp_path / "absent.json") == [PAIR]
    assert models.default_pairs(record, REPO / models.LIVE_CONFIG) == [PAIR, "BTC/USD:USD"]


# --------------------------------------------------------------------------------------------
# bitbot models
# --------------------------------------------------------------------------------------------


def test_cli_list_and_promote(
    saves: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the default paths are user_data/... of the current directory
    paths = _fake_run(saves, Path("user_data/models").resolve(), "run-a", (T1, T2, T3))
    registry = ModelRegistry(Path("reg.sqlite"))
    ok = registry.record(_record("run-a", "2025-07-01", paths[2], sharpe=1.25, hold=0.17))
    missing = registry.record(_record("run-a", "2025-06-01", paths[0]))
    corrupt = registry.record(_record("run-a", "2025-06-16", paths[1]))
    paths[0].unlink()
    paths[1].write_bytes(b"PK\x03\x04 not really")

    assert cli.main(["models", "list", "--registry", "empty.sqlite"]) == 0
    assert "No model recorded in empty.sqlite" in capsys.readouterr().out
    assert cli.main(["models", "list", "--registry", "reg.sqlite"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {int(line.split()[0]): line for line in lines[2:-1]}
    assert rows[missing].endswith("MISSING") and rows[corrupt].endswith("CORRUPT")
    assert rows[ok].endswith("ok") and "run-a" in rows[ok] and "PPO" in rows[ok]
    assert "2025-05-02..2025-07-01" in rows[ok] and "+1.23%" in rows[ok] and "1.25" in rows[ok]

    assert cli.main(["models", "promote", "99", "--registry", "reg.sqlite"]) == 2
    assert "No model 99" in capsys.readouterr().err
    assert cli.main(["models", "promote", str(missing), "--registry", "reg.sqlite"]) == 2
    assert "missing" in capsys.readouterr().err
    assert cli.main(["models", "promote", str(corrupt), "--registry", "reg.sqlite"]) == 2
    assert "not a zip archive" in capsys.readouterr().err

    assert cli.main(["models", "promote", "--best", "--registry", "reg.sqlite"]) == 0
    out = capsys.readouterr().out
    assert (
        f"Best by the promotion rule: model {ok}" in out and "user_data/config.promoted.json" in out
    )
    overlay = json.loads(Path("user_data/config.promoted.json").read_text())
    assert overlay["freqai"]["identifier"] == f"promoted-{ok}"
    assert (Path("user_data/models") / f"promoted-{ok}" / "pair_dictionary.json").is_file()
    assert cli.main(["models", "list", "--registry", "reg.sqlite"]) == 0
    promoted = [line for line in capsys.readouterr().out.splitlines() if line.startswith("*")]
    assert len(promoted) == 2 and promoted[0].split()[1] == str(ok)  # the row and the legend

    refused = registry.record(_record("run-b", "2025-07-01", paths[2], sharpe=0.1, hold=0.17))
    assert cli.main(["models", "promote", str(refused), "--registry", "reg.sqlite"]) == 2
    assert "does not beat" in capsys.readouterr().err
    args = ["models", "promote", str(refused), "--force", "--registry", "reg.sqlite"]
    assert cli.main([*args, "--pairs", "BTC/USD:USD", "--output", "o.json"]) == 0
    assert "(forced)" in capsys.readouterr().out
    drawer = json.loads(
        (Path("user_data/models") / f"promoted-{refused}" / "pair_dictionary.json").read_text()
    )
    assert list(drawer) == ["BTC/USD:USD"]

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"x" * 4096)
    assert cli.main(["models", "list", "--registry", str(garbage)]) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err


def test_bitbot_models_promote_help_states_the_rule() -> None:
    out = run_bitbot("models", "promote", "--help", timeout=120)
    assert out.returncode == 0, out.stdout
    text = " ".join(out.stdout.split())
    assert "highest out-of-sample Sharpe" in text and "buy-and-hold" in text and "--force" in text
    out = run_bitbot("models", "promote", timeout=120)
    assert out.returncode == 2 and "one of the arguments model_id --best is required" in out.stdout


# --------------------------------------------------------------------------------------------
# a real walk-forward
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_promote_a_real_walk_forward_model(binance_datadir: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.json"
    small.write_text(
        json.dumps(
            {
                "freqai": {
                    "identifier": "ci-registry",
                    "save_backtest_models": True,
                    "train_period_days": 30,
                    "backtest_period_days": 15,
                    "model_training_parameters": {"n_steps": 256, "batch_size": 64, "n_epochs": 2},
                    "rl_config": {"train_cycles": 1, "net_arch": [16, 16], "seed": 5},
                }
            }
        )
    )
    configs = [arg for p in (*LIVE_CONFIGS, small) for arg in ("-c", str(p))]
    freqai_backtest(
        tmp_path,
        "registry",
        configs,
        "MetaStrategy",
        "20250601-20250701",
        tmp_path,
        env={"BITBOT_DATA": str(binance_datadir)},
    )
    userdir = tmp_path / "userdir-registry"
    windows = models.discover_windows(userdir / "models", "ci-registry")
    assert [w.trained_timestamp for w in windows] == [T1, T2]
    registry = ModelRegistry(tmp_path / "models.sqlite")
    for w in windows:
        models.verify_model_file(w.model_path, "PPO")
        assert w.pair == PAIR
        end = np.datetime64(w.trained_timestamp, "s").astype(str)[:10]
        registry.record(_record(w.identifier, end, w.model_path, seed=5))
    best = registry.best()
    assert best.train_end == "2025-06-16"
    overlay = registry.promote(
        best.id, models_root=userdir / "models", config_out=tmp_path / "promoted.json"
    )
    copied = userdir / "models" / f"promoted-{best.id}" / f"sub-train-BTC_{T2}"
    _check_freqai_loads_it(overlay, userdir, copied / f"cb_btc_{T2}_model.zip", PAIR)


def test_best_compares_models_of_one_report_only(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.record(_record("run-full", "2025-06-01", tmp_path / "a.zip", sharpe=0.4))
    registry.record(
        _record("run-quick", "2025-06-01", tmp_path / "b.zip", sharpe=3.0, report="quick")
    )
    assert registry.best("full").identifier == "run-full"
    assert registry.best("quick").identifier == "run-quick"
    assert registry.best().identifier == "run-quick"
    with pytest.raises(ModelRegistryError, match="from report 'other'"):
        registry.best("other")
