"""Shared fixtures: the repository root, the real data folder, small candle frames."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest


REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "binance"
BITBOT = [str(Path(sys.executable).parent / "bitbot")]


def free_port() -> int:
    """:return: a TCP port on 127.0.0.1 that is free now"""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_strategy(
    name: str,
    configs: tuple[str, ...] = ("config.json", "config.binance.json"),
    runmode: Any = None,
    **bitbot: Any,
) -> Any:
    """
    A strategy as Freqtrade loads it from the shipped configs.

    :param name: strategy class name (in ``user_data/strategies``)
    :param configs: files of ``user_data`` to merge
    :param runmode: Freqtrade ``RunMode`` to set (None: leave it out)
    :param bitbot: keys merged into the ``bitbot`` section
    :return: the strategy
    """
    from freqtrade.configuration import Configuration
    from freqtrade.resolvers import StrategyResolver

    config = Configuration.from_files([str(REPO / "user_data" / c) for c in configs])
    config["strategy"] = name
    config["strategy_path"] = str(REPO / "user_data" / "strategies")
    if runmode is not None:
        config["runmode"] = runmode
    if bitbot:
        config["bitbot"] = {**config.get("bitbot", {}), **bitbot}
    return StrategyResolver.load_strategy(config)


@pytest.fixture(scope="session", autouse=True)
def _no_tuned_parameter_files() -> None:
    """The tests check the strategies' reference defaults; a tuned <Strategy>.json changes them."""
    tuned = sorted((REPO / "user_data" / "strategies").glob("*.json"))
    if tuned:
        pytest.exit(
            f"Tuned parameter files {[p.name for p in tuned]} in user_data/strategies would "
            "override the defaults the tests check; move them away to run the tests.",
            returncode=4,
        )


def real_data_dir() -> Path:
    """:return: BITBOT_DATA, or ../shared/data/binance beside the repository"""
    return Path(os.environ.get("BITBOT_DATA") or SHARED_DATA)


@pytest.fixture(scope="session")
def binance_datadir() -> Path:
    """The real Binance BTC/USDT:USDT perpetual data; skips the test when it is absent."""
    datadir = real_data_dir()
    if not (datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather").is_file():
        pytest.skip(
            f"real data not found at {datadir} (futures/BTC_USDT_USDT-1h-futures.feather); "
            "set BITBOT_DATA to a Freqtrade data folder with the Binance BTC perpetual"
        )
    return datadir


@pytest.fixture(scope="session")
def btc_1h(binance_datadir: Path) -> pd.DataFrame:
    """Real BTC perpetual 1h candles (2019-09 to 2025-11)."""
    return pd.read_feather(binance_datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather")


def run_bitbot(
    *args: str,
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
    timeout: int = 900,
    cwd: Path = REPO,
) -> subprocess.CompletedProcess:
    """
    Run the installed ``bitbot`` console command in a subprocess.

    :param env: variables to set on top of this process's environment
    :param unset: variables to remove
    :return: the completed process (stdout and stderr merged into ``stdout``)
    """
    # A wide terminal: Rich would otherwise wrap log lines (and the paths in them) at 80.
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "400", **(env or {})}
    for name in unset:
        full_env.pop(name, None)
    return subprocess.run(
        [*BITBOT, *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def freqai_backtest(
    tmp_path: Path,
    name: str,
    configs: list[str],
    strategy: str,
    timerange: str,
    results: Path,
    **run: object,
) -> str:
    """
    Run a FreqAI walk-forward backtest with its own user directory (models and predictions stay
    in ``tmp_path``) and check that every window was covered without a training error.

    :return: the command's output
    """
    userdir = tmp_path / f"userdir-{name}"
    userdir.mkdir(exist_ok=True)
    out = run_bitbot(
        "backtesting",
        *configs,
        "--userdir",
        str(userdir),
        "--strategy-path",
        "user_data/strategies",
        "--freqaimodel-path",
        "user_data/freqaimodels",
        "--strategy",
        strategy,
        "--timerange",
        timerange,
        "--backtest-directory",
        str(results),
        timeout=900,
        **run,
    )
    assert out.returncode == 0, out.stdout[-5000:]
    assert "Training 2 timeranges" in out.stdout, "FreqAI must cover two walk-forward windows"
    assert "raised exception" not in out.stdout, out.stdout[-5000:]
    return out.stdout
