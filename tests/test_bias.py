"""
Freqtrade's own look-ahead and recursive analysis find no bias in the POC strategies.

This runs ``bitbot bias-check`` (``make bias-check``) exactly as a user would, on the last
four months of the real Binance BTC perpetual data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meta_strategy.bias import RECURSIVE_TOLERANCE, BiasResult
from tests.conftest import run_bitbot


POC = ("VolatilitySystem", "SupertrendStrategy", "OTTStrategy", "BbandRsi")


@pytest.mark.slow
def test_bias_check_passes_for_every_strategy(binance_datadir: Path) -> None:
    result = run_bitbot("bias-check", env={"BITBOT_DATA": str(binance_datadir)}, timeout=1500)
    verdicts = [
        line for line in result.stdout.splitlines() if "=> PASS" in line or "=> FAIL" in line
    ]
    assert result.returncode == 0, "\n".join(verdicts) or result.stdout[-5000:]
    assert "Lookahead Analysis" in result.stdout
    for name in POC:
        line = next(v for v in verdicts if v.startswith(name))
        assert "look-ahead bias: no" in line and line.endswith("PASS"), line


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
