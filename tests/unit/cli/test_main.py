"""``bitbot``'s one error path for its own commands: one line, or the traceback on request."""

from __future__ import annotations

import argparse

import pytest

from meta_strategy.cli import models
from meta_strategy.cli.main import main


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
