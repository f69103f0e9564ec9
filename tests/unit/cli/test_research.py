"""``bitbot report``'s settings from the command line, before any backtest runs."""

from __future__ import annotations

import pytest

from meta_strategy.cli.main import main


def test_an_unknown_period_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--period", "tset"]) == 2
    err = capsys.readouterr().err
    assert "bitbot: report: unknown period 'tset'; choose from validation, test" in err


def test_an_unknown_algorithm_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--algorithms", "PPO", "TD3"]) == 2
    assert "unknown algorithm(s) ['TD3']" in capsys.readouterr().err
