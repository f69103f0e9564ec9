"""
The replay clock: the bot's wall clock runs in the recording's time, optionally faster.

``virtual(t) = anchor + speed * (t - t0)``, with ``t`` the machine's monotonic clock and ``t0``
the moment the clock started. While the clock runs, every ``time.time()``, ``datetime.now()``
and ``datetime.utcnow()`` of the process (Freqtrade's loop, its database timestamps, logs,
FreqAI's model ages, the REST API) answers the virtual time. The monotonic clocks
(``time.monotonic``, ``time.perf_counter``, which asyncio and timeouts use) are left alone.

The patch itself is time-machine's (C level, so ``from datetime import datetime`` bound before the
start is covered too). time-machine only ticks at real speed: :class:`ReplayClock` hands it a
traveller whose ``time_ns`` scales elapsed time by ``speed``.

The clock's position is saved to a small JSON file every ``save_interval`` real seconds, so a
replay killed with ``kill -9`` resumes where it stopped (never earlier than any timestamp it may
have written: the saved time plus one interval's worth of virtual time).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine


logger = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000


class ClockError(ValueError):
    """A bad speed, start time or clock file."""


@dataclass(frozen=True)
class ClockState:
    """What the clock file holds."""

    virtual_now: datetime
    speed: float
    save_interval: float

    def resume_at(self) -> datetime:
        """:return: where a restarted replay continues (past any time the last run wrote)"""
        return self.virtual_now + timedelta(seconds=self.speed * self.save_interval)


def read_clock_file(path: Path) -> ClockState | None:
    """
    :param path: the clock file
    :return: its state, None when it does not exist
    :raises ClockError: the file is not a clock file
    """
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text())
        return ClockState(
            virtual_now=datetime.fromisoformat(raw["virtual_now"]).astimezone(UTC),
            speed=float(raw["speed"]),
            save_interval=float(raw["save_interval"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ClockError(
            f"{path} is not a replay clock file ({e.__class__.__name__}: {e}); delete it, or "
            f"start the replay over with --fresh."
        ) from e


class _ScaledTraveller(time_machine.Traveller):
    """A time-machine traveller whose time is the replay clock's."""

    clock: ReplayClock

    def time_ns(self) -> int:
        return time_machine.SYSTEM_EPOCH_TIMESTAMP_NS + self.clock.virtual_ns()


class ReplayClock:
    """
    Virtual wall clock of a replay.

    :param start: virtual time at the start (timezone-aware)
    :param speed: virtual seconds per real second (1 = real time)
    :param state_file: where the position is saved (None: not saved)
    :param save_interval: real seconds between saves
    """

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        state_file: Path | None = None,
        save_interval: float = 1.0,
    ) -> None:
        if start.tzinfo is None:
            raise ClockError(f"replay start {start} has no timezone; give it in UTC.")
        if not speed > 0 or speed > 100_000:
            raise ClockError(f"replay speed must be > 0 and at most 100000, got {speed}.")
        self.speed = float(speed)
        self.state_file = state_file
        self.save_interval = save_interval
        self._anchor_ns = int(start.timestamp() * NS_PER_S)
        self._t0 = time.monotonic_ns()
        self._travel: time_machine.travel | None = None
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None

    def virtual_ns(self) -> int:
        """:return: the virtual time, in ns since the Unix epoch"""
        return self._anchor_ns + int((time.monotonic_ns() - self._t0) * self.speed)

    def now(self) -> datetime:
        """:return: the virtual time (works whether or not the clock is installed)"""
        return datetime.fromtimestamp(self.virtual_ns() / NS_PER_S, tz=UTC)

    def now_ms(self) -> int:
        """:return: the virtual time in ms since the Unix epoch"""
        return self.virtual_ns() // 1_000_000

    def real_seconds(self, virtual_seconds: float) -> float:
        """:return: how long ``virtual_seconds`` of replay take in real time"""
        return virtual_seconds / self.speed

    # ------------------------------------------------------------------ install / save

    def install(self) -> None:
        """Make this process's wall clock the virtual one (until :meth:`uninstall`)."""
        if self._travel is not None:
            return
        self._t0 = time.monotonic_ns()  # the replay starts now, at the start time
        self._travel = time_machine.travel(self.now(), tick=True)
        traveller = self._travel.start()
        traveller.__class__ = _ScaledTraveller
        traveller.clock = self  # type: ignore[attr-defined]
        if self.state_file is not None:
            self.save()
            self._saver = threading.Thread(target=self._save_loop, name="replay-clock", daemon=True)
            self._saver.start()
        logger.info("Replay clock: %s, %g x real time.", self.now().isoformat(), self.speed)

    def uninstall(self) -> None:
        """Give the process its real clock back (saves the position once more)."""
        self._stop.set()
        if self._saver is not None:
            self._saver.join(timeout=5)
        if self._travel is not None:
            if self.state_file is not None:
                self.save()
            self._travel.stop()
            self._travel = None

    def save(self) -> None:
        """Write the clock file (atomically)."""
        if self.state_file is None:
            return
        state = {
            "virtual_now": self.now().isoformat(),
            "speed": self.speed,
            "save_interval": self.save_interval,
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_file)

    def _save_loop(self) -> None:
        while not self._stop.wait(self.save_interval):
            try:
                self.save()
            except OSError as e:  # a full disk must not kill the bot; the log says so
                logger.warning("Replay clock: cannot save %s: %s", self.state_file, e)
