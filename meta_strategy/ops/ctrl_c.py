"""
Ctrl-C stops the bot, even when CPython drops the KeyboardInterrupt.

Python raises a SIGINT's KeyboardInterrupt in whatever the main thread runs at that moment.
When that is a weakref callback or a ``__del__`` (garbage collection), the exception cannot
propagate: CPython prints "Exception ignored in: ..." and drops it, and ``freqtrade trade``
trades on as if nothing happened. ``bitbot replay`` under an exchange fault lost one Ctrl-C of
eight that way in a test (its failing requests make much garbage); a live bot can too.

:func:`install_ctrl_c` replaces Python's SIGINT handler by one that notes the request before it
raises, and checks at the start of every iteration of Freqtrade's loop that a noted request has
stopped the bot, raising it again otherwise
(:func:`~meta_strategy.freqtrade_bridge.patch_worker_loop`). Freqtrade then shuts down as after
any Ctrl-C (exit code 130). A SIGINT Python ignores (a background job's) stays ignored.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from meta_strategy.freqtrade_bridge import patch_worker_loop


logger = logging.getLogger(__name__)

_requested = threading.Event()


def _on_sigint(signum: int, frame: Any) -> None:
    """The SIGINT handler: note the request, then raise as Python's own handler does."""
    _requested.set()
    raise KeyboardInterrupt


def raise_if_requested() -> None:
    """
    :raises KeyboardInterrupt: a Ctrl-C was received and the bot still runs (its first
        KeyboardInterrupt was dropped)
    """
    if _requested.is_set():
        logger.warning("Ctrl-C received but its KeyboardInterrupt was lost; stopping now.")
        raise KeyboardInterrupt


def install_ctrl_c() -> None:
    """
    In the main thread, when SIGINT has Python's default handler: note every Ctrl-C and stop
    Freqtrade's loop on a noted one (idempotent).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
    patch_worker_loop(raise_if_requested)
