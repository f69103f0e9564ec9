"""
Faults injected into a running replay: a JSON file (``faults.json`` in the replay's folder) that
:class:`Faults` rereads when it changes; ``bitbot replay-fault`` writes it. The exchange down
(every call raises ``ccxt.NetworkError``) or the candle feed frozen (no candle newer than the
freeze), to rehearse what the bot does when they happen.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaultState:
    """Faults in force. ``candles_frozen_at``: no candle newer than this is served."""

    exchange_down: bool = False
    candles_frozen_at: datetime | None = None


class Faults:
    """
    Faults injected into a running replay through a JSON file, reread when it changes::

        {"exchange_down": true, "candles_frozen_at": "2025-06-03T10:00:00+00:00"}

    ``bitbot replay-fault`` writes it.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None
        self._state = FaultState()

    def state(self) -> FaultState:
        """:return: the faults in force (no file: none; a broken file: the previous ones)"""
        if self.path is None:
            return self._state
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if self._seen is not None:
                logger.warning("Replay faults cleared (%s removed).", self.path)
            self._seen, self._state = None, FaultState()
            return self._state
        seen = (st.st_mtime_ns, st.st_ino, st.st_size)
        if seen != self._seen:
            self._seen = seen
            try:
                self._state = read_faults(self.path)
                logger.warning("Replay faults now in force: %s", self._state)
            except ValueError as e:
                logger.error("%s; the faults in force stay %s.", e, self._state)
        return self._state


def read_faults(path: Path) -> FaultState:
    """
    :param path: a faults file
    :return: its faults
    :raises ValueError: the file is not a faults file
    """
    try:
        raw = json.loads(path.read_text() or "{}")
        unknown = set(raw) - {"exchange_down", "candles_frozen_at"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        frozen = raw.get("candles_frozen_at")
        down = raw.get("exchange_down", False)
        if not isinstance(down, bool):
            raise ValueError(f"exchange_down must be true or false, got {down!r}")
        return FaultState(
            exchange_down=down,
            candles_frozen_at=(
                datetime.fromisoformat(frozen).astimezone(UTC) if frozen is not None else None
            ),
        )
    except (OSError, ValueError, TypeError, AttributeError) as e:
        raise ValueError(f"{path} is not a replay faults file: {e}") from e


def write_faults(path: Path, state: FaultState) -> None:
    """Write a faults file atomically (an empty state removes it)."""
    if state == FaultState():
        path.unlink(missing_ok=True)
        return
    raw: dict[str, Any] = {"exchange_down": state.exchange_down}
    if state.candles_frozen_at is not None:
        raw["candles_frozen_at"] = state.candles_frozen_at.isoformat()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(raw))
    tmp.replace(path)
