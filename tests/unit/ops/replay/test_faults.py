"""The replay's injected faults (meta_strategy.ops.replay.faults): the file and its state."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta_strategy.ops.replay.faults import Faults, FaultState, read_faults, write_faults


def test_a_broken_faults_file_keeps_the_faults_in_force(recording: Path, tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    faults = Faults(path)
    write_faults(path, FaultState(exchange_down=True))
    assert faults.state().exchange_down
    path.write_text('{"exchange_down": "false"}')  # a string, not a boolean
    assert faults.state().exchange_down  # kept, and logged
    with pytest.raises(ValueError, match="true or false"):
        read_faults(path)
