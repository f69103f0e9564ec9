"""The shipped markets snapshots and the raw exchange responses they were built from."""

from __future__ import annotations

import json

from tests.helpers.freqtrade import REPO


SHIPPED = REPO / "user_data" / "markets"
"""The shipped snapshots, ``<exchange>.json``."""
SOURCES = SHIPPED / "sources"
"""The raw API responses they were built from, ``<exchange>.raw.json``."""


def raw_responses(exchange: str) -> dict:
    """:return: the saved raw API responses of ``exchange`` (ccxt method name -> body)"""
    raw = json.loads((SOURCES / f"{exchange}.raw.json").read_text())
    raw.pop("_source")
    return raw
