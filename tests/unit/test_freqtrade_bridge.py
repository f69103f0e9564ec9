"""
Running Freqtrade from BitBot (meta_strategy.freqtrade_bridge): ``--datadir`` injection, the
checks before a command, and the patches that hold no domain logic (the markets, Telegram and
replay patches are tested with their domain modules).
"""

from __future__ import annotations

import pytest

from meta_strategy import freqtrade_bridge
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


def test_a_failed_check_ends_the_command_with_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PreflightError stops the command before Freqtrade starts: one line, exit code 2."""
    import freqtrade.main

    class MissingFileError(freqtrade_bridge.PreflightError):
        label = "data error"

    def refuse(argv: list[str]) -> None:
        assert argv[-2:] == ["--datadir", "/data/binance"]  # checks see the filled-in datadir
        raise MissingFileError("futures/BTC_USDT_USDT-1h-futures.feather is missing")

    started = []
    monkeypatch.setattr(freqtrade.main, "main", lambda argv: started.append(argv))
    monkeypatch.setenv("BITBOT_DATA", "/data/binance")
    assert freqtrade_bridge.run_freqtrade(["backtesting"], checks=[refuse]) == 2
    assert capsys.readouterr().err == (
        "bitbot: data error: futures/BTC_USDT_USDT-1h-futures.feather is missing\n"
    )
    assert started == []


def test_usage_errors_keep_argparse_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert freqtrade_bridge.run_freqtrade(["backtesting", "--no-such-option"]) == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_a_configuration_error_exits_nonzero(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freqtrade 2026.9 exits 0 on a ConfigurationError; with the patch its OperationalException
    branch (exit 2) handles it."""
    import freqtrade.main
    from freqtrade.exceptions import ConfigurationError, OperationalException

    monkeypatch.setattr(freqtrade.main, "ConfigurationError", freqtrade.main.ConfigurationError)
    freqtrade_bridge.exit_nonzero_on_configuration_error()
    assert freqtrade.main.ConfigurationError is not ConfigurationError
    assert not issubclass(ConfigurationError, freqtrade.main.ConfigurationError)
    assert issubclass(ConfigurationError, OperationalException)


def test_worker_sleeps_in_virtual_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import freqtrade.worker
    from freqtrade.worker import Worker

    monkeypatch.setattr(Worker, "_sleep", Worker._sleep)
    monkeypatch.setattr(freqtrade.worker, "RETRY_TIMEOUT", freqtrade.worker.RETRY_TIMEOUT)
    slept: list[float] = []
    monkeypatch.setattr(freqtrade_bridge.time, "sleep", slept.append)
    freqtrade_bridge.patch_worker_sleep(speed=60.0, min_real_sleep=0.2)
    Worker._sleep(120.0)  # two virtual minutes
    Worker._sleep(1.0)  # never below the floor
    assert slept == [2.0, 0.2]
    assert freqtrade.worker.RETRY_TIMEOUT == 0.5


def test_another_freqtrade_version_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import freqtrade

    monkeypatch.setattr(freqtrade, "__version__", "2099.1")
    freqtrade_bridge._check_version.cache_clear()
    try:
        freqtrade_bridge._check_version()
        freqtrade_bridge._check_version()
    finally:
        freqtrade_bridge._check_version.cache_clear()
    warnings = [r for r in caplog.records if "2099.1 is installed" in r.getMessage()]
    assert len(warnings) == 1


def test_the_startup_limit_holds_only_where_candles_are_downloaded() -> None:
    """Binance gives 2,494 1h candles in five downloads: a limit for dry-run and live only."""
    from types import SimpleNamespace

    from freqtrade.enums import RunMode
    from freqtrade.exceptions import ConfigurationError
    from freqtrade.exchange import Exchange

    from meta_strategy.freqtrade_bridge import lift_startup_limit_off_exchange

    lift_startup_limit_off_exchange()
    lift_startup_limit_off_exchange()  # a second call changes nothing

    def exchange(runmode: RunMode) -> SimpleNamespace:
        return SimpleNamespace(
            _config={"runmode": runmode, "candle_type_def": "futures"},
            _ft_has={"ohlcv_has_history": True},
            name="Binance",
            ohlcv_candle_limit=lambda *args: 499,
        )

    check = Exchange.validate_required_startup_candles
    assert check(exchange(RunMode.BACKTEST), 2000, "1h") == 5
    assert check(exchange(RunMode.BACKTEST), 5000, "1h") == 5  # logged, not raised
    assert check(exchange(RunMode.HYPEROPT), 5000, "1h") == 5
    for mode in (RunMode.DRY_RUN, RunMode.LIVE):
        with pytest.raises(ConfigurationError, match="requires 5000 candles"):
            check(exchange(mode), 5000, "1h")
