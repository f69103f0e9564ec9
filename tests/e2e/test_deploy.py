"""
The start-up guard of the REST API and Telegram (:mod:`meta_strategy.ops.security`) on the real
command: ``bitbot trade`` with the shipped config and no credentials stops before Freqtrade starts.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from meta_strategy.ops.security import ALLOW_PUBLIC_API_ENV
from tests.helpers.freqtrade import REPO, run_bitbot


pytestmark = pytest.mark.slow

CONFIG = "user_data/config.json"
KRAKEN_SNAPSHOT = {"BITBOT_MARKETS_SNAPSHOT": str(REPO / "user_data/markets/krakenfutures.json")}


def test_bitbot_trade_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    """The real command stops before Freqtrade starts; the timeout would kill a started bot."""
    argv = [
        "trade",
        "--dry-run",
        "-c",
        CONFIG,
        "--strategy",
        "SupertrendStrategy",
        "--db-url",
        f"sqlite:///{tmp_path / 'trades.sqlite'}",
    ]
    leaked = tuple(n for n in os.environ if n.startswith("FREQTRADE__"))
    result = run_bitbot(
        *argv, env=KRAKEN_SNAPSHOT, unset=(*leaked, ALLOW_PUBLIC_API_ENV), timeout=60
    )
    assert result.returncode == 2, result.stdout[-3000:]
    assert "bitbot: insecure configuration" in result.stdout
    assert "set FREQTRADE__API_SERVER__PASSWORD" in result.stdout, result.stdout[-3000:]
    assert "Starting HTTP Server" not in result.stdout
    assert "Changing state" not in result.stdout
    assert not (tmp_path / "trades.sqlite").exists(), shlex.join(argv)
