"""
Test harness of ``bitbot replay``: one replay bot in a subprocess, its log, a REST client
(``freqtrade-client``) and a Telegram stub. Used by ``tests/e2e/test_replay_bot.py`` and
``bench/bench_replay.py``.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from freqtrade_client import FtRestClient

from tests.helpers.freqtrade import BITBOT, REPO, free_port
from tests.helpers.telegram_stub import TelegramStub


PAIR = "BTC/USD:USD"
TELEGRAM_BOT_ID = 123456789
# "Connection error" warnings while the bot starts are expected: the harness polls until it is up.
logging.getLogger("ft_rest_client").setLevel(logging.ERROR)


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path) -> Any:
    """
    Poll ``check`` until it returns something true, and note in the bot's log how long that
    took against the limit (``harness: waited ...``: how close a slow machine came to failing).

    :return: what ``check`` returned
    :raises AssertionError: not within ``timeout`` seconds (with the log's tail)
    """
    start = time.monotonic()
    deadline = start + timeout
    while True:
        result = check()
        if result:
            with log.open("a") as out:
                out.write(
                    f"harness: waited {time.monotonic() - start:.1f} s of {timeout:.0f} for "
                    f"{what}\n"
                )
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}; log tail:\n{log.read_text()[-4000:]}"
            )
        time.sleep(0.3)


_LOG_RECORD = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.MULTILINE)


def unexpected_tracebacks(log_text: str) -> list[str]:
    """
    The log records of a bot log that carry a traceback, less the one Freqtrade itself writes
    when a Ctrl-C (the harness's ``interrupt``) lands inside a database commit: its cleanup
    commits again and logs "Error during cleanup" with the interrupted commit's chain.

    :param log_text: the bot's log
    :return: each unexpected record, whole
    """
    starts = sorted({0, *(m.start() for m in _LOG_RECORD.finditer(log_text))})
    records = [log_text[a:b] for a, b in itertools.pairwise([*starts, len(log_text)])]
    return [
        record
        for record in records
        if "Traceback" in record
        and not ("Error during cleanup" in record and "KeyboardInterrupt" in record)
    ]


def _ctrl_c_stops_it() -> None:
    """
    In the bot's process before it starts: Ctrl-C (SIGINT) acts. A test run started as a
    background job of a non-interactive shell (``bash .ci/run &``) ignores SIGINT, and its
    children inherit that: the bot would never stop on :meth:`ReplayBot.interrupt`.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ReplayBot:
    """One ``bitbot replay`` process, its log, and a REST client."""

    def __init__(
        self,
        root: Path,
        recording: Path,
        extra_config: Path,
        telegram: TelegramStub,
        strategy: str = "EqualVoteStrategy",
        name: str = "e2e",
        configs: tuple[str, ...] = ("user_data/config.json",),
    ) -> None:
        self.root = root
        self.strategy = strategy
        self.configs = configs
        self.name = name
        self.telegram = telegram
        self.decisions: list[tuple[float, str]] = []
        """(``time.monotonic()`` when the line arrived, the line) of every decision logged"""
        self._reader: threading.Thread | None = None
        self.recording = recording
        self.extra_config = extra_config
        self.port = free_port()
        self.user = "bitbot-test"
        self.password = secrets.token_urlsafe(16)
        self.proc: subprocess.Popen | None = None
        self.log = root / "bot.log"
        self.client = FtRestClient(f"http://127.0.0.1:{self.port}", self.user, self.password)

    def start(self, *replay_args: str) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")},
            "COLUMNS": "400",
            "FREQTRADE__API_SERVER__USERNAME": self.user,
            "FREQTRADE__API_SERVER__PASSWORD": self.password,
            "FREQTRADE__API_SERVER__JWT_SECRET_KEY": secrets.token_urlsafe(32),
            "FREQTRADE__API_SERVER__LISTEN_PORT": str(self.port),
            "FREQTRADE__TELEGRAM__TOKEN": f"{TELEGRAM_BOT_ID}:{secrets.token_urlsafe(26)[:35]}",
            "FREQTRADE__TELEGRAM__CHAT_ID": "4242",
            "BITBOT_TELEGRAM_API_URL": self.telegram.url,
        }
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen(
            [
                *BITBOT,
                "replay",
                "--recording",
                str(self.recording),
                "--root",
                str(self.root),
                "--name",
                self.name,
                "--telegram",
                *replay_args,
                *(arg for config in self.configs for arg in ("-c", config)),
                "-c",
                str(self.extra_config),
                "-s",
                self.strategy,
            ],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_ctrl_c_stops_it,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        self.wait("the API", self._api_up, 180)

    def _read(self, proc: subprocess.Popen) -> None:
        """Copy the bot's output to the log, noting when each decision line arrives."""
        assert proc.stdout is not None
        with self.log.open("a") as out:
            for line in proc.stdout:
                if "bitbot decision:" in line:
                    self.decisions.append((time.monotonic(), line))
                out.write(line)
                out.flush()

    def text(self) -> str:
        """:return: the log of the current life of the bot"""
        return self.log.read_text()[self._log_offset :]

    def _api_up(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-4000:]
        try:
            return self.client.ping() == {"status": "pong"}
        except Exception:
            return False

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
        def alive_check() -> Any:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"bot exited: {self.log.read_text()[-4000:]}")
            return check()

        return wait_for(what, alive_check, timeout, self.log)

    def api(self, call: str, *args: Any, **kwargs: Any) -> Any:
        """
        :return: the answer of one ``FtRestClient`` call. The client returns None on a
            connection error, retried up to three attempts: the server closes idle
            keep-alive connections after 5 s and a request can race that close.
        """
        for _attempt in range(3):
            answer = getattr(self.client, call)(*args, **kwargs)
            if answer is not None:
                return answer
            time.sleep(0.5)
        raise AssertionError(f"the REST API did not answer {call}{args} three times")

    def open_trades(self) -> list[dict[str, Any]]:
        status = self.api("status")
        assert isinstance(status, list), status
        return status

    def filled_trades(self) -> list[dict[str, Any]]:
        """:return: open trades whose orders have filled"""
        return [t for t in self.open_trades() if t["amount"] > 0 and not t["has_open_orders"]]

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)
        assert self._reader is not None
        self._reader.join(timeout=30)

    def interrupt(self, timeout: float = 180, grace: float = 120) -> int:
        """
        Ctrl-C, and wait for the bot to stop. The wait is generous: once on CI a bot trading the
        11-entry registry took more than 60 s to stop (why was not established; the bot may be
        in the middle of analysing a candle or of a FreqAI training), and once one had not
        stopped after 180 s (CPython had dropped the KeyboardInterrupt in a weakref callback;
        :mod:`meta_strategy.ops.ctrl_c` now stops the bot anyway).

        A bot still running after ``timeout`` is asked for every thread's stack (``kill -USR1``,
        :func:`~meta_strategy.cli.main.install_stack_dump`) and given ``grace`` more seconds: a
        slow stop passes with a warning that quotes the stacks, a bot that still runs fails with
        the end of its log, stacks included. Either way the shutdown says where it waited.

        :param timeout: seconds before the stacks are asked for
        :param grace: seconds more before the bot is killed and the test fails
        :return: the exit code
        """
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            dumped_at = len(self.log.read_text())
            self.proc.send_signal(signal.SIGUSR1)
        try:
            code = self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            if self._reader is not None:
                self._reader.join(timeout=30)
            raise AssertionError(
                f"the bot did not stop within {timeout + grace:.0f} s of SIGINT; the end of its "
                f"log, with every thread's stack at {timeout:.0f} s:\n"
                f"{self.log.read_text()[max(0, dumped_at - 4000) : dumped_at + 16000]}"
            ) from None
        if self._reader is not None:
            self._reader.join(timeout=30)
        warnings.warn(
            f"the bot took more than {timeout:.0f} s to stop after SIGINT; its log from the stack "
            f"dump on:\n{self.log.read_text()[dumped_at : dumped_at + 8000]}",
            stacklevel=2,
        )
        return code

    def virtual_now(self) -> datetime:
        """:return: the bot's clock, as its clock file says"""
        from meta_strategy.ops.replay.clock import read_clock_file

        state = read_clock_file(self.root / self.name / "clock.json")
        assert state is not None
        return state.virtual_now


def decision_delays(bot: ReplayBot) -> list[float]:
    """
    Seconds from each decision's log line to its message arriving at the Telegram stub,
    matched by pair and candle hour (the message's first line), each message once.

    The log line is timed when this process reads it from the bot's pipe; the bot writes it
    before it queues the message, so a message read "before" its line (the reader thread was
    not scheduled yet) counts as 0 s.
    """
    arrived = [m for m in bot.telegram.messages() if m.text.startswith(PAIR)]
    used: set[int] = set()
    delays = []
    for logged, line in bot.decisions:
        head = line.split("bitbot decision: ", 1)[1].split(":", 2)
        candle = ":".join(head[:2])  # "BTC/USD:USD 2025-06-02 01" (pair, date, hour)
        match = next(
            (
                i
                for i, m in enumerate(arrived)
                if i not in used and m.text.startswith(candle) and m.monotonic >= logged - 1.0
            ),
            None,
        )
        if match is not None:
            used.add(match)
            delays.append(max(0.0, arrived[match].monotonic - logged))
    return delays
