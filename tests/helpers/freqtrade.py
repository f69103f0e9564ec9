"""
Running BitBot and Freqtrade from the tests: the repository's paths, the ``bitbot`` command in
a subprocess, a FreqAI walk-forward backtest, a strategy loaded from the shipped configs, and a
free TCP port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from freqtrade.enums import RunMode


REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data" / "binance"
BITBOT = [str(Path(sys.executable).parent / "bitbot")]


def free_port() -> int:
    """:return: a TCP port on 127.0.0.1 that is free now"""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def real_data_dir() -> Path:
    """:return: BITBOT_DATA, or ../shared/data/binance beside the repository"""
    return Path(os.environ.get("BITBOT_DATA") or SHARED_DATA)


def shipped_config(configs: tuple[str, ...] = ("config.json", "config.binance.json")) -> dict:
    """
    The configuration Freqtrade builds from shipped config files, with the strategies' folder.

    :param configs: files of ``user_data`` to merge
    :return: the configuration
    """
    from freqtrade.configuration import Configuration

    config = Configuration.from_files([str(REPO / "user_data" / c) for c in configs])
    config["strategy_path"] = str(REPO / "user_data" / "strategies")
    return config


META_LEARNER_LEVERS = (
    "decision_clock",
    "action_mode",
    "residual_base",
    "behaviour_cloning",
    "ensemble",
    "synthetic_pretraining",
    "predictors",
    "open_trade_returns",
)
"""Keys of ``freqai.rl_config`` that switch on one of the meta-learner's levers (issue 14)."""


def without_levers(config: dict) -> dict:
    """
    The meta-learner of ``config`` without its levers: a decision every candle, the target
    action mode, the log-return reward. A test of one lever starts from it, so that it tests
    that lever whatever the shipped default turns on.

    :param config: a configuration with a ``freqai.rl_config`` section (changed in place)
    :return: ``config``
    """
    rl_config = config["freqai"]["rl_config"]
    for key in META_LEARNER_LEVERS:
        rl_config.pop(key, None)
    rl_config["model_reward_parameters"] = {"reward": "log_return", "scale": 100.0}
    return config


def load_strategy(
    name: str,
    configs: tuple[str, ...] = ("config.json", "config.binance.json"),
    runmode: Any = None,
    plain_meta_learner: bool = False,
    **bitbot: Any,
) -> Any:
    """
    A strategy as Freqtrade loads it from the shipped configs.

    :param name: strategy class name (in ``user_data/strategies``)
    :param configs: files of ``user_data`` to merge
    :param runmode: Freqtrade ``RunMode`` to set (None: leave it out)
    :param plain_meta_learner: the meta-learner without its levers (:func:`without_levers`)
    :param bitbot: keys merged into the ``bitbot`` section
    :return: the strategy
    """
    from freqtrade.resolvers import StrategyResolver

    config = shipped_config(configs)
    if plain_meta_learner:
        without_levers(config)
    config["strategy"] = name
    if runmode is not None:
        config["runmode"] = runmode
    if bitbot:
        config["bitbot"] = {**config.get("bitbot", {}), **bitbot}
    return StrategyResolver.load_strategy(config)


def strategy_signals(strategy: Any, candles: Any, pair: str = "BTC/USDT:USDT") -> Any:
    """
    A strategy's indicators, entries and exits on candles, as a backtest computes them.

    :param strategy: a loaded strategy
    :param candles: OHLCV frame (not changed)
    :param pair: the pair in the metadata
    :return: the analysed frame
    """
    meta = {"pair": pair}
    df = strategy.advise_indicators(candles.copy(), meta)
    df = strategy.advise_entry(df, meta)
    return strategy.advise_exit(df, meta)


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


def run_freqai_backtest(
    tmp_path: Path,
    name: str,
    configs: list[str],
    strategy: str,
    timerange: str,
    results: Path,
    **run: object,
) -> subprocess.CompletedProcess:
    """
    Run a FreqAI walk-forward backtest with its own user directory (models and predictions stay
    in ``tmp_path``), the repository's strategies and FreqAI models.

    :return: the finished command
    """
    userdir = tmp_path / f"userdir-{name}"
    userdir.mkdir(exist_ok=True)
    return run_bitbot(
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
        **run,
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
    :func:`run_freqai_backtest`, and check that it succeeded and that every window was covered
    without a training error.

    :return: the command's output
    """
    out = run_freqai_backtest(tmp_path, name, configs, strategy, timerange, results, **run)
    assert out.returncode == 0, out.stdout[-5000:]
    assert "Training 2 timeranges" in out.stdout, "FreqAI must cover two walk-forward windows"
    assert "raised exception" not in out.stdout, out.stdout[-5000:]
    return out.stdout


class MarketDataProvider:
    """
    Stands in for Freqtrade's DataProvider in a backtest where a strategy reads the pair's
    funding-rate candles and its reference price (the spot pair's 1h candles, as on Binance).
    """

    runmode = RunMode.BACKTEST

    def __init__(self, datadir: Path, pair: str = "BTC/USDT:USDT") -> None:
        import pandas as pd

        from meta_strategy.data.reference import spot_pair

        self.pair = pair
        name = pair.replace("/", "_").replace(":", "_")
        self.funding = pd.read_feather(datadir / "futures" / f"{name}-1h-funding_rate.feather")
        self.spot_pair = spot_pair(pair)
        self.spot = pd.read_feather(datadir / f"{self.spot_pair.replace('/', '_')}-1h.feather")

    def current_whitelist(self) -> list[str]:
        return [self.pair]

    def get_pair_dataframe(self, pair: str, timeframe: str, candle_type: str = "") -> Any:
        if candle_type == "spot":
            assert (pair, timeframe) == (self.spot_pair, "1h"), (pair, timeframe)
            return self.spot
        assert (pair, timeframe, candle_type) == (self.pair, "1h", "funding_rate")
        return self.funding


def market_jumping_at(datadir: Path, dest: Path, when: Any, factor: float = 1.2) -> Path:
    """
    The walk-forward leakage tests' altered future: a copy of the data folder whose BTC
    perpetual prices are multiplied by ``factor`` from the candle at ``when`` on.

    :return: ``dest``
    """
    import shutil

    import pandas as pd

    shutil.copytree(datadir, dest)
    path = dest / "futures" / "BTC_USDT_USDT-1h-futures.feather"
    candles = pd.read_feather(path)
    later = candles["date"] >= when
    candles.loc[later, ["open", "high", "low", "close"]] *= factor
    candles.to_feather(path)
    return dest


def backtest_predictions(tmp_path: Path, identifier: str, windows: int = 2) -> Any:
    """
    :return: the predictions FreqAI saved in :func:`run_freqai_backtest`'s user directory, one
        row per candle of every window, indexed by date
    """
    import pandas as pd

    folder = tmp_path / f"userdir-{identifier}" / "models" / identifier
    files = sorted(folder.rglob("backtesting_predictions/*.feather"))
    assert len(files) == windows, files
    frame = pd.concat([pd.read_feather(f) for f in files], ignore_index=True)
    return frame.set_index("date").sort_index()
