"""
The check every BitBot config section makes of its keys: a key it does not know (a typo such as
``leverag``) is an error that names the section, the key, the closest known key and every known
one, never a setting dropped without a word. This module depends on nothing else in the package.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """:return: `` (did you mean 'x'?)`` for the closest known name, or an empty string"""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_keys_problem(section: dict[str, Any], known: Iterable[str], where: str) -> str | None:
    """
    :param section: a config section
    :param known: the keys it may hold
    :param where: its place in the config (e.g. ``bitbot.risk``)
    :return: the one-line problem of its unknown keys, None when it has none
    """
    known = sorted(known)
    unknown = sorted(set(section) - set(known))
    if not unknown:
        return None
    hints = ", ".join(f"{key!r}{did_you_mean(key, known)}" for key in unknown)
    return f"{where} has unknown key(s) {hints}; known: {', '.join(known)}."


def check_known_keys(
    section: dict[str, Any],
    known: Iterable[str],
    where: str,
    error: Callable[[str], Exception] = ValueError,
) -> None:
    """
    :param section: a config section
    :param known: the keys it may hold
    :param where: its place in the config (e.g. ``bitbot.risk``)
    :param error: the exception class to raise (the section's own error)
    :raises Exception: ``error`` with :func:`unknown_keys_problem`'s message
    """
    problem = unknown_keys_problem(section, known, where)
    if problem:
        raise error(problem)
