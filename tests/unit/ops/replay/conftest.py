"""Fixtures of the replay tests: a small hand-made recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.recording import write_recording


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Two days of 5m candles, the 1h candles made from them, mark candles and funding."""
    return write_recording(tmp_path / "recording")
