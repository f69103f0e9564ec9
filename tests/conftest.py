"""
Shared fixtures: the real data folder, its BTC candles, and the guard against tuned parameter
files. Helpers that are not fixtures live in :mod:`tests.helpers`.

Tiers: ``tests/unit`` runs in this process; ``tests/e2e`` runs Freqtrade end to end (``bitbot``
subprocesses, FreqAI walk-forwards, the replay bot) and is marked ``slow``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.freqtrade import REPO, real_data_dir


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


@pytest.fixture(scope="session")
def saves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny untrained stable-baselines3 save of every algorithm MetaPPO trains (read-only)."""
    from tests.helpers.model_files import tiny_saves

    return tiny_saves(tmp_path_factory.mktemp("sb3"))
