"""
The fresh period's one look waits for its 180 days: ``bitbot report --period fresh`` and
``bitbot confirm`` on a market that reaches 64 days past 2025-11-16 refuse before any backtest,
and write no report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.freqtrade import run_bitbot


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def short_fresh_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic Kraken market from 2024-09-01 (the start-up and training window of the
    first fresh model) to 2026-01-20."""
    datadir = tmp_path_factory.mktemp("fresh-64-days")
    made = run_bitbot(
        "synth", "--datadir", str(datadir), "--start", "2024-09-01", "--end", "2026-01-21"
    )
    assert made.returncode == 0, made.stdout[-2000:]
    return datadir


@pytest.mark.parametrize("command", [("report", "--period", "fresh"), ("confirm",)])
def test_a_fresh_period_shorter_than_180_days_is_refused(
    short_fresh_market: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    reports = tmp_path / "reports"
    result = run_bitbot(
        *command,
        "--reports-dir",
        str(reports),
        env={"BITBOT_DATA": str(short_fresh_market)},
        timeout=300,
    )
    assert result.returncode == 2, result.stdout[-3000:]
    assert (
        "the fresh period has 64 days of candles (2025-11-17 to 2026-01-20); its one look "
        "waits for at least 180" in result.stdout
    )
    assert not reports.exists(), "nothing ran, nothing was written"
