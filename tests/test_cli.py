"""The bitbot command: data directory injection, data resolution for make backtest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from meta_strategy import cli, runner
from tests.conftest import run_bitbot


def test_bitbot_data_fills_in_datadir() -> None:
    env = {"BITBOT_DATA": "/data/binance"}
    assert cli.inject_datadir(["backtesting", "-s", "X"], env) == [
        "backtesting",
        "-s",
        "X",
        "--datadir",
        "/data/binance",
    ]
    assert cli.inject_datadir(["backtesting", "--datadir", "d"], env) == [
        "backtesting",
        "--datadir",
        "d",
    ]
    assert cli.inject_datadir(["backtesting", "--datadir=d"], env) == ["backtesting", "--datadir=d"]
    assert cli.inject_datadir(["list-exchanges"], env) == ["list-exchanges"]
    assert cli.inject_datadir(["backtesting"], {}) == ["backtesting"]


def _never_online() -> bool:
    return False


def test_resolution_prefers_bitbot_data(binance_datadir: Path, tmp_path: Path) -> None:
    choice = runner.resolve_backtest_data(
        {"BITBOT_DATA": str(binance_datadir)}, tmp_path, _never_online
    )
    assert choice.pair == "BTC/USDT:USDT" and not choice.synthetic
    assert choice.configs == (runner.KRAKEN_CONFIG, runner.BINANCE_OVERLAY)
    assert choice.timerange == "20220101-"


def test_resolution_falls_back_to_synthetic_offline(tmp_path: Path) -> None:
    choice = runner.resolve_backtest_data({}, tmp_path, _never_online)
    assert choice.synthetic and choice.pair == "BTC/USD:USD"
    assert choice.configs == (runner.KRAKEN_CONFIG,)
    online = runner.resolve_backtest_data({}, tmp_path, lambda: True)
    assert online.download and not online.synthetic


def test_resolution_uses_downloaded_kraken_data(tmp_path: Path) -> None:
    path = tmp_path / "data" / "krakenfutures" / "futures" / "BTC_USD_USD-1h-futures.feather"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    choice = runner.resolve_backtest_data({}, tmp_path, _never_online)
    assert choice.datadir == tmp_path / "data" / "krakenfutures" and not choice.download


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


def test_datadir_commands_accept_datadir() -> None:
    """Every command that gets --datadir from BITBOT_DATA really has that option."""
    from freqtrade.commands import Arguments

    for command in sorted(cli.DATADIR_COMMANDS):
        args = Arguments([command, "--datadir", "/x"]).get_parsed_arg()
        assert args.get("datadir") == "/x", command
