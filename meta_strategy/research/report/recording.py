"""
Recording the window models of a report's meta-learner runs in the model registry
(:mod:`meta_strategy.models.registry`), each with its own out-of-sample window's figures and
those of its whole walk-forward run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from meta_strategy.models.registry import ModelRecord, ModelRegistry
from meta_strategy.models.store import discover_windows
from meta_strategy.paths import (
    MODEL_REGISTRY,
    MODELS_ROOT,
)
from meta_strategy.research.report.analysis import (
    RunFigures,
)
from meta_strategy.research.report.equity import (
    EquityCurve,
)
from meta_strategy.research.report.plan import ReportSettings


logger = logging.getLogger(__name__)


def record_models(
    figures: list[RunFigures],
    curves: dict[str, EquityCurve],
    settings: ReportSettings,
    report_name: str,
    pair: str,
    registry_path: Path | None = None,
    models_root: Path = MODELS_ROOT,
    evidence: dict[str, dict[str, Any]] | None = None,
) -> int:
    """
    Record every trained window model of the meta-learner runs in the model registry, with its
    own out-of-sample window figures, the figures of its whole walk-forward run and what the
    promotion rule reads of its configuration (``evidence`` by run name,
    :func:`~meta_strategy.research.report.verdict.promotion_evidence`).

    :return: number of models recorded
    """
    registry = ModelRegistry(registry_path or MODEL_REGISTRY)
    hold = next(f for f in figures if f.name == "buy_and_hold")
    count = 0
    for run in figures:
        if run.group != "meta" or not run.identifier:
            continue
        curve = curves[run.name]
        for window in discover_windows(models_root, run.identifier):
            oos_start = pd.Timestamp(window.trained_timestamp, unit="s", tz="UTC")
            oos_end = oos_start + pd.Timedelta(days=settings.backtest_period_days)
            train_days = timedelta(days=settings.train_period_days)
            index = curve.equity.index
            equity = curve.equity[(index >= oos_start) & (index < oos_end)]
            before = curve.equity[curve.equity.index < oos_start]
            base = float(before.iloc[-1]) if len(before) else curve.start_value
            window_return = float(equity.iloc[-1] / base - 1.0) if len(equity) else None
            registry.record(
                ModelRecord(
                    id=None,
                    identifier=run.identifier,
                    algorithm=run.algorithm or "",
                    seed=int(run.seed or 0),
                    config_hash=run.identifier.rsplit("-", 1)[-1],
                    pair=pair,
                    train_start=f"{oos_start - train_days:%Y-%m-%d}",
                    train_end=f"{oos_start:%Y-%m-%d}",
                    oos_start=f"{oos_start:%Y-%m-%d}",
                    oos_end=f"{min(oos_end, index[-1]):%Y-%m-%d}",
                    model_path=str(window.model_path),
                    window_metrics={"return": window_return},
                    run_metrics={
                        **{
                            k: run.metrics.get(k)
                            for k in (
                                "total_return",
                                "sharpe",
                                "sharpe_ci_low",
                                "sharpe_ci_high",
                                "max_drawdown",
                                "deflated_sharpe",
                            )
                        },
                        "buy_and_hold_sharpe": hold.metrics["sharpe"],
                        "period": f"{index[0]:%Y-%m-%d}..{index[-1]:%Y-%m-%d}",
                        **(evidence or {}).get(run.name, {}),
                    },
                    report=report_name,
                    created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                )
            )
            count += 1
    return count


def try_record_models(
    figures: list[RunFigures],
    curves: dict[str, EquityCurve],
    settings: ReportSettings,
    pair: str,
    registry_path: Path | None,
    log: Callable[[str], None],
    evidence: dict[str, dict[str, Any]] | None = None,
) -> int:
    """:return: what :func:`record_models` recorded; 0 (and why) when the registry failed"""
    try:
        return record_models(
            figures, curves, settings, settings.name, pair, registry_path, evidence=evidence
        )
    except Exception as e:  # the report stands without the registry; say why
        log(f"bitbot report: could not record the models in the registry: {e}")
        return 0
