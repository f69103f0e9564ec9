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
    from meta_strategy.models.registry import ModelRegistry


def add_parsers(sub: Any) -> None:
    """:param sub: the ``bitbot`` subparsers"""
    p_models = sub.add_parser("models", help="The trained meta-models: list, promote one")
    p_models.set_defaults(handler=run_models)
    modsub = p_models.add_subparsers(dest="models_command", required=True)
    p_list = modsub.add_parser("list", help="Every recorded model, its figures and file status")
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
        default="full",
        help="with --best: among the models of this report (default: full, `make report`)",
    )
    p_promote.add_argument(
        "--force", action="store_true", help="promote even if the run did not beat buy-and-hold"
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


def _fmt_number(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else "-"


def run_models(ns: argparse.Namespace) -> int:
    """``bitbot models list`` / ``bitbot models promote``"""
    from meta_strategy.models.registry import ModelRegistry, ModelRegistryError
    from meta_strategy.models.store import ModelFileError

    try:
        registry = ModelRegistry(Path(ns.registry))
        if ns.models_command == "list":
            return list_models(registry, ns.identifier)
        return promote_model(registry, ns)
    except (ModelRegistryError, ModelFileError, ValueError) as e:
        print(f"bitbot: models: {e}", file=sys.stderr)
        return 2


def list_models(registry: ModelRegistry, identifier: str | None) -> int:
    """
    Print the recorded models (``bitbot models list``).

    :param registry: the model registry
    :param identifier: only the models of this FreqAI identifier
    :return: exit code
    """
    from meta_strategy.models.store import file_status

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
    return 0


def promote_model(registry: ModelRegistry, ns: argparse.Namespace) -> int:
    """
    Promote the model the options name (``bitbot models promote``) and say how to run it.

    :param registry: the model registry
    :param ns: the parsed options
    :return: exit code
    """
    from meta_strategy.models.promotion import (
        PIN_RETRAIN_HOURS,
        best_model,
        default_pairs,
        promote,
    )

    record = best_model(registry, ns.report) if ns.best else registry.get(ns.model_id)
    if ns.best:
        print(
            f"Best by the promotion rule: model {record.id} of {record.identifier} "
            f"(run Sharpe {_fmt_number(record.run_metrics.get('sharpe'), '.2f')})"
        )
    pairs = ns.pairs or default_pairs(record)
    out = promote(
        registry,
        record.id,
        models_root=Path(ns.models_dir),
        config_out=Path(ns.output),
        force=ns.force,
        pairs=pairs,
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
        + (" (forced)" if ns.force else "")
    )
    print(f"  model: {promoted['bitbot']['model_path']}")
    print(
        f"  FreqAI identifier {promoted['freqai']['identifier']} "
        f"(pair_dictionary.json for {', '.join(pairs)})"
    )
    print(f"  config overlay: {out}")
    print(
        f"FreqAI will neither retrain nor expire it (live_retrain_hours "
        f"{PIN_RETRAIN_HOURS}, expiration_hours 0 in the overlay); its training data "
        f"ends {record.train_end} ({age} days ago). Run it with:\n"
        f"  bitbot trade --dry-run -c user_data/config.json -c user_data/config.freqai.json "
        f"-c {out} --strategy MetaStrategy"
    )
    return 0
