"""
Reading what ``bitbot report`` saved: ``bitbot sweep``, ``bitbot paired`` and ``bitbot confirm``
read a finished report's ``results.json`` the same way, and name the file when it is missing or
is not one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


REPORT_KEYS = ("period_name", "configurations", "runs")
"""What every ``results.json`` of ``bitbot report`` holds."""


class SavedReportError(ValueError):
    """A saved report's file is missing or is not what ``bitbot report`` writes."""


def read_results(path: Path, required: Sequence[str] = REPORT_KEYS) -> dict[str, Any]:
    """
    :param path: a report's ``results.json``
    :param required: the keys the caller reads
    :return: the report's figures
    :raises SavedReportError: the file is missing, is not JSON, or lacks a required key (named)
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SavedReportError(
            f"{path}: not a readable report result ({e}); run `bitbot report` first"
        ) from e
    if not isinstance(data, dict):
        raise SavedReportError(f"{path}: not a results.json of `bitbot report` (not an object)")
    for key in required:
        if key not in data:
            raise SavedReportError(
                f"{path}: no '{key}'; expected a results.json of `bitbot report`"
            )
    return data
