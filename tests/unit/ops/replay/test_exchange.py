"""
The replay's exchange (meta_strategy.ops.replay.exchange): ccxt objects that answer from the
recording and refuse everything else.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import ccxt
import pytest

from meta_strategy.ops.replay.exchange import feed_ccxt
from tests.helpers.recording import T0, recorded_market


def test_ccxt_object_answers_from_the_recording_and_refuses_account_calls(
    recording: Path,
) -> None:
    market = recorded_market(recording, T0 + timedelta(hours=2))
    api = feed_ccxt(ccxt.krakenfutures(), market, sync=True)
    assert api.fetch_l2_order_book("BTC/USD:USD")["asks"]
    assert api.fetch_tickers(["BTC/USD:USD"])["BTC/USD:USD"]["last"] > 0
    with pytest.raises(ccxt.PermissionDenied, match="account call"):
        api.create_order("BTC/USD:USD", "market", "buy", 1)
    with pytest.raises(ccxt.PermissionDenied):
        api.fetch_balance()


def test_no_request_leaves_a_replayed_ccxt_object(recording: Path) -> None:
    api = feed_ccxt(ccxt.krakenfutures(), recorded_market(recording, T0), sync=True)
    with pytest.raises(ccxt.PermissionDenied, match="no request leaves a replay"):
        api.load_markets()  # not a replayed call: it reaches the HTTP primitive, which refuses
