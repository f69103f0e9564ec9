"""
Trained meta-models on disk: FreqAI's walk-forward folders and the files in them.

FreqAI's walk-forward trains one model per window and keeps it under
``user_data/models/<identifier>/sub-train-<COIN>_<trained_timestamp>/``: the stable-baselines3
save ``cb_<coin>_<ts>_model.zip``, the ``_metadata.json`` (feature and label lists), the
``_feature_pipeline.pkl`` / ``_label_pipeline.pkl`` scalers and the training frames. A backtest
keeps the model and the pipelines only with ``freqai.save_backtest_models: true`` (Freqtrade's
default is ``false``: then only the metadata is written, and such a window cannot be traded).

* :func:`discover_windows` lists the windows of one identifier found on disk;
* :func:`verify_model_file` turns a missing or corrupt model file into a :class:`ModelFileError`
  that names the file and the problem; :func:`check_freqai_files` does the same for the files
  FreqAI loads with it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meta_strategy.rl.algorithms import ALGORITHM_PACKAGES, algorithm_class


logger = logging.getLogger(__name__)

SUB_TRAIN = re.compile(r"^sub-train-(.+)_(\d{10})$")  # FreqAI's own pattern (purge_old_models)

MODEL_SUFFIX = "_model.zip"


# Besides the model, the files FreqAI's FreqaiDataDrawer.load_data() reads in dry-run / live.
FREQAI_FILES = ("_metadata.json", "_feature_pipeline.pkl", "_label_pipeline.pkl")


# The module of the policy class in a save's ``data`` tells the algorithm apart (PPO and A2C
# share ActorCriticPolicy; only PPO saves ``clip_range``).
_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "DQN",
    "sb3_contrib.common.recurrent.policies": "RecurrentPPO",
    "sb3_contrib.common.maskable.policies": "MaskablePPO",
}


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


@dataclass(frozen=True)
class TrainedWindow:
    """One FreqAI walk-forward model found on disk."""

    identifier: str
    pair: str
    trained_timestamp: int
    model_path: Path
    folder: Path


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ModelFileError(path, f"cannot be read as JSON ({e})") from e


def _identifier_pairs(id_folder: Path) -> list[str]:
    """:return: the pairs FreqAI recorded for an identifier (run_params / pair_dictionary)"""
    pairs: list[str] = []
    params = read_json(id_folder / "run_params.json") or {}
    pairs += [p for p in params.get("pairs") or [] if p not in pairs]
    drawer = read_json(id_folder / "pair_dictionary.json") or {}
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
                filename = (read_json(metadata) or {}).get("model_filename") or filename
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


def check_freqai_files(model_path: Path) -> tuple[str, int, str]:
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
            metadata = read_json(path)
            if not isinstance(metadata, dict) or "training_features_list" not in metadata:
                raise ModelFileError(path, "not FreqAI metadata (no training_features_list)")
        else:
            try:
                with path.open("rb") as fp:
                    cloudpickle.load(fp)
            except Exception as e:
                raise ModelFileError(path, f"cannot be unpickled ({type(e).__name__}: {e})") from e
    return filename, int(match.group(2)), match.group(1)


def trained_features(model_path: Path) -> list[str]:
    """
    :param model_path: a FreqAI model file (``<name>_model.zip``)
    :return: the features the model was trained on, in order (``training_features_list`` of
        its ``<name>_metadata.json``, which FreqAI loads with it)
    :raises ModelFileError: the metadata is missing, unreadable or has no feature list
    """
    name = model_path.name.removesuffix(MODEL_SUFFIX)
    path = model_path.parent / f"{name}_metadata.json"
    metadata = read_json(path)
    if metadata is None:
        raise ModelFileError(path, "missing; FreqAI loads the model's feature list from it")
    features = metadata.get("training_features_list") if isinstance(metadata, dict) else None
    if not isinstance(features, list) or not features:
        raise ModelFileError(path, "not FreqAI metadata (no training_features_list)")
    return [str(f) for f in features]


def file_status(model_path: Path | str, algorithm: str | None = None) -> str:
    """
    :param model_path: a model file
    :param algorithm: the algorithm it should have been saved by
    :return: ``ok``, ``MISSING`` or ``CORRUPT`` (by :func:`verify_model_file`)
    """
    try:
        verify_model_file(Path(model_path), algorithm)
    except ModelFileError as e:
        return "MISSING" if e.missing else "CORRUPT"
    return "ok"
