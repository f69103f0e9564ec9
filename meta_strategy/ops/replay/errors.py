"""The errors of ``bitbot replay``: both end the command with exit code 2 and one clear line."""

from __future__ import annotations

from meta_strategy.data.files import DataError


class ReplayError(ValueError):
    """The replay cannot start: bad options, config or recording."""


class ReplayDataError(DataError):
    """The recording lacks what the replay needs."""
