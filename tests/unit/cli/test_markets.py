"""``bitbot markets``: the snapshot command, in this process."""

from __future__ import annotations

import json
from pathlib import Path

import ccxt
import pytest

from meta_strategy.cli.main import main
from meta_strategy.data import markets
from tests.helpers.markets import SHIPPED, raw_responses


def test_snapshot_command_saves_live_markets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`bitbot markets snapshot` online; the exchange's HTTP layer is replaced by its answer."""
    raw = raw_responses("krakenfutures")

    def fake_fetch(self, url, method="GET", headers=None, body=None):
        assert url.endswith("/derivatives/api/v3/instruments"), url
        return raw["publicGetInstruments"]

    monkeypatch.setattr(ccxt.krakenfutures, "fetch", fake_fetch)
    out = tmp_path / "krakenfutures.json"
    code = main(
        [
            "markets",
            "snapshot",
            "--exchange",
            "krakenfutures",
            "--pairs",
            "BTC/USD:USD",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    snap = markets.load_snapshot(out, exchange="krakenfutures")
    assert snap.source == "live krakenfutures API"
    assert snap.leverage_tiers["BTC/USD:USD"][0]["maxLeverage"] == 50.0
    shipped = markets.load_snapshot(SHIPPED / "krakenfutures.json")
    assert json.loads(json.dumps(snap.markets)) == shipped.markets
