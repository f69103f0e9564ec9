"""
Telegram: Freqtrade's own Telegram RPC, pointed at the local stub by BITBOT_TELEGRAM_API_URL,
delivers strategy messages (a dry-run decision included, with the delay from the decision's log
line to the stub measured), and a Telegram that is down never reaches the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from freqtrade.data.dataprovider import DataProvider
from freqtrade.enums import RunMode
from freqtrade.rpc import telegram as ft_telegram
from freqtrade.rpc.rpc_manager import RPCManager
from freqtrade.rpc.telegram import Telegram

from meta_strategy.ops.telegram import API_URL_ENV, FILE_URL_ENV, install_telegram_endpoint
from tests.helpers.freqtrade import load_strategy
from tests.helpers.telegram_stub import TelegramStub


TOKEN = "123456:stub-token-stub-token"
PAIR = "BTC/USDT:USDT"
RPC_CONFIG: dict[str, Any] = {
    "dry_run": True,
    "stake_currency": "USDT",
    "telegram": {"enabled": True, "token": TOKEN, "chat_id": "1", "allow_custom_messages": True},
}


def _quick_sleep(delay: float, result: Any = None) -> Any:
    return asyncio.sleep(min(delay, 0.05), result)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """install_telegram_endpoint(), undone after the test."""
    monkeypatch.setattr(Telegram, "_init_telegram_app", Telegram._init_telegram_app)
    assert install_telegram_endpoint(force=True)


@pytest.fixture
def stub() -> Iterator[TelegramStub]:
    server = TelegramStub(max_poll_seconds=0.2).start()
    yield server
    server.stop()


def _start_rpc(monkeypatch: pytest.MonkeyPatch, stub: TelegramStub) -> RPCManager:
    monkeypatch.setenv(API_URL_ENV, stub.url)
    # Freqtrade's Telegram thread checks every 10 s whether polling stopped (and waits 2 s
    # between start attempts); shorten those waits so the thread ends quickly at clean-up.
    quick = SimpleNamespace(**{**vars(asyncio), "sleep": _quick_sleep})
    monkeypatch.setattr(ft_telegram, "asyncio", quick)
    return RPCManager(SimpleNamespace(config=json.loads(json.dumps(RPC_CONFIG))))


def _cleanup(manager: RPCManager) -> None:
    """Freqtrade's clean-up, bounded; then close the event loop it leaves open."""
    loops = [m._loop for m in manager.registered_modules if isinstance(m, Telegram)]
    worker = threading.Thread(target=manager.cleanup, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "Freqtrade's Telegram did not shut down"
    for loop in loops:
        loop.close()


@pytest.fixture
def rpc(
    monkeypatch: pytest.MonkeyPatch, stub: TelegramStub, endpoint: None
) -> Iterator[RPCManager]:
    """Freqtrade's RPC manager with its real Telegram module, talking to the stub."""
    manager = _start_rpc(monkeypatch, stub)
    try:
        deadline = time.monotonic() + 15
        while "getUpdates" not in stub.calls() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "getUpdates" in stub.calls(), f"Telegram never started polling: {stub.calls()}"
        yield manager
    finally:
        _cleanup(manager)


def _dry_run_provider() -> DataProvider:
    return DataProvider({"runmode": RunMode.DRY_RUN, "timeframe": "1h"}, None)


def _send(manager: RPCManager, text: str) -> float:
    """Send as a strategy does (dp.send_msg, then the bot's process loop); :return: seconds"""
    dp = _dry_run_provider()
    start = time.monotonic()
    dp.send_msg(text, always_send=True)
    manager.process_msg_queue(dp._msg_queue)
    return time.monotonic() - start


# ---------------------------------------------------------------------- the endpoint patch


def test_endpoint_is_the_env_url_or_telegram(
    endpoint: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram = Telegram.__new__(Telegram)
    telegram._config = RPC_CONFIG
    monkeypatch.delenv(API_URL_ENV, raising=False)
    monkeypatch.delenv(FILE_URL_ENV, raising=False)
    bot = telegram._init_telegram_app().bot
    assert bot.base_url == f"https://api.telegram.org/bot{TOKEN}"
    monkeypatch.setenv(API_URL_ENV, "http://127.0.0.1:8081/bot")
    bot = telegram._init_telegram_app().bot
    assert bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    monkeypatch.setenv(FILE_URL_ENV, "http://files.local/f/{token}/x")
    assert telegram._init_telegram_app().bot.base_file_url == f"http://files.local/f/{TOKEN}/x"
    patched = Telegram._init_telegram_app
    assert install_telegram_endpoint()
    assert Telegram._init_telegram_app is patched  # idempotent


def test_nothing_is_wrapped_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Telegram, "_init_telegram_app", Telegram._init_telegram_app)
    original = Telegram._init_telegram_app
    monkeypatch.delenv(API_URL_ENV, raising=False)
    assert not install_telegram_endpoint()
    assert Telegram._init_telegram_app is original
    monkeypatch.setenv(API_URL_ENV, "http://127.0.0.1:8081/bot")
    assert install_telegram_endpoint()
    assert Telegram._init_telegram_app is not original


# ---------------------------------------------------------------------- the stub alone


def _call(stub: TelegramStub, method: str, body: bytes, kind: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{stub.url}{TOKEN}/{method}", data=body, headers={"Content-Type": kind}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_stub_answers_and_records(stub: TelegramStub) -> None:
    form = "application/x-www-form-urlencoded"
    assert _call(stub, "getMe", b"", form)["result"]["is_bot"] is True
    start = time.monotonic()
    assert _call(stub, "getUpdates", b"timeout=20", form) == {"ok": True, "result": []}
    assert 0.15 < time.monotonic() - start < 2  # honoured, but cut to max_poll_seconds
    sent = _call(
        stub, "sendMessage", json.dumps({"chat_id": 7, "text": "hi"}).encode(), "application/json"
    )
    assert sent["result"]["chat"]["id"] == 7 and sent["result"]["text"] == "hi"
    assert _call(stub, "setMyCommands", b"commands=%5B%5D", form)["result"] is True
    assert _call(stub, "editMessageText", b"chat_id=7&message_id=1&text=x", form)["ok"]
    message = stub.wait_for(lambda m: m.text == "hi", timeout=1)
    assert message is not None and message.chat_id == "7"
    assert stub.wait_for(lambda m: m.text == "never", timeout=0.1) is None
    assert stub.calls() == [
        "getMe",
        "getUpdates",
        "sendMessage",
        "setMyCommands",
        "editMessageText",
    ]


# ---------------------------------------------------------------------- Freqtrade's Telegram


def test_strategy_message_reaches_the_stub(rpc: RPCManager, stub: TelegramStub) -> None:
    _send(rpc, r"SAFE MODE (model): cb\_btc\_1\_model.zip is missing")
    message = stub.wait_for(lambda m: m.text.startswith("SAFE MODE"), timeout=10)
    assert message is not None
    assert message.chat_id == "1" and message.parse_mode == "Markdown"
    assert message.text == r"SAFE MODE (model): cb\_btc\_1\_model.zip is missing"


def test_a_decision_reaches_the_stub_quickly(
    rpc: RPCManager, stub: TelegramStub, caplog: pytest.LogCaptureFixture
) -> None:
    """The decision's log line, then the bot's message loop, then the stub: the delay."""
    strategy = load_strategy("EqualVoteStrategy", runmode=RunMode.DRY_RUN)
    strategy.dp = DataProvider(strategy.config, None)
    frame = pd.DataFrame(
        {
            "date": pd.date_range(end=datetime(2025, 6, 1, 14, tzinfo=UTC), periods=3, freq="1h"),
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "volume": 1.0,
            "target_exposure": [0.0, 0.0, 1.0],
        }
    )
    for entry in strategy.registry.enabled:
        frame[f"{entry.feature_prefix}_direction"] = 1.0 if entry.name != "ott" else -1.0
    caplog.set_level(logging.INFO, logger="meta_strategy.trading.exposure")
    strategy.populate_entry_trend(frame, {"pair": PAIR})
    rpc.process_msg_queue(strategy.dp._msg_queue)  # what the bot's loop does after analysis
    [record] = [r for r in caplog.records if r.getMessage().startswith("bitbot decision: ")]
    message = stub.wait_for(lambda m: "LONG 1.0x (first decision)" in m.text, timeout=10)
    assert message is not None
    assert r"against: ott" in message.text and r"supertrend\_4h" in message.text
    delay = message.wall - record.created
    print(f"decision log line -> stub: {delay * 1000:.1f} ms")
    assert 0 <= delay < 5


def test_telegram_down_does_not_reach_the_caller(
    rpc: RPCManager, stub: TelegramStub, caplog: pytest.LogCaptureFixture
) -> None:
    stub.stop()  # Telegram down
    assert _send(rpc, "while down") < 1  # returns at once, raises nothing
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        "Giving up on that message" in r.getMessage() for r in caplog.records
    ):
        time.sleep(0.05)
    assert any("Giving up on that message" in r.getMessage() for r in caplog.records)
    stub.start()  # back, on the same port
    _send(rpc, "back up")
    assert stub.wait_for(lambda m: m.text == "back up", timeout=10) is not None
    assert [m.text for m in stub.messages()] == ["back up"]


# Freqtrade gives up on Telegram after three failed start attempts and never starts its event
# loop again: later messages are never sent (their coroutines are dropped when the loop closes).
@pytest.mark.filterwarnings("ignore:coroutine '.*' was never awaited:RuntimeWarning")
def test_telegram_down_at_start_does_not_reach_the_caller(
    monkeypatch: pytest.MonkeyPatch, endpoint: None, caplog: pytest.LogCaptureFixture
) -> None:
    down = TelegramStub()
    down.start()
    down.stop()  # a port that refuses connections
    manager = _start_rpc(monkeypatch, down)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(
            "Telegram init failed" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.05)
        assert any("Telegram init failed" in r.getMessage() for r in caplog.records)
        assert _send(manager, "nobody hears this") < 1
    finally:
        _cleanup(manager)
