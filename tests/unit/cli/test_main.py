"""``bitbot``'s one error path for its own commands: one line, or the traceback on request."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

import pytest

from meta_strategy.cli import models
from meta_strategy.cli.main import STACK_DUMP_SIGNAL, main
from tests.helpers.freqtrade import REPO


ARGS = ["models", "list", "--registry", "r.sqlite"]


@pytest.fixture(autouse=True)
def bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bitbot models`` meets a bad value its own checks did not catch."""

    def handler(ns: argparse.Namespace) -> int:
        raise ValueError("config.json: bitbot.leverage is 'x'; expected a number")

    monkeypatch.setattr(models, "run_models", handler)
    monkeypatch.delenv("BITBOT_TRACEBACK", raising=False)


def test_an_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(ARGS) == 2
    err = capsys.readouterr().err
    assert err == (
        "bitbot: models: ValueError: config.json: bitbot.leverage is 'x'; expected a number "
        "(--verbose for the traceback)\n"
    )


@pytest.mark.parametrize("args", [[*ARGS, "--verbose"], ["models", "--verbose", *ARGS[1:]]])
def test_verbose_raises_with_the_traceback(args: list[str]) -> None:
    with pytest.raises(ValueError, match=r"bitbot\.leverage"):
        main(args)


def test_the_environment_variable_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITBOT_TRACEBACK", "1")
    with pytest.raises(ValueError, match=r"bitbot\.leverage"):
        main(ARGS)


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_sigusr1_prints_every_threads_stack_and_the_process_carries_on() -> None:
    code = (
        "import sys, threading, time\n"
        "from meta_strategy.cli.main import install_stack_dump\n"
        "install_stack_dump()\n"
        "def waiting_worker():\n"
        "    time.sleep(60)\n"
        "threading.Thread(target=waiting_worker, daemon=True).start()\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "print('still running', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        proc.send_signal(STACK_DUMP_SIGNAL)
        time.sleep(0.5)
        out, err = proc.communicate("go on\n", timeout=30)
    finally:
        proc.kill()
    assert out == "still running\n" and proc.returncode == 0
    assert "in waiting_worker" in err and "most recent call first" in err, err
    assert "Current thread" in err  # the main thread, waiting on its stdin
