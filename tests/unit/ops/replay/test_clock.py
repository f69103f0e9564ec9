"""The replay's clock (meta_strategy.ops.replay.clock): the process in virtual time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meta_strategy.ops.replay.clock import ClockError, ReplayClock, read_clock_file
from tests.helpers.recording import T0


def test_clock_runs_the_process_in_virtual_time_at_speed(tmp_path: Path) -> None:
    state = tmp_path / "clock.json"
    clock = ReplayClock(T0, speed=3600, state_file=state, save_interval=0.05)
    clock.install()
    try:
        first = datetime.now(UTC)
        wall, mono = time.time(), time.monotonic()
        time.sleep(0.5)
        elapsed_virtual = time.time() - wall
        elapsed_real = time.monotonic() - mono
    finally:
        clock.uninstall()
    assert abs((first - T0).total_seconds()) < 3600  # within a real second of the start
    # 3600 virtual seconds per real second; monotonic time stays real.
    # Both clocks are read back to back; a busy machine may pause this thread between them.
    assert elapsed_virtual == pytest.approx(3600 * elapsed_real, rel=0.2)
    assert 0.5 <= elapsed_real < 2.0
    assert datetime.now(UTC).year >= 2026  # the real clock is back
    saved = read_clock_file(state)
    assert saved is not None and saved.speed == 3600
    assert saved.virtual_now > first
    assert saved.resume_at() == saved.virtual_now + timedelta(seconds=3600 * 0.05)


@pytest.mark.parametrize("speed", [0, -1, 1e9])
def test_clock_rejects_bad_speed(speed: float) -> None:
    with pytest.raises(ClockError, match="speed"):
        ReplayClock(T0, speed=speed)


def test_clock_rejects_naive_start_and_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(ClockError, match="timezone"):
        ReplayClock(datetime(2025, 6, 1))
    bad = tmp_path / "clock.json"
    bad.write_text("{not json")
    with pytest.raises(ClockError, match="not a replay clock file"):
        read_clock_file(bad)
