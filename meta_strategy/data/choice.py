"""
Which data the main backtest runs on (``make backtest`` / ``bitbot compare``, ``bitbot tune``,
``bitbot bias-check`` and ``bitbot report``), decided by :func:`resolve_backtest_data` in this
order:

1. ``$BITBOT_DATA`` (a Freqtrade data directory): the Binance BTC/USDT:USDT perpetual when it
   holds that pair, otherwise Kraken futures BTC/USD:USD;
2. ``user_data/data/krakenfutures`` when it holds BTC/USD:USD candles;
3. online: Kraken futures candles, mark and funding are downloaded with ``download-data``;
4. offline with no data: a deterministic SYNTHETIC market is generated (and said loudly).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from meta_strategy.data.candles import load_candles
from meta_strategy.data.files import candle_file
from meta_strategy.data.preflight import run_freqtrade_checked
from meta_strategy.data.synthetic.config import SyntheticMarketConfig
from meta_strategy.data.synthetic.files import write_freqtrade_data
from meta_strategy.data.synthetic.simulate import generate_market
from meta_strategy.freqtrade_bridge import config_args
from meta_strategy.paths import (
    BINANCE_OVERLAY,
    BINANCE_PAIR,
    DATA_DIR,
    ENV_DATADIR,
    KRAKEN_CONFIG,
    KRAKEN_PAIR,
    REAL_DATA_TIMERANGE,
    SYNTHETIC_DATA_DIR,
    USER_DATA,
    under_user_data,
)


logger = logging.getLogger(__name__)

SYNTHETIC_NOTICE = """
################################################################################
#  SYNTHETIC DATA: no real market data was found and the exchange is offline.  #
#  These results come from a generated market (meta_strategy.data.synthetic)   #
#  and say NOTHING about how the strategies trade real Bitcoin. Point          #
#  BITBOT_DATA at a Freqtrade data directory for real results.                 #
################################################################################
"""


@dataclass(frozen=True)
class DataChoice:
    """What the main backtest runs on."""

    configs: tuple[str, ...]
    datadir: Path
    pair: str
    timerange: str | None
    synthetic: bool
    description: str
    download: bool = False


def exchange_reachable(exchange: str = "krakenfutures", timeout_ms: int = 5000) -> bool:
    """
    :param exchange: ccxt exchange id
    :param timeout_ms: request timeout
    :return: True when the exchange answers a public request
    """
    import ccxt

    api = getattr(ccxt, exchange)({"timeout": timeout_ms})
    try:
        api.fetch_markets()
    except ccxt.NetworkError:
        return False
    except ccxt.BaseError:
        return True  # It answered, if not happily.
    return True


def resolve_backtest_data(
    env: dict[str, str] | None = None,
    user_data: Path = USER_DATA,
    is_online: Callable[[], bool] = exchange_reachable,
) -> DataChoice:
    """
    Decide the data of the main backtest (see the module docstring for the order).

    :param env: environment (``os.environ`` by default)
    :param user_data: Freqtrade's user_data directory
    :param is_online: probe for network access to Kraken futures
    :return: the choice
    """
    env = os.environ if env is None else env
    data = env.get(ENV_DATADIR)
    if data:
        datadir = Path(data)
        if candle_file(datadir, BINANCE_PAIR, "1h").is_file():
            return DataChoice(
                (KRAKEN_CONFIG, BINANCE_OVERLAY),
                datadir,
                BINANCE_PAIR,
                REAL_DATA_TIMERANGE,
                False,
                f"real Binance {BINANCE_PAIR} perpetual data from {datadir}",
            )
        return _kraken(datadir, f"Kraken futures {KRAKEN_PAIR} data from {datadir}")
    kraken_dir = under_user_data(DATA_DIR, user_data) / "krakenfutures"
    if candle_file(kraken_dir, KRAKEN_PAIR, "1h").is_file():
        return _kraken(kraken_dir, f"Kraken futures {KRAKEN_PAIR} data from {kraken_dir}")
    if is_online():
        return _kraken(
            kraken_dir, f"Kraken futures {KRAKEN_PAIR}, downloaded to {kraken_dir}", download=True
        )
    return _kraken(
        under_user_data(SYNTHETIC_DATA_DIR, user_data),
        "SYNTHETIC market (offline, no data found)",
        synthetic=True,
    )


def _kraken(
    datadir: Path, description: str, *, synthetic: bool = False, download: bool = False
) -> DataChoice:
    """:return: a choice of Kraken futures BTC/USD:USD with the live config"""
    return DataChoice(
        (KRAKEN_CONFIG,), datadir, KRAKEN_PAIR, None, synthetic, description, download=download
    )


def ensure_data(choice: DataChoice) -> None:
    """
    Download or generate the chosen data when it is not there yet.

    :param choice: the data choice
    """
    if choice.download:
        code = run_freqtrade_checked(
            [
                "download-data",
                *config_args(choice.configs),
                "--datadir",
                str(choice.datadir),
                "--timeframes",
                "1h",
                "--timerange",
                REAL_DATA_TIMERANGE,
                "--candle-types",
                "futures",
                "mark",
                "funding_rate",
                "index",  # the reference price of PerpSpotBasis (meta_strategy.data.reference)
            ]
        )
        if code != 0:
            raise RuntimeError(f"download-data failed with exit code {code}")
    elif choice.synthetic and not all(
        candle_file(choice.datadir, choice.pair, "1h", candle_type).is_file()
        for candle_type in ("futures", "index")  # a folder written before index candles
    ):
        print(SYNTHETIC_NOTICE)
        market = generate_market(SyntheticMarketConfig())
        write_freqtrade_data(market, choice.datadir, pair=choice.pair)


def trailing_timerange(choice: DataChoice, days: int) -> str:
    """
    :param choice: the data choice
    :param days: length of the period, counted back from the last day of the data
    :return: the period as a Freqtrade timerange (whole days)
    """
    last = load_candles(candle_file(choice.datadir, choice.pair, "1h"))["date"].iloc[-1]
    end = last.normalize()
    return f"{end - pd.Timedelta(days=days):%Y%m%d}-{end:%Y%m%d}"
