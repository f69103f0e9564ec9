"""
The installed ``bitbot`` command in a subprocess: help (``models promote``'s rule included),
usage errors, ``data check`` on the real data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.freqtrade import run_bitbot


pytestmark = pytest.mark.slow


def test_help_lists_bitbot_commands() -> None:
    out = run_bitbot("--help").stdout
    for command in ("markets", "synth", "data", "compare", "bias-check", "tune"):
        assert command in out


@pytest.mark.parametrize("args", [["backtesting", "--no-such-flag"], ["no-such-command"]])
def test_usage_errors_exit_nonzero(args: list[str]) -> None:
    assert run_bitbot(*args).returncode == 2


def test_data_check_on_real_data(binance_datadir: Path) -> None:
    result = run_bitbot(
        "data",
        "check",
        "--datadir",
        str(binance_datadir),
        "--pairs",
        "BTC/USDT:USDT",
        "--timeframes",
        "1h",
        "5m",
    )
    assert result.returncode == 0, result.stdout
    rows = len(pd.read_feather(binance_datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather"))
    assert f"{rows}" in result.stdout.replace(",", ""), result.stdout


def test_bitbot_models_promote_help_states_the_rule() -> None:
    out = run_bitbot("models", "promote", "--help", timeout=120)
    assert out.returncode == 0, out.stdout
    text = " ".join(out.stdout.split())
    assert "mean-over-seeds Sharpe is above the best rule strategy's" in text
    assert "deflated Sharpe" in text and "--force" in text and "--min-deflated-sharpe" in text
    assert "95 % paired interval of its Sharpe minus" in text and "--min-paired-ci-low" in text
    out = run_bitbot("models", "promote", timeout=120)
    assert out.returncode == 2 and "one of the arguments model_id --best is required" in out.stdout
