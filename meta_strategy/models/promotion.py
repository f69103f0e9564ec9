"""
Promotion: the one configuration (and its latest window's model) the dry-run / live bot trades
with, by the rule of :class:`PromotionRule`.

The rule judges a *configuration* (every seed of one meta-learner setting) over one report's
period, from the evidence the report records with each model (``run_metrics``):

* its mean-over-seeds Sharpe is above the best rule strategy's, the best vote's and flat's;
* the 95 % bootstrap interval of its Sharpe (of the seeds' average daily returns) lies above 0;
* on the same days, its Sharpe minus the best rule strategy's, the best vote's and the best
  volatility-targeted baseline's has a 95 % paired interval above 0
  (:mod:`~meta_strategy.research.report.paired`): beating its parts is decided, not a gap
  within the noise two runs on one market share;
* its deflated Sharpe ratio (Bailey & Lopez de Prado, 2014), with as many trials as
  configurations were ever recorded for that period, is at least 0.5.

Each condition refuses on its own; ``--force`` promotes anyway and names what it overrides.

How FreqAI picks a promoted model up: in dry-run / live, ``IFreqaiModel`` reads
``<user_data>/models/<freqai.identifier>/pair_dictionary.json`` (``FreqaiDataDrawer.
load_drawer_from_disk``) and, per pair, loads ``<model_filename>_model.zip``, its metadata and
pipelines from ``data_path`` (``FreqaiDataDrawer.load_data`` with ``dk.live``). So
:func:`promote` copies the window's folder to ``<models_root>/promoted-<id>/``, writes a
``pair_dictionary.json`` that maps each pair to the window's ``model_filename``,
``trained_timestamp`` and ``data_path``, and writes the config overlay
``user_data/config.promoted.json`` (:func:`promoted_overlay`) that points FreqAI at it.

Ageing: every figure that earned the promotion came from models retrained each walk-forward
window, so the promoted bot retrains on the same schedule: ``live_retrain_hours`` is the run's
window (``backtest_period_days`` x 24, FreqAI's ``check_if_new_training_required``) and the
model-age check stays on (``expiration_hours`` two days later, ``check_if_model_expired``). A
window model older than that is retrained at start-up with the promoted configuration.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from meta_strategy.paths import LIVE_CONFIG, MODELS_ROOT, PROMOTED_CONFIG, STRATEGY_REGISTRY


logger = logging.getLogger(__name__)

PROMOTED_PREFIX = "promoted-"
EXPIRY_MARGIN_HOURS = 48
"""``expiration_hours`` of a promotion = its retraining period + this margin."""


class PromotionRefusedError(ModelRegistryError):
    """The promotion rule refuses the configuration (each failed condition is named)."""


@dataclass(frozen=True)
class PromotionRule:
    """
    When a configuration may be promoted; the thresholds are options of ``bitbot models``.

    :param min_deflated_sharpe: lowest deflated Sharpe ratio
    :param min_sharpe_ci_low: the lower end of the Sharpe's 95 % interval must exceed this
    :param min_paired_ci_low: the lower end of every paired interval (its Sharpe minus a
        baseline's, on the same days) must exceed this
    """

    min_deflated_sharpe: float = 0.5
    min_sharpe_ci_low: float = 0.0
    min_paired_ci_low: float = 0.0

    BEAT = (
        ("best_rule_sharpe", "the best rule strategy"),
        ("best_vote_sharpe", "the best vote"),
        ("best_vol_targeted_sharpe", "the best volatility-targeted baseline"),
        ("flat_sharpe", "flat"),
    )
    PAIRED = ("best_rule", "best_vote", "best_vol_targeted")
    """The baselines of the paired condition (flat's is the Sharpe interval above)."""

    def describe(self) -> str:
        """:return: the rule in words"""
        return (
            "Promotion rule: a configuration (every seed of one meta-learner setting, over one "
            "report's period) is promotable only if its mean-over-seeds Sharpe is above the best "
            "rule strategy's, the best vote's, the best volatility-targeted baseline's and "
            "flat's; as deployed (its first seed traded with the risk controls on, when the "
            "report ran it) its Sharpe is above the best "
            "rule strategy's too; the 95 % interval of its Sharpe lies "
            f"above {self.min_sharpe_ci_low:g}; on the same days, the 95 % paired interval of "
            "its Sharpe minus the best rule strategy's, the best vote's and the best "
            f"volatility-targeted baseline's lies above {self.min_paired_ci_low:g}; and its "
            "deflated Sharpe (trials: every "
            "configuration recorded for that period) is at least "
            f"{self.min_deflated_sharpe:g}. `--force` promotes anyway and names what it "
            "overrides; a missing or corrupt model file always refuses."
        )

    def failures(self, evidence: Mapping[str, Any]) -> list[str]:
        """
        :param evidence: a model's ``run_metrics`` as a report records them
        :return: every condition the configuration fails, in words (empty: promotable)
        """
        mean = metric(evidence, "config_sharpe_mean")
        if mean is None:
            return ["no mean-over-seeds Sharpe was recorded (record it with `bitbot report`)"]
        out = []
        seeds = evidence.get("config_seeds")
        for key, what in self.BEAT:
            other = metric(evidence, key)
            if other is None:
                out.append(f"no Sharpe of {what} was recorded")
            elif mean <= other:
                out.append(
                    f"mean Sharpe over {seeds} seeds {mean:.2f} is not above {what}'s {other:.2f}"
                )
        low = metric(evidence, "config_sharpe_ci_low")
        if low is None or low <= self.min_sharpe_ci_low:
            shown = "missing" if low is None else f"{low:.2f}"
            out.append(
                f"the Sharpe's 95 % interval starts at {shown}, "
                f"not above {self.min_sharpe_ci_low:g}"
            )
        out.extend(self._paired_failures(evidence))
        deployed, best_rule = (
            metric(evidence, "deployed_sharpe"),
            metric(evidence, "best_rule_sharpe"),
        )
        if deployed is not None and best_rule is not None and deployed <= best_rule:
            out.append(
                f"as deployed (risk controls on) its Sharpe {deployed:.2f} (mean over "
                f"{evidence.get('deployed_seeds', 1)} seeds) is not above the best rule "
                f"strategy's {best_rule:.2f}"
            )
        dsr = metric(evidence, "config_deflated_sharpe")
        if dsr is None or dsr < self.min_deflated_sharpe:
            shown = "missing" if dsr is None else f"{dsr:.2f}"
            out.append(
                f"deflated Sharpe {shown} (over {evidence.get('trials', '?')} configurations) is "
                f"below {self.min_deflated_sharpe:g}"
            )
        return out

    def _paired_failures(self, evidence: Mapping[str, Any]) -> list[str]:
        """:return: the baselines the configuration is not decidedly above, in words"""
        paired = evidence.get("config_paired")
        rows = [
            row
            for row in (paired if isinstance(paired, list) else [])
            if isinstance(row, dict) and row.get("baseline") in self.PAIRED
        ]
        if not rows:
            return [
                "no paired comparison with the best rule strategy, vote or volatility-targeted "
                "baseline was recorded (reports record it since 2026-12-02; `bitbot paired "
                "<report>` shows it for an older one)"
            ]
        out = []
        for row in rows:
            low, high = metric(row, "ci_low"), metric(row, "ci_high")
            if low is None or high is None:
                out.append(f"the paired comparison with {row.get('label', '?')} has no interval")
            elif low <= self.min_paired_ci_low:
                out.append(
                    f"its Sharpe minus {row.get('label', '?')}'s on the same days is "
                    f"{metric(row, 'difference') or 0.0:+.2f}, 95 % paired interval "
                    f"[{low:+.2f}, {high:+.2f}], not above {self.min_paired_ci_low:g}"
                )
        return out


PROMOTION_RULE = PromotionRule().describe()


def configuration_of(record: ModelRecord) -> str:
    """:return: the configuration a model belongs to (its seeds share it)"""
    return str(record.run_metrics.get("configuration") or record.identifier)


def best_model(registry: ModelRegistry, report: str | None = None) -> ModelRecord:
    """
    The model ``promote --best`` takes: of the configuration with the highest mean-over-seeds
    Sharpe (``run_metrics["config_sharpe_mean"]``), the latest window's model of its first seed
    (the seed the report's as-deployed run traded; never the best seed, which would be a
    best-of-N pick). Ties go to the later-trained, then higher id.

    :param registry: the model registry
    :param report: only the models of this report (Sharpe ratios of different periods do not
        compare); None: every model
    :return: that model (not yet checked by the rule: :func:`check_rule` does that)
    :raises ModelRegistryError: no model has a mean-over-seeds Sharpe
    """
    by_configuration: dict[str, list[ModelRecord]] = {}
    for rec in registry.list():
        if report is not None and rec.report != report:
            continue
        if metric(rec.run_metrics, "config_sharpe_mean") is not None:
            by_configuration.setdefault(configuration_of(rec), []).append(rec)
    latest = []
    for records in by_configuration.values():
        first_seed = min(r.seed for r in records)
        mine = [r for r in records if r.seed == first_seed]
        latest.append(max(mine, key=lambda r: (r.train_end, r.id or 0)))
    if not latest:
        raise ModelRegistryError(
            f"No model in the registry {registry.path}"
            + (f" from report {report!r}" if report else "")
            + " has a mean-over-seeds Sharpe (run_metrics['config_sharpe_mean']); record "
            "models with `bitbot report` first."
        )
    return max(
        latest,
        key=lambda r: (metric(r.run_metrics, "config_sharpe_mean"), r.train_end, r.id or 0),
    )


def check_rule(record: ModelRecord, rule: PromotionRule | None = None) -> list[str]:
    """
    :param record: a model
    :param rule: the rule (default thresholds when None)
    :return: the failed conditions (empty: promotable)
    """
    return (rule or PromotionRule()).failures(record.run_metrics)


def promote(
    registry: ModelRegistry,
    model_id: int,
    *,
    models_root: Path = MODELS_ROOT,
    config_out: Path = PROMOTED_CONFIG,
    force: bool = False,
    pairs: Sequence[str] | None = None,
    rule: PromotionRule | None = None,
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
    :param force: promote even when the rule refuses (what it overrides is logged)
    :param pairs: the pairs the bot trades with this model (keys of pair_dictionary.json);
        default: the model's own pair. Each must have the model's base currency.
    :param rule: the promotion rule (default thresholds when None)
    :return: ``config_out``
    :raises ModelRegistryError: unknown id; :class:`PromotionRefusedError` by the rule
    :raises ModelFileError: the model file or a file FreqAI loads with it is missing or corrupt
    :raises ValueError: a pair of another base currency
    """
    record = registry.get(model_id)
    failed = check_rule(record, rule)
    if failed and not force:
        raise PromotionRefusedError(
            f"Model {record.id} ({record.identifier}) is not promotable: "
            + "; ".join(failed)
            + ". Use --force to promote it anyway."
        )
    if failed:
        logger.warning(
            "--force overrides the promotion rule for model %s: %s", record.id, "; ".join(failed)
        )
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
    registry: Path = STRATEGY_REGISTRY,
) -> dict[str, Any]:
    """
    The config overlay of a promotion: the ``freqai`` section FreqAI recorded for the model's
    run (``run_params.json``: features, exposure levels, windows, ...) with ``identifier``, the
    model's ``rl_config.model_type`` / ``seed`` / ``policy_type`` and the run's retraining
    schedule (:func:`retrain_hours`, model-age check on), and a
    ``bitbot`` block naming the model.

    :param record: the model
    :param run_params: FreqAI's ``run_params.json`` of the model's run (may be empty)
    :param identifier: the promoted identifier (``promoted-<id>``)
    :param window: the promoted copy of the window's folder
    :param pairs: the pairs keyed to the model
    :param registry: the strategy registry the bot runs with (its digest is checked at start-up,
        with the promoted model's, :func:`check_promoted_inputs`)
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
    retrain = retrain_hours(freqai)
    freqai.update(
        {
            "enabled": True,
            "identifier": identifier,
            "live_retrain_hours": retrain,
            "expiration_hours": retrain + EXPIRY_MARGIN_HOURS,
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
            "promoted_inputs": promoted_inputs(
                window / Path(record.model_path).name,
                *([registry] if Path(registry).is_file() else []),
            ),
        },
    }


class PromotedInputError(ModelRegistryError):
    """A file the promoted configuration was evaluated with changed or disappeared."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def promoted_inputs(*paths: Path) -> dict[str, str]:
    """:return: the sha256 of each file, by path (what :func:`check_promoted_inputs` checks)"""
    return {str(path): _sha256(path) for path in paths}


def check_promoted_inputs(bitbot: Mapping[str, Any]) -> None:
    """
    Start-up check of a promoted configuration: the files it was evaluated and promoted with
    (the strategy registry and the promoted model, ``bitbot.promoted_inputs`` of the overlay)
    are still the same.

    :param bitbot: the ``bitbot`` section of the running config
    :raises PromotedInputError: a file changed or is missing (named in the message)
    """
    model = bitbot.get("model_id")
    for path, digest in (bitbot.get("promoted_inputs") or {}).items():
        if not Path(path).is_file():
            raise PromotedInputError(
                f"{path} is missing; promoted model {model} was evaluated and promoted with it. "
                "Restore it, or run `bitbot report` and promote again."
            )
        now = _sha256(Path(path))
        if now != digest:
            raise PromotedInputError(
                f"{path} changed since model {model} was promoted (sha256 {now[:12]}, promoted "
                f"with {digest[:12]}): the promoted configuration was evaluated with the old "
                "file. Restore it, or run `bitbot report` and promote again."
            )


def retrain_hours(freqai: Mapping[str, Any]) -> int:
    """
    :param freqai: the ``freqai`` section the model's run used
    :return: hours between retrainings: the run's walk-forward window (30 days when unknown,
        the shipped window)
    """
    return int(float(freqai.get("backtest_period_days") or 30) * 24)


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
