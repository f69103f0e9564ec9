"""Ctrl-C stops Freqtrade's loop even when CPython drops its KeyboardInterrupt."""

from __future__ import annotations

import gc
import signal
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from freqtrade.worker import Worker

from meta_strategy.ops import ctrl_c


@pytest.fixture
def installed() -> Iterator[None]:
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ctrl_c.install_ctrl_c()
    yield
    ctrl_c._requested.clear()
    signal.signal(signal.SIGINT, before)


def _loop_iteration() -> list[str]:
    """One iteration of Freqtrade's loop on a bare worker: :return: what ran"""
    ran: list[str] = []
    worker = Worker.__new__(Worker)
    worker._sleep = lambda seconds: None  # type: ignore[method-assign]
    worker._throttle(func=lambda: ran.append("process"), throttle_secs=0)
    return ran


def test_the_handler_notes_the_request_then_raises(installed: None) -> None:
    assert signal.getsignal(signal.SIGINT) is ctrl_c._on_sigint
    assert _loop_iteration() == ["process"]
    with pytest.raises(KeyboardInterrupt):
        ctrl_c._on_sigint(signal.SIGINT, None)
    with pytest.raises(KeyboardInterrupt):
        _loop_iteration()


def test_a_ctrl_c_dropped_in_a_weakref_callback_still_stops_the_loop(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)

    class Garbage:
        pass

    garbage = Garbage()
    watch = weakref.ref(garbage, lambda _: ctrl_c._on_sigint(signal.SIGINT, None))
    del garbage  # the callback runs here; CPython cannot raise from it
    gc.collect()
    assert watch() is None
    assert [type(d.exc_value) for d in dropped] == [KeyboardInterrupt], "dropped, as CPython does"
    with pytest.raises(KeyboardInterrupt):
        _loop_iteration()  # the next iteration of the loop stops the bot


def test_an_ignored_sigint_stays_ignored() -> None:
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctrl_c.install_ctrl_c()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
    assert _loop_iteration() == ["process"]
