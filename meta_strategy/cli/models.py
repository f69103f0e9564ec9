"""``bitbot models list / promote``: the trained meta-models and the one the bot trades with."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meta_strategy.models.promotion import PROMOTION_RULE
from meta_strategy.paths import LIVE_CONFIG, MODEL_REGISTRY, MODELS_ROOT, PROMOTED_CONFIG


if TYPE_CHECKING:
    from meta_strategy.models.promotion import PromotionRule
    from meta_strategy.models.registry import ModelRegistry


def add_parsers(sub: Any) -> None:
    """:param sub: the ``bitbot`` subparsers"""
    p_models = sub.add_parser("models", help="The trained meta-models: list, promote one")
    p_models.set_defaults(handler=run_models)
    modsub = p_models.add_subparsers(dest="models_command", required=True)
    p_list = modsub.add_parser(
        "list",
        help="Every recorded model, its figures, file status and whether the promotion rule "
        "admits its configuration",
        description=PROMOTION_RULE,
    )
    p_list.add_argument("--identifier", help="only the models of this FreqAI identifier")
    p_promote = modsub.add_parser(
        "promote",
        help="Select the model the dry-run / live bot trades with",
        description=PROMOTION_RULE,
    )
    which = p_promote.add_mutually_exclusive_group(required=True)
    which.add_argument("model_id", nargs="?", type=int, help="the model's id (`models list`)")
    which.add_argument("--best", action="store_true", help="the best model by the rule above")
    p_promote.add_argument(
        "--report",
        default="validation",
        help="with --best: among the models of this report (default: validation)",
    )
    p_promote.add_argument(
        "--force",
        action="store_true",
        help="promote even when the rule refuses (it names each condition it overrides)",
    )
    p_promote.add_argument(
        "--pairs",
        nargs="+",
        help="pairs the bot trades with the model (default: its own pair and the pairs of "
        f"{LIVE_CONFIG} with the same base currency)",
    )
    p_promote.add_argument(
        "--models-dir", default=str(MODELS_ROOT), help="FreqAI's models folder of the bot"
    )
    p_promote.add_argument("--output", default=str(PROMOTED_CONFIG), help="the config overlay")
    for p in (p_list, p_promote):
        p.add_argument("--registry", default=str(MODEL_REGISTRY), help="the registry file")
        p.add_argument(
            "--min-deflated-sharpe", type=float, default=0.5, help="rule threshold (0.5)"
        )
        p.add_argument(
            "--min-sharpe-ci-low",
            type=float,
            default=0.0,
            help="the Sharpe's 95%% interval must start above this (0)",
        )
        p.add_argument(
            "--min-paired-ci-low",
            type=float,
            default=0.0,
            help="every paired 95%% interval (its Sharpe minus a baseline's, same days) must "
            "start above this (0)",
        )


def _fmt_number(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else "-"


def run_models(ns: argparse.Namespace) -> int:
    """``bitbot models list`` / ``bitbot models promote``"""
    from meta_strategy.models.registry import ModelRegistry, ModelRegistryError
    from meta_strategy.models.store import ModelFileError

    try:
        registry = ModelRegistry(Path(ns.registry))
        if ns.models_command == "list":
            return list_models(registry, ns.identifier, _rule(ns))
        return promote_model(registry, ns)
    except (ModelRegistryError, ModelFileError, ValueError) as e:
        print(f"bitbot: models: {e}", file=sys.stderr)
        return 2


def _rule(ns: argparse.Namespace) -> PromotionRule:
    from meta_strategy.models.promotion import PromotionRule

    return PromotionRule(
        min_deflated_sharpe=ns.min_deflated_sharpe,
        min_sharpe_ci_low=ns.min_sharpe_ci_low,
        min_paired_ci_low=ns.min_paired_ci_low,
    )


def list_models(
    registry: ModelRegistry, identifier: str | None, rule: PromotionRule | None = None
) -> int:
    """
    Print the recorded models (``bitbot models list``), the promotion rule, and per
    configuration whether the rule admits it; flag a promoted configuration that a newer
    report's evidence fails.

    :param registry: the model registry
    :param identifier: only the models of this FreqAI identifier
    :param rule: the promotion rule (default thresholds when None)
    :return: exit code
    """
    from meta_strategy.models.promotion import PromotionRule, check_rule, configuration_of
    from meta_strategy.models.store import file_status

    rule = rule or PromotionRule()

    records = registry.list(identifier)
    if not records:
        print(
            f"No model recorded in {registry.path}" + (f" for {identifier}" if identifier else "")
        )
        return 0
    header = (
        f"{'':1} {'id':>4}  {'report':<8} {'identifier':<42} {'algorithm':<12} {'seed':>5}  "
        f"{'trained on':<23} {'out of sample':<23} {'window ret':>10} {'run Sharpe':>10} "
        f"{'B&H Sharpe':>10}  file"
    )
    print(f"Models in {registry.path}:")
    print(header)
    for r in records:
        ret = r.window_metrics.get("return")
        print(
            f"{'*' if r.promoted else '':1} {r.id:>4}  {r.report:<8} {r.identifier:<42} "
            f"{r.algorithm:<12} "
            f"{r.seed:>5}  {r.train_start:>10}..{r.train_end:<11} "
            f"{r.oos_start:>10}..{r.oos_end:<11} "
            f"{_fmt_number(ret * 100 if isinstance(ret, int | float) else None, '+.2f'):>9}% "
            f"{_fmt_number(r.run_metrics.get('sharpe'), '.2f'):>10} "
            f"{_fmt_number(r.run_metrics.get('buy_and_hold_sharpe'), '.2f'):>10}  "
            f"{file_status(r.model_path, r.algorithm)}"
        )
    print("* promoted (trades in dry-run / live with the overlay of `bitbot models promote`)")
    print()
    print(rule.describe())
    verdicts: dict[tuple[str, str], list[str]] = {}
    for r in records:
        verdicts.setdefault((r.report, configuration_of(r)), check_rule(r, rule))
    for (report, configuration), failed in verdicts.items():
        print(
            f"  {report} / {configuration}: "
            + ("promotable" if not failed else "NOT promotable: " + "; ".join(failed))
        )
    promoted = next((r for r in records if r.promoted), None)
    if promoted is not None:
        newer = [
            r
            for r in records
            if r.algorithm == promoted.algorithm
            and r.report != promoted.report
            and r.created_at > promoted.created_at
            and check_rule(r, rule)
        ]
        if newer:
            failed = "; ".join(check_rule(newer[-1], rule))
            print(
                f"WARNING: the promoted model {promoted.id} ({promoted.algorithm}) fails the rule "
                f"in the newer report {newer[-1].report!r}: {failed}"
            )
    return 0


def promote_model(registry: ModelRegistry, ns: argparse.Namespace) -> int:
    """
    Promote the model the options name (``bitbot models promote``) and say how to run it.

    :param registry: the model registry
    :param ns: the parsed options
    :return: exit code
    """
    from meta_strategy.models.promotion import best_model, check_rule, default_pairs, promote

    record = best_model(registry, ns.report) if ns.best else registry.get(ns.model_id)
    rule = _rule(ns)
    if ns.best:
        print(
            f"Best configuration by mean-over-seeds Sharpe: model {record.id} of "
            f"{record.identifier} (mean Sharpe "
            f"{_fmt_number(record.run_metrics.get('config_sharpe_mean'), '.2f')}, latest window "
            "of its first seed)"
        )
    overridden = check_rule(record, rule)
    pairs = ns.pairs or default_pairs(record)
    out = promote(
        registry,
        record.id,
        models_root=Path(ns.models_dir),
        config_out=Path(ns.output),
        force=ns.force,
        pairs=pairs,
        rule=rule,
    )
    promoted = json.loads(out.read_text())
    sharpe = _fmt_number(record.run_metrics.get("sharpe"), ".2f")
    hold = _fmt_number(record.run_metrics.get("buy_and_hold_sharpe"), ".2f")
    trained = datetime.fromisoformat(record.train_end[:10]).replace(tzinfo=UTC)
    age = (datetime.now(tz=UTC) - trained).days
    print(
        f"Promoted model {record.id}: {record.identifier}, {record.algorithm} seed {record.seed}, "
        f"trained {record.train_start}..{record.train_end}, out of sample "
        f"{record.oos_start}..{record.oos_end}; run Sharpe {sharpe} vs buy-and-hold {hold}"
    )
    if overridden:
        print("  FORCED: --force overrode the promotion rule: " + "; ".join(overridden))
    print(f"  model: {promoted['bitbot']['model_path']}")
    print(
        f"  FreqAI identifier {promoted['freqai']['identifier']} "
        f"(pair_dictionary.json for {', '.join(pairs)})"
    )
    print(f"  config overlay: {out}")
    freqai = promoted["freqai"]
    print(
        f"FreqAI retrains it on the walk-forward's schedule (live_retrain_hours "
        f"{freqai['live_retrain_hours']}, model-age check at {freqai['expiration_hours']} h); "
        f"its training data ends {record.train_end} ({age} days ago)"
        + (", so it is retrained at start-up" if age * 24 > freqai["live_retrain_hours"] else "")
        + ". Run it with:\n"
        f"  bitbot trade --dry-run -c user_data/config.json -c user_data/config.freqai.json "
        f"-c {out} --strategy MetaStrategy"
    )
    return 0
