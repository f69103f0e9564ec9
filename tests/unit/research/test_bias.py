"""The verdict of ``bitbot bias-check`` (meta_strategy.research.bias.BiasResult)."""

from __future__ import annotations

from meta_strategy.research.bias import RECURSIVE_TOLERANCE, BiasResult


def test_verdict_rules() -> None:
    clean = BiasResult("S", signals_checked=12, recursive_worst={"atr": 1e-7})
    assert clean.ok
    assert not BiasResult("S", signals_checked=12, lookahead_bias=True).ok
    assert not BiasResult("S", signals_checked=0).ok, "no signals checked proves nothing"
    drifting = BiasResult(
        "S", signals_checked=12, recursive_worst={"atr": 10 * RECURSIVE_TOLERANCE}
    )
    assert not drifting.ok
    assert not BiasResult("S", signals_checked=12, recursive_worst={"x": float("nan")}).ok
