"""
Shared fixtures: the real data folder, its BTC candles, the synthetic market standing in for it,
and the guard against tuned parameter files. Helpers that are not fixtures live in
:mod:`tests.helpers`.

Data: ``binance_datadir`` / ``btc_1h`` are the real Binance perpetual and skip without
``../shared/data``. The no-look-ahead and walk-forward tests must prove something on any
checkout, so they use ``market_datadir`` (the real data when present, else the synthetic market)
or ``any_market_datadir`` / ``any_market_1h`` (both, the real one skipped when absent). The
synthetic market is written in the Binance layout (``BTC/USDT:USDT``) and covers the windows
the tests use (2024-09-01 to 2025-11-17).

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


SYNTHETIC_SPAN = ("2024-09-01", "2025-11-17")


@pytest.fixture(scope="session")
def synthetic_datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic market as a Binance BTC/USDT:USDT data folder (5m to 4h, mark, funding)."""
    from meta_strategy.data.synthetic.config import SyntheticMarketConfig
    from meta_strategy.data.synthetic.files import write_freqtrade_data
    from meta_strategy.data.synthetic.simulate import generate_market

    datadir = tmp_path_factory.mktemp("synthetic-binance")
    start, end = SYNTHETIC_SPAN
    market = generate_market(SyntheticMarketConfig(seed=11, start=start, end=end))
    write_freqtrade_data(market, datadir, pair="BTC/USDT:USDT")
    return datadir


@pytest.fixture(scope="session")
def market_datadir(synthetic_datadir: Path) -> Path:
    """The real Binance perpetual when ``../shared/data`` has it, else the synthetic market."""
    real = real_data_dir()
    if (real / "futures" / "BTC_USDT_USDT-1h-futures.feather").is_file():
        return real
    return synthetic_datadir


@pytest.fixture(scope="session", params=["real", "synthetic"])
def any_market_datadir(request: pytest.FixtureRequest, synthetic_datadir: Path) -> Path:
    """Each market in turn: the real one (skipped when absent), then the synthetic one."""
    if request.param == "real":
        return request.getfixturevalue("binance_datadir")
    return synthetic_datadir


@pytest.fixture(scope="session")
def any_market_1h(any_market_datadir: Path) -> pd.DataFrame:
    """1h candles of each market in turn (see ``any_market_datadir``)."""
    return pd.read_feather(any_market_datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather")


@pytest.fixture(scope="session")
def saves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny untrained stable-baselines3 save of every algorithm MetaPPO trains (read-only)."""
    from tests.helpers.model_files import tiny_saves

    return tiny_saves(tmp_path_factory.mktemp("sb3"))
