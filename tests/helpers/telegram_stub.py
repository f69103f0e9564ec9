"""
A local stand-in for the Telegram Bot API, enough for Freqtrade's Telegram RPC.

It answers what python-telegram-bot asks while Freqtrade runs Telegram: ``getMe``,
``deleteWebhook``, ``getUpdates`` (long polling: the requested ``timeout`` is honoured but cut
to ``max_poll_seconds``, and there are never any updates), ``setMyCommands``, ``sendMessage``,
``editMessageText``, ``answerCallbackQuery``; any other method gets ``{"ok": true, "result":
true}``. Every ``sendMessage`` is recorded with its arrival time (``time.monotonic()`` and
``time.time()``) and text. :meth:`TelegramStub.stop` closes the port, so the bot sees Telegram
down (connection refused); :meth:`TelegramStub.start` opens the same port again.

Point the bot at it with ``BITBOT_TELEGRAM_API_URL`` (:mod:`meta_strategy.ops.telegram`)::

    python -m tests.helpers.telegram_stub --port 8081
    BITBOT_TELEGRAM_API_URL=http://127.0.0.1:8081/bot \\
        FREQTRADE__TELEGRAM__ENABLED=true FREQTRADE__TELEGRAM__TOKEN=123456:stub-token-stub-token \\
        FREQTRADE__TELEGRAM__CHAT_ID=1 bitbot trade -c user_data/config.json ...

It listens on 127.0.0.1 only and prints every message it receives.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
BOT_ID = 123456789
BOT_USERNAME = "bitbot_stub_bot"


@dataclass(frozen=True)
class StubMessage:
    """One ``sendMessage`` the stub received."""

    text: str
    chat_id: str
    parse_mode: str | None
    monotonic: float
    """``time.monotonic()`` when the request arrived"""
    wall: float
    """``time.time()`` when the request arrived (to compare with log timestamps)"""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a long poll cancelled): not worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("telegram stub: %s hung up", client_address)
            return
        super().handle_error(request, client_address)


def _bot_user() -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "BitBot stub",
        "username": BOT_USERNAME,
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def _chat(chat_id: str) -> dict[str, Any]:
    try:
        number = int(chat_id)
    except ValueError:
        number = 0  # a channel name such as @channel: the stub has no ids for those
    return {"id": number, "type": "private", "first_name": "stub"}


class TelegramStub:
    """
    The stub server (a ``ThreadingHTTPServer`` in a background thread).

    :param port: port to listen on (0: a free one; after the first start the same one is
        reused by every restart)
    :param max_poll_seconds: the longest a ``getUpdates`` long poll is held open
    :param on_message: called (in the server's thread) with every ``sendMessage``
    """

    def __init__(
        self,
        port: int = 0,
        max_poll_seconds: float = 0.5,
        on_message: Callable[[StubMessage], None] | None = None,
    ) -> None:
        self.port = port
        self.max_poll_seconds = max_poll_seconds
        self.on_message = on_message
        self._messages: list[StubMessage] = []
        self._calls: list[str] = []
        self._condition = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._next_message_id = 1

    # ------------------------------------------------------------------ life cycle

    @property
    def running(self) -> bool:
        """:return: True while the port is open"""
        return self._server is not None

    @property
    def url(self) -> str:
        """:return: the ``base_url`` for ``BITBOT_TELEGRAM_API_URL`` (``http://127.0.0.1:<port>/bot``)"""
        return f"http://{HOST}:{self.port}/bot"

    def start(self) -> TelegramStub:
        """
        Open the port and serve in a daemon thread (nothing happens when already running).

        :return: the stub itself
        """
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((HOST, self.port), self._handler_class())
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"telegram-stub-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Telegram stub listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Close the port (Telegram down); held long polls return at once."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        logger.info("Telegram stub on port %d stopped", self.port)

    def __enter__(self) -> TelegramStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ what it received

    def messages(self) -> list[StubMessage]:
        """:return: a copy of every ``sendMessage`` received so far, oldest first"""
        with self._condition:
            return list(self._messages)

    def calls(self) -> list[str]:
        """:return: the Bot API methods called so far, in order"""
        with self._condition:
            return list(self._calls)

    def wait_for(
        self, predicate: Callable[[StubMessage], bool], timeout: float
    ) -> StubMessage | None:
        """
        :param predicate: which message to wait for
        :param timeout: the longest to wait, in seconds
        :return: the first received message matching ``predicate`` (also one that arrived
            before the call), None when none came in time
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for message in self._messages:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._condition.wait(left)

    def clear(self) -> None:
        """Forget the messages and calls received so far."""
        with self._condition:
            self._messages.clear()
            self._calls.clear()

    # ------------------------------------------------------------------ the Bot API

    def _record_call(self, method: str) -> None:
        with self._condition:
            self._calls.append(method)
            self._condition.notify_all()

    def _send_message(self, params: dict[str, str], arrived: float, wall: float) -> dict:
        message = StubMessage(
            text=params.get("text", ""),
            chat_id=str(params.get("chat_id", "")),
            parse_mode=params.get("parse_mode"),
            monotonic=arrived,
            wall=wall,
        )
        with self._condition:
            self._messages.append(message)
            message_id = self._next_message_id
            self._next_message_id += 1
            self._condition.notify_all()
        if self.on_message is not None:
            self.on_message(message)
        return self._message_result(message_id, message.chat_id, message.text)

    @staticmethod
    def _message_result(message_id: int, chat_id: str, text: str) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": _bot_user(),
            "text": text,
        }

    def answer(self, method: str, params: dict[str, str], arrived: float, wall: float) -> Any:
        """
        :param method: Bot API method, e.g. ``sendMessage``
        :param params: its parameters (values as sent: JSON-encoded text for non-strings)
        :param arrived: ``time.monotonic()`` when the request arrived
        :param wall: ``time.time()`` when the request arrived
        :return: the ``result`` of the Bot API's answer
        """
        self._record_call(method)
        name = method.lower()
        if name == "getme":
            return _bot_user()
        if name == "getupdates":
            try:
                timeout = float(params.get("timeout", 0) or 0)
            except ValueError:
                timeout = 0.0
            self._stopping.wait(max(0.0, min(timeout, self.max_poll_seconds)))
            return []
        if name == "sendmessage":
            return self._send_message(params, arrived, wall)
        if name == "editmessagetext":
            if params.get("inline_message_id"):
                return True
            message_id = int(params.get("message_id", 0) or 0)
            return self._message_result(
                message_id, str(params.get("chat_id", "")), params.get("text", "")
            )
        if name == "getwebhookinfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if name == "getchat":
            return _chat(str(params.get("chat_id", "")))
        if name == "getmycommands":
            return []
        return True  # deleteWebhook, setMyCommands, answerCallbackQuery, ...

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so a stopped stub refuses the next one.
            protocol_version = "HTTP/1.0"
            server_version = "TelegramStub/1.0"

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _params(self) -> dict[str, str]:
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if kind == "application/json" and body:
                    loaded = json.loads(body)
                    if isinstance(loaded, dict):
                        params.update(
                            {
                                k: v if isinstance(v, str) else json.dumps(v)
                                for k, v in loaded.items()
                            }
                        )
                elif kind == "application/x-www-form-urlencoded" and body:
                    params.update(parse_qsl(body.decode()))
                return params

            def _handle(self) -> None:
                arrived, wall = time.monotonic(), time.time()
                segments = urlsplit(self.path).path.strip("/").split("/")
                if len(segments) < 2 or not segments[-2].startswith("bot") or "file" in segments:
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                try:
                    params = self._params()
                except (ValueError, UnicodeDecodeError) as e:
                    self._reply(400, {"ok": False, "error_code": 400, "description": str(e)})
                    return
                result = stub.answer(segments[-1], params, arrived, wall)
                self._reply(200, {"ok": True, "result": result})

            def do_POST(self) -> None:
                self._handle()

            def do_GET(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("telegram stub: " + format, *args)

        return Handler


def _print_message(message: StubMessage) -> None:
    stamp = datetime.fromtimestamp(message.wall).strftime("%H:%M:%S.%f")[:-3]
    print(f"[{stamp}] chat {message.chat_id}:\n{message.text}\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    """
    ``python -m tests.helpers.telegram_stub --port 8081``: serve until Ctrl-C and print every
    message received.

    :param argv: command line without the program name
    :return: exit code
    """
    parser = argparse.ArgumentParser(
        prog="python -m tests.helpers.telegram_stub",
        description="Local stub of the Telegram Bot API (127.0.0.1) that prints the messages "
        "Freqtrade sends. Point the bot at it with BITBOT_TELEGRAM_API_URL.",
    )
    parser.add_argument("--port", type=int, default=8081, help="port (default 8081, 0: any)")
    args = parser.parse_args(argv)
    stub = TelegramStub(args.port, max_poll_seconds=10.0, on_message=_print_message)
    try:
        stub.start()
    except OSError as e:
        print(f"cannot listen on {HOST}:{args.port}: {e}")
        return 1
    print(
        f"Telegram stub on {HOST}:{stub.port}. Start the bot with\n"
        f"  BITBOT_TELEGRAM_API_URL={stub.url}\n"
        "  FREQTRADE__TELEGRAM__ENABLED=true FREQTRADE__TELEGRAM__TOKEN=<any bot-like token, "
        "e.g. 123456:stub-token-stub-token> FREQTRADE__TELEGRAM__CHAT_ID=1\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
