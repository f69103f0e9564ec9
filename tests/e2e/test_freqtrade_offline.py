"""
End to end, offline: ``bitbot <freqtrade subcommand>`` on real and synthetic data.

Every command runs in a subprocess exactly as a user types it, with no network: the markets
come from the snapshots in ``user_data/markets``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.data.synthetic.config import SyntheticMarketConfig
from meta_strategy.data.synthetic.files import write_freqtrade_data
from meta_strategy.data.synthetic.simulate import generate_market
from tests.helpers.freqtrade import BITBOT, REPO, free_port, run_bitbot


pytestmark = pytest.mark.slow

KRAKEN = ["-c", "user_data/config.json"]
BINANCE = ["-c", "user_data/config.json", "-c", "user_data/config.binance.json"]
KRAKEN_SNAPSHOT = {"BITBOT_MARKETS_SNAPSHOT": str(REPO / "user_data/markets/krakenfutures.json")}
POC = ["VolatilitySystem", "SupertrendStrategy", "OTTStrategy", "BbandRsi"]


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four months of the synthetic Kraken BTC/USD:USD market."""
    datadir = tmp_path_factory.mktemp("synthetic")
    market = generate_market(SyntheticMarketConfig(seed=7, start="2023-01-01", end="2023-05-01"))
    write_freqtrade_data(market, datadir, pair="BTC/USD:USD", timeframes=("5m", "1h"))
    return datadir


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


def test_backtesting_kraken_config_on_synthetic_data(synthetic_dir: Path, tmp_path: Path) -> None:
    out = _ok(
        run_bitbot(
            "backtesting",
            *KRAKEN,
            "--datadir",
            str(synthetic_dir),
            "--strategy-list",
            *POC,
            "--timerange",
            "20230201-20230501",
            "--backtest-directory",
            str(tmp_path),
            env=KRAKEN_SNAPSHOT,
            unset=("BITBOT_DATA",),
        )
    )
    assert "STRATEGY SUMMARY" in out
    for name in POC:
        assert name in out
    assert "Markets of krakenfutures from snapshot" in out


def test_backtesting_binance_overlay_on_real_data(binance_datadir: Path, tmp_path: Path) -> None:
    """Long and short trades, funding charged, the VolatilitySystem add-on used."""
    _ok(
        run_bitbot(
            "backtesting",
            *BINANCE,
            "--strategy-list",
            *POC,
            "--timerange",
            "20240101-20250101",
            "--backtest-directory",
            str(tmp_path),
            env={"BITBOT_DATA": str(binance_datadir)},
        )
    )
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    stats = load_backtest_stats(tmp_path / get_latest_backtest_filename(tmp_path))
    for name in POC:
        trades = stats["strategy"][name]["trades"]
        shorts = [t for t in trades if t["is_short"]]
        assert shorts and len(shorts) < len(trades), f"{name} must trade both directions"
        assert any(abs(t["funding_fees"]) > 0 for t in trades), f"{name}: no funding charged"
    vs = stats["strategy"]["VolatilitySystem"]["trades"]
    assert any(len(t["orders"]) >= 3 for t in vs), "VolatilitySystem never added to a position"


def test_hyperopt_offline_with_bitbot_loss(binance_datadir: Path, tmp_path: Path) -> None:
    out = _ok(
        run_bitbot(
            "hyperopt",
            *BINANCE,
            "--strategy",
            "BbandRsi",
            "--hyperopt-loss",
            "CalmarDrawdownLoss",
            "--hyperopt-path",
            "hyperopts",
            "--spaces",
            "buy",
            "--epochs",
            "3",
            "-j",
            "1",
            "--timerange",
            "20250101-20250401",
            "--random-state",
            "1",
            "--disable-param-export",
            env={"BITBOT_DATA": str(binance_datadir)},
        )
    )
    assert "Using optimizer loss CalmarDrawdownLoss" in out or "CalmarDrawdownLoss" in out
    assert "Best result:" in out, out[-3000:]


def test_list_data_and_plot_dataframe(binance_datadir: Path, tmp_path: Path) -> None:
    out = _ok(
        run_bitbot(
            "list-data", *BINANCE, "--datadir", str(binance_datadir), "--trading-mode", "futures"
        )
    )
    assert "BTC/USDT:USDT" in out
    plot_dir = tmp_path / "user_data"
    shutil.copytree(REPO / "user_data" / "strategies", plot_dir / "strategies")
    out = _ok(
        run_bitbot(
            "plot-dataframe",
            *BINANCE,
            "--userdir",
            str(plot_dir),
            "--datadir",
            str(binance_datadir),
            "-s",
            "OTTStrategy",
            "--timerange",
            "20250101-20250201",
            "--indicators1",
            "var",
            "ott",
            "--no-trades",
        )
    )
    assert list((plot_dir / "plot").glob("*.html")), out[-2000:]


def test_backtesting_analysis_reads_our_results(synthetic_dir: Path, tmp_path: Path) -> None:
    _ok(
        run_bitbot(
            "backtesting",
            *KRAKEN,
            "--datadir",
            str(synthetic_dir),
            "-s",
            "SupertrendStrategy",
            "--timerange",
            "20230201-20230501",
            "--backtest-directory",
            str(tmp_path),
            "--export",
            "signals",
            env=KRAKEN_SNAPSHOT,
        )
    )
    out = _ok(
        run_bitbot(
            "backtesting-analysis",
            *KRAKEN,
            "--backtest-directory",
            str(tmp_path),
            "--analysis-groups",
            "0",
            "1",
            env=KRAKEN_SNAPSHOT,
        )
    )
    assert "enter_reason" in out and "3x_supertrend_up" in out, out[-3000:]


def test_lookahead_and_recursive_analysis_commands(binance_datadir: Path, tmp_path: Path) -> None:
    csv = tmp_path / "lookahead.csv"
    out = _ok(
        run_bitbot(
            "lookahead-analysis",
            *BINANCE,
            "-s",
            "OTTStrategy",
            "--timerange",
            "20250101-20250601",
            "--lookahead-analysis-exportfilename",
            str(csv),
            "--backtest-directory",
            str(tmp_path),
            env={"BITBOT_DATA": str(binance_datadir)},
        )
    )
    table = pd.read_csv(csv)
    assert list(table["strategy"]) == ["OTTStrategy"], out[-3000:]
    assert table.loc[0, "total_signals"] >= 10
    assert not table["has_bias"].astype(bool).any(), out[-3000:]
    out = _ok(
        run_bitbot(
            "recursive-analysis",
            *BINANCE,
            "-s",
            "OTTStrategy",
            "--timerange",
            "20250101-20250301",
            "--startup-candle",
            "300",
            "600",
            env={"BITBOT_DATA": str(binance_datadir)},
        )
    )
    assert "Recursive Analysis" in out and "var" in out, out[-3000:]


def test_trade_dry_run_starts_offline(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    # The shipped config enables the REST API, which bitbot refuses to start without
    # credentials; on a free port, so that a bot running on 8080 does not get in the way.
    port = free_port()
    api = {
        "FREQTRADE__API_SERVER__USERNAME": "bitbot-test",
        "FREQTRADE__API_SERVER__PASSWORD": secrets.token_urlsafe(16),
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "FREQTRADE__API_SERVER__LISTEN_PORT": str(port),
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                *BITBOT,
                "trade",
                "--dry-run",
                *KRAKEN,
                "-s",
                "SupertrendStrategy",
                "--db-url",
                f"sqlite:///{tmp_path / 'trades.sqlite'}",
            ],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "400", **KRAKEN_SNAPSHOT, **api},
        )
        try:
            deadline = time.monotonic() + 120
            while "Changing state to: RUNNING" not in log.read_text():
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, (
                    "no RUNNING in 120 s: " + log.read_text()[-3000:]
                )
                time.sleep(1)
            # The endpoint of docker-compose.yml's healthcheck (the server runs in a thread).
            ping = f"http://127.0.0.1:{port}/api/v1/ping"
            for attempt in range(30):
                try:
                    with urllib.request.urlopen(ping, timeout=10) as response:
                        assert json.load(response) == {"status": "pong"}
                    break
                except OSError:
                    assert attempt < 29, "no API: " + log.read_text()[-3000:]
                    time.sleep(1)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    text = log.read_text()
    assert "Markets of krakenfutures from snapshot" in text
    assert "Dry run is enabled" in text


# --- bad input: a clear error naming the file and the problem ------------------------------


def _broken_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst / "futures" / "BTC_USD_USD-1h-futures.feather"


def _backtest(datadir: Path) -> subprocess.CompletedProcess:
    return run_bitbot(
        "backtesting",
        *KRAKEN,
        "--datadir",
        str(datadir),
        "-s",
        "BbandRsi",
        env=KRAKEN_SNAPSHOT,
        timeout=300,
    )


def test_missing_data_folder(tmp_path: Path) -> None:
    result = _backtest(tmp_path / "nowhere")
    assert result.returncode == 2
    assert f"Data folder {tmp_path / 'nowhere'} does not exist" in result.stdout


def test_corrupt_feather_file(synthetic_dir: Path, tmp_path: Path) -> None:
    path = _broken_copy(synthetic_dir, tmp_path / "d")
    path.write_bytes(b"this is not arrow" * 10)
    result = _backtest(tmp_path / "d")
    assert result.returncode == 2
    assert str(path) in result.stdout and "not a valid feather file" in result.stdout


def test_nan_candles(synthetic_dir: Path, tmp_path: Path) -> None:
    path = _broken_copy(synthetic_dir, tmp_path / "d")
    df = pd.read_feather(path)
    df.loc[100, "close"] = np.nan
    df.to_feather(path)
    result = _backtest(tmp_path / "d")
    assert result.returncode == 2
    assert str(path) in result.stdout and "NaN" in result.stdout
    assert str(df.loc[100, "date"].strftime("%Y-%m-%d %H:%M")) in result.stdout


def test_non_monotonic_candles(synthetic_dir: Path, tmp_path: Path) -> None:
    path = _broken_copy(synthetic_dir, tmp_path / "d")
    df = pd.read_feather(path)
    df.loc[[50, 51]] = df.loc[[51, 50]].to_numpy()
    df.to_feather(path)
    result = _backtest(tmp_path / "d")
    assert result.returncode == 2
    assert str(path) in result.stdout and "order" in result.stdout.lower()


def test_unknown_pair(synthetic_dir: Path) -> None:
    result = run_bitbot(
        "backtesting",
        *KRAKEN,
        "--datadir",
        str(synthetic_dir),
        "-s",
        "BbandRsi",
        "-p",
        "DOGE/USD:USD",
        env=KRAKEN_SNAPSHOT,
    )
    assert result.returncode == 2
    assert "Unknown pair DOGE/USD:USD on krakenfutures" in result.stdout
    assert "krakenfutures.json" in result.stdout


def test_missing_snapshot_while_offline(synthetic_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-snapshot.json"
    result = run_bitbot(
        "backtesting",
        *KRAKEN,
        "--datadir",
        str(synthetic_dir),
        "-s",
        "BbandRsi",
        env={"BITBOT_MARKETS_SNAPSHOT": str(missing)},
    )
    assert result.returncode == 2
    assert f"Markets snapshot {missing} not found" in result.stdout
    assert "bitbot markets snapshot --exchange krakenfutures" in result.stdout


def test_bad_leverage_config_value(synthetic_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "lev.json"
    config.write_text(json.dumps({"bitbot": {"leverage": 25}}))
    result = run_bitbot(
        "backtesting",
        *KRAKEN,
        "-c",
        str(config),
        "--datadir",
        str(synthetic_dir),
        "-s",
        "BbandRsi",
        "--timerange",
        "20230201-20230501",
        "--backtest-directory",
        str(tmp_path),
        env=KRAKEN_SNAPSHOT,
    )
    assert result.returncode == 2
    assert "bitbot.leverage is 25" in result.stdout
