"""
Freqtrade's own look-ahead and recursive analysis find no bias in the registry's strategies.

This runs ``bitbot bias-check`` (``make bias-check``) exactly as a user would, on the last
four months of the real Binance BTC perpetual data, or of the synthetic market when
``../shared/data`` is absent (so a checkout without the data still proves it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meta_strategy.paths import SIGNAL_STRATEGIES
from tests.helpers.freqtrade import run_bitbot


pytestmark = pytest.mark.slow


def test_bias_check_passes_for_every_strategy(market_datadir: Path) -> None:
    result = run_bitbot("bias-check", env={"BITBOT_DATA": str(market_datadir)}, timeout=1500)
    verdicts = [
        line for line in result.stdout.splitlines() if "=> PASS" in line or "=> FAIL" in line
    ]
    assert result.returncode == 0, "\n".join(verdicts) or result.stdout[-5000:]
    assert "Lookahead Analysis" in result.stdout
    for name in SIGNAL_STRATEGIES:
        line = next(v for v in verdicts if v.startswith(name))
        assert "look-ahead bias: no" in line and line.endswith("PASS"), line
