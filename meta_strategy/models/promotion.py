"""
Promotion: the one model the dry-run / live bot trades with, by the rule in
:data:`PROMOTION_RULE`.

How FreqAI picks a promoted model up: in dry-run / live, ``IFreqaiModel`` reads
``<user_data>/models/<freqai.identifier>/pair_dictionary.json`` (``FreqaiDataDrawer.
load_drawer_from_disk``) and, per pair, loads ``<model_filename>_model.zip``, its metadata and
pipelines from ``data_path`` (``FreqaiDataDrawer.load_data`` with ``dk.live``). So
:func:`promote` copies the window's folder to ``<models_root>/promoted-<id>/``, writes a
``pair_dictionary.json`` that maps each pair to the window's ``model_filename``,
``trained_timestamp`` and ``data_path``, and writes the config overlay
``user_data/config.promoted.json`` (:func:`promoted_overlay`) that points FreqAI at it.

Ageing: FreqAI retrains live when the hours since ``trained_timestamp`` exceed
``live_retrain_hours`` (``check_if_new_training_required``; 24 in config.freqai.json) and, once
they exceed ``expiration_hours`` (48), returns empty predictions (``check_if_model_expired``). A
walk-forward model is older than both, so the shipped values would expire it at once and
replace it by a fresh training within minutes. The overlay therefore pins it:
``live_retrain_hours`` :data:`PIN_RETRAIN_HOURS` (ten years) and ``expiration_hours`` 0 (never).
The bot trades this model until another one is promoted or the overlay is dropped (then FreqAI
trains its own models again).
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from meta_strategy.models.registry import (
    ModelRecord,
    ModelRegistry,
    ModelRegistryError,
    metric,
    utc_now,
)
from meta_strategy.models.store import check_freqai_files, read_json, verify_model_file
from meta_strategy.paths import LIVE_CONFIG, MODELS_ROOT, PROMOTED_CONFIG


logger = logging.getLogger(__name__)

PROMOTED_PREFIX = "promoted-"
PIN_RETRAIN_HOURS = 87_600
"""``freqai.live_retrain_hours`` of a promotion (ten years): FreqAI does not retrain it away."""

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


class PromotionRefusedError(ModelRegistryError):
    """The promotion rule refuses the model (its run did not beat buy-and-hold)."""


def best_model(registry: ModelRegistry, report: str | None = None) -> ModelRecord:
    """
    The model ``promote --best`` takes: of the configuration (identifier) whose walk-forward run
    has the highest out-of-sample Sharpe (``run_metrics["sharpe"]``), the most recently trained
    model (latest ``train_end``). Ties go to the later-trained, then higher id.

    :param registry: the model registry
    :param report: only the models of this report (Sharpe ratios of different periods do not
        compare); None: every model
    :return: that model (not yet checked against buy-and-hold: :func:`check_rule` does that)
    :raises ModelRegistryError: no model has a run Sharpe
    """
    latest: dict[str, ModelRecord] = {}
    for rec in registry.list():
        if report is not None and rec.report != report:
            continue
        current = latest.get(rec.identifier)
        if current is None or (rec.train_end, rec.id or 0) > (current.train_end, current.id or 0):
            latest[rec.identifier] = rec
    ranked = [
        (sharpe, rec.train_end, rec.id or 0, rec)
        for rec in latest.values()
        if (sharpe := metric(rec.run_metrics, "sharpe")) is not None
    ]
    if not ranked:
        raise ModelRegistryError(
            f"No model in the registry {registry.path}"
            + (f" from report {report!r}" if report else "")
            + " has a run Sharpe (run_metrics['sharpe']); record models with `bitbot report` "
            "first."
        )
    return max(ranked, key=lambda t: t[:3])[3]


def check_rule(record: ModelRecord) -> None:
    """
    :param record: a model
    :raises PromotionRefusedError: its run did not beat buy-and-hold's Sharpe, or a figure is
        missing
    """
    sharpe = metric(record.run_metrics, "sharpe")
    hold = metric(record.run_metrics, "buy_and_hold_sharpe")
    if sharpe is None or hold is None:
        missing = [k for k, v in (("sharpe", sharpe), ("buy_and_hold_sharpe", hold)) if v is None]
        raise PromotionRefusedError(
            f"Model {record.id} ({record.identifier}): its run metrics lack "
            f"{', '.join(missing)}, so the promotion rule cannot be applied. Use --force to "
            "promote it anyway."
        )
    if sharpe <= hold:
        raise PromotionRefusedError(
            f"Model {record.id} ({record.identifier}): its walk-forward run's out-of-sample "
            f"Sharpe {sharpe:.2f} does not beat buy-and-hold's {hold:.2f} over the same period. "
            "Use --force to promote it anyway."
        )


def promote(
    registry: ModelRegistry,
    model_id: int,
    *,
    models_root: Path = MODELS_ROOT,
    config_out: Path = PROMOTED_CONFIG,
    force: bool = False,
    pairs: Sequence[str] | None = None,
) -> Path:
    """
    Make the dry-run / live bot trade with one model (see the module docstring for how FreqAI
    finds it): checks it by :data:`PROMOTION_RULE`, copies its window to
    ``<models_root>/promoted-<id>/`` with a ``pair_dictionary.json``, writes the overlay and
    marks it as the one promoted model.

    :param registry: the model registry
    :param model_id: the model
    :param models_root: FreqAI's models folder of the bot (``<user_data>/models``)
    :param config_out: the overlay to write
    :param force: promote even when the run did not beat buy-and-hold
    :param pairs: the pairs the bot trades with this model (keys of pair_dictionary.json);
        default: the model's own pair. Each must have the model's base currency.
    :return: ``config_out``
    :raises ModelRegistryError: unknown id; :class:`PromotionRefusedError` by the rule
    :raises ModelFileError: the model file or a file FreqAI loads with it is missing or corrupt
    :raises ValueError: a pair of another base currency
    """
    record = registry.get(model_id)
    if not force:
        check_rule(record)
    model_path = Path(record.model_path)
    verify_model_file(model_path, record.algorithm)
    filename, trained_timestamp, coin = check_freqai_files(model_path)
    pairs = list(pairs) if pairs else [record.pair]
    foreign = [p for p in pairs if p.split("/")[0] != coin]
    if foreign:
        raise ValueError(
            f"Model {model_id} was trained on {coin} ({record.pair}); it cannot trade "
            f"{', '.join(foreign)}"
        )
    identifier = f"{PROMOTED_PREFIX}{record.id}"
    dest = Path(models_root) / identifier
    copy_window(model_path, dest, filename, trained_timestamp, pairs)
    run_params = read_json(model_path.parent.parent / "run_params.json") or {}
    overlay = promoted_overlay(record, run_params, identifier, dest / model_path.parent.name, pairs)
    config_out = Path(config_out)
    config_out.parent.mkdir(parents=True, exist_ok=True)
    partial = config_out.with_name(config_out.name + ".tmp")
    partial.write_text(json.dumps(overlay, indent=2) + "\n")
    partial.replace(config_out)
    registry.set_promoted(int(record.id or 0))
    logger.info("Promoted model %s: %s, overlay %s", record.id, dest, config_out)
    return config_out


def copy_window(
    model_path: Path, dest: Path, filename: str, trained_timestamp: int, pairs: list[str]
) -> Path:
    """
    Copy a window's folder to ``dest`` (through a staging folder, so a failed copy leaves the
    previous promotion intact) with the ``pair_dictionary.json`` FreqAI loads it by.

    :param model_path: the window's model zip
    :param dest: the promoted identifier's folder
    :param filename: the model's file name stem (``cb_<coin>_<ts>``)
    :param trained_timestamp: the window's trained timestamp
    :param pairs: the pairs keyed to it
    :return: ``dest``
    """
    staging = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copytree(model_path.parent, staging / model_path.parent.name)
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
    return dest


def promoted_overlay(
    record: ModelRecord,
    run_params: dict[str, Any],
    identifier: str,
    window: Path,
    pairs: list[str],
) -> dict[str, Any]:
    """
    The config overlay of a promotion: the ``freqai`` section FreqAI recorded for the model's
    run (``run_params.json``: features, exposure levels, ...) with ``identifier``, the model's
    ``rl_config.model_type`` / ``seed`` / ``policy_type`` and the pinned ageing, and a
    ``bitbot`` block naming the model.

    :param record: the model
    :param run_params: FreqAI's ``run_params.json`` of the model's run (may be empty)
    :param identifier: the promoted identifier (``promoted-<id>``)
    :param window: the promoted copy of the window's folder
    :param pairs: the pairs keyed to the model
    :return: the overlay
    """
    freqai = copy.deepcopy(run_params.get("freqai") or {})
    if not freqai:
        logger.warning(
            "No run_params.json beside %s: the overlay sets only the model's identifier and "
            "algorithm; the rest of freqai comes from your configs and must match training.",
            Path(record.model_path).parent,
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
            "policy_type": "MlpLstmPolicy" if record.algorithm == "RecurrentPPO" else "MlpPolicy",
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
    return {
        "freqai": freqai,
        "bitbot": {
            "model_id": record.id,
            "model_path": str(window / Path(record.model_path).name),
            "source_model_path": str(record.model_path),
            "source_identifier": record.identifier,
            "config_hash": record.config_hash,
            "trained_until": record.train_end,
            "pairs": pairs,
            "promoted_at": utc_now(),
        },
    }


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
