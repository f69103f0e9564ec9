"""
The Telegram stub's command line (``python -m tests.helpers.telegram_stub``), as a rehearsal
runs it beside the bot: it starts, says where it listens and prints every message it receives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from types import SimpleNamespace
from typing import Any

import pytest

from tests.helpers.freqtrade import REPO


pytestmark = pytest.mark.slow

TOKEN = "123456:stub-token-stub-token"


def _call(stub: Any, method: str, body: bytes, kind: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{stub.url}{TOKEN}/{method}", data=body, headers={"Content-Type": kind}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_stub_command_line_prints_messages() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.telegram_stub", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Telegram stub on 127.0.0.1:"), first
        port = int(first.split(":")[1].split(".")[0])
        server = SimpleNamespace(url=f"http://127.0.0.1:{port}/bot")
        form = "application/x-www-form-urlencoded"
        assert _call(server, "sendMessage", b"chat_id=1&text=rehearsal", form)["ok"]
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert "chat 1:\nrehearsal\n" in out
