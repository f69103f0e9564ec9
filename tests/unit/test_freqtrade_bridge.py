"""Running Freqtrade from BitBot (meta_strategy.freqtrade_bridge): ``--datadir`` injection."""

from __future__ import annotations

from meta_strategy.freqtrade_bridge import DATADIR_COMMANDS, inject_datadir


def test_bitbot_data_fills_in_datadir() -> None:
    env = {"BITBOT_DATA": "/data/binance"}
    assert inject_datadir(["backtesting", "-s", "X"], env) == [
        "backtesting",
        "-s",
        "X",
        "--datadir",
        "/data/binance",
    ]
    assert inject_datadir(["backtesting", "--datadir", "d"], env) == [
        "backtesting",
        "--datadir",
        "d",
    ]
    assert inject_datadir(["backtesting", "--datadir=d"], env) == ["backtesting", "--datadir=d"]
    assert inject_datadir(["list-exchanges"], env) == ["list-exchanges"]
    assert inject_datadir(["backtesting"], {}) == ["backtesting"]


def test_datadir_commands_accept_datadir() -> None:
    """Every command that gets --datadir from BITBOT_DATA really has that option."""
    from freqtrade.commands import Arguments

    for command in sorted(DATADIR_COMMANDS):
        args = Arguments([command, "--datadir", "/x"]).get_parsed_arg()
        assert args.get("datadir") == "/x", command
