"""
The main backtest (``make backtest`` / ``bitbot compare``): the POC strategies side by side.

Which data it runs on is decided by :func:`resolve_backtest_data`, in this order:

1. ``$BITBOT_DATA`` (a Freqtrade data directory): the Binance BTC/USDT:USDT perpetual when it
   holds that pair, otherwise Kraken futures BTC/USD:USD;
2. ``user_data/data/krakenfutures`` when it holds BTC/USD:USD candles;
3. online: Kraken futures candles, mark and funding are downloaded with ``download-data``;
4. offline with no data: a deterministic SYNTHETIC market is generated (and said loudly).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from meta_strategy.data import candle_file


logger = logging.getLogger(__name__)

POC_STRATEGIES = ("VolatilitySystem", "SupertrendStrategy", "OTTStrategy", "BbandRsi")
KRAKEN_CONFIG = "user_data/config.json"
BINANCE_OVERLAY = "user_data/config.binance.json"
FREQAI_OVERLAY = "user_data/config.freqai.json"
FEE = 0.0005  # the "fee" both configs set
KRAKEN_PAIR = "BTC/USD:USD"
BINANCE_PAIR = "BTC/USDT:USDT"
REAL_DATA_TIMERANGE = "20220101-"
RESULTS_DIR = Path("user_data/backtest_results/compare")
SYNTHETIC_NOTICE = """
################################################################################
#  SYNTHETIC DATA: no real market data was found and the exchange is offline.   #
#  These results come from a generated market (meta_strategy.synthetic) and     #
#  say NOTHING about how the strategies trade real Bitcoin. Point BITBOT_DATA   #
#  at a Freqtrade data directory for real results.                              #
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
    user_data: Path = Path("user_data"),
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
    data = env.get("BITBOT_DATA")
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
        return DataChoice(
            (KRAKEN_CONFIG,),
            datadir,
            KRAKEN_PAIR,
            None,
            False,
            f"Kraken futures {KRAKEN_PAIR} data from {datadir}",
        )
    kraken_dir = user_data / "data" / "krakenfutures"
    if candle_file(kraken_dir, KRAKEN_PAIR, "1h").is_file():
        return DataChoice(
            (KRAKEN_CONFIG,),
            kraken_dir,
            KRAKEN_PAIR,
            None,
            False,
            f"Kraken futures {KRAKEN_PAIR} data from {kraken_dir}",
        )
    if is_online():
        return DataChoice(
            (KRAKEN_CONFIG,),
            kraken_dir,
            KRAKEN_PAIR,
            None,
            False,
            f"Kraken futures {KRAKEN_PAIR}, downloaded to {kraken_dir}",
            download=True,
        )
    return DataChoice(
        (KRAKEN_CONFIG,),
        user_data / "data" / "synthetic",
        KRAKEN_PAIR,
        None,
        True,
        "SYNTHETIC market (offline, no data found)",
    )


def config_args(configs: Sequence[str]) -> list[str]:
    """:return: ``-c FILE`` for each config file, in order (Freqtrade merges them)"""
    return [arg for c in configs for arg in ("-c", c)]


def ensure_data(choice: DataChoice) -> None:
    """
    Download or generate the chosen data when it is not there yet.

    :param choice: the data choice
    """
    from meta_strategy.cli import run_freqtrade

    if choice.download:
        code = run_freqtrade(
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
            ]
        )
        if code != 0:
            raise RuntimeError(f"download-data failed with exit code {code}")
    elif choice.synthetic and not candle_file(choice.datadir, choice.pair, "1h").is_file():
        from meta_strategy.synthetic import (
            SyntheticMarketConfig,
            generate_market,
            write_freqtrade_data,
        )

        print(SYNTHETIC_NOTICE)
        market = generate_market(SyntheticMarketConfig())
        write_freqtrade_data(market, choice.datadir, pair=choice.pair)


def summarize_directions(results_dir: Path) -> dict[str, dict[str, int]]:
    """
    :param results_dir: Freqtrade's backtest results folder
    :return: ``{strategy: {"long": n, "short": n}}`` of the latest backtest
    """
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    stats = load_backtest_stats(results_dir / get_latest_backtest_filename(results_dir))
    out = {}
    for name, strat in stats["strategy"].items():
        trades = strat["trades"]
        shorts = sum(1 for t in trades if t["is_short"])
        out[name] = {"long": len(trades) - shorts, "short": shorts}
    return out


def compare_strategies(
    strategies: list[str] | None = None,
    timerange: str | None = None,
    extra_args: list[str] | None = None,
    meta: bool = True,
) -> int:
    """
    Backtest the POC strategies side by side with Freqtrade and print its comparison table;
    then, with ``meta``, the MetaStrategy (FreqAI walk-forward, MetaPPO) beside them over the
    last year of the data.

    :param strategies: strategy class names (the four POC strategies by default)
    :param timerange: Freqtrade timerange (default: 2022-01-01 to the end on real data)
    :param extra_args: further Freqtrade backtesting arguments
    :param meta: also run the MetaStrategy walk-forward comparison
    :return: exit code
    """
    from meta_strategy.cli import run_freqtrade

    choice = resolve_backtest_data()
    print(f"bitbot compare: {choice.description}")
    ensure_data(choice)
    names = list(strategies or POC_STRATEGIES)
    runs = [(RESULTS_DIR, list(choice.configs), names, timerange or choice.timerange)]
    if meta:
        runs.append(
            (
                RESULTS_DIR / "meta",
                [*choice.configs, FREQAI_OVERLAY],
                [*names, "MetaStrategy"],
                timerange or trailing_timerange(choice, 364),  # the last year,
            )
        )
    code = 0
    for results, configs, strategy_list, period in runs:
        results.mkdir(parents=True, exist_ok=True)
        argv = [
            "backtesting",
            *config_args(configs),
            "--datadir",
            str(choice.datadir),
            "--strategy-list",
            *strategy_list,
            "--export",
            "trades",
            "--backtest-directory",
            str(results),
        ]
        if period:
            argv += ["--timerange", period]
        if "MetaStrategy" in strategy_list:
            print(
                f"\nbitbot compare: MetaStrategy (FreqAI walk-forward, trained strictly before "
                f"each window) beside the POC strategies over {period}"
            )
        code = run_freqtrade(argv + (extra_args or []))
        if code != 0:
            break
        for name, counts in summarize_directions(results).items():
            print(
                f"{name:<20} long trades: {counts['long']:>5}   short trades: {counts['short']:>5}"
            )
        if "MetaStrategy" in strategy_list:
            print_out_of_sample_summary(results, choice.datadir, choice.pair)
    if choice.synthetic:
        print(SYNTHETIC_NOTICE)
    return code


def print_out_of_sample_summary(results: Path, datadir: Path, pair: str, fee: float = FEE) -> None:
    """
    Print daily-balance figures of every strategy of the latest backtest in ``results`` next to
    buy-and-hold of the perpetual over the same period.

    :param results: Freqtrade backtest results folder
    :param datadir: data directory with the pair's 1h futures and funding files
    :param pair: the traded pair
    :param fee: fee per side for buy-and-hold
    """
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    from meta_strategy.metrics import buy_and_hold_summary, strategy_summaries

    stats = load_backtest_stats(results / get_latest_backtest_filename(results))
    first = next(iter(stats["strategy"].values()))
    start, end = first["backtest_start"][:10], first["backtest_end"][:10]
    print(f"\nOut of sample {start} .. {end} (daily wallet balance, Sharpe/Sortino x sqrt(365))")
    for row in strategy_summaries(stats):
        print(row)
    print(buy_and_hold_summary(datadir, pair, start, end, fee))


def trailing_timerange(choice: DataChoice, days: int) -> str:
    """
    :param choice: the data choice
    :param days: length of the period, counted back from the last day of the data
    :return: the period as a Freqtrade timerange (whole days)
    """
    from meta_strategy.data import load_candles

    last = load_candles(candle_file(choice.datadir, choice.pair, "1h"))["date"].iloc[-1]
    end = last.normalize()
    return f"{end - pd.Timedelta(days=days):%Y%m%d}-{end:%Y%m%d}"


def bias_check(strategies: list[str] | None = None, timerange: str | None = None) -> int:
    """
    Look-ahead and recursive analysis of the POC strategies on the resolved data.

    :param strategies: strategy class names (the four POC strategies by default)
    :param timerange: period to analyse (default: the last months of the data)
    :return: exit code, 1 when any strategy shows bias
    """
    from meta_strategy.bias import run_bias_check
    from meta_strategy.data import DataError, validate_datadir

    choice = resolve_backtest_data()
    print(f"bitbot bias-check: {choice.description}")
    ensure_data(choice)
    try:
        validate_datadir(choice.datadir, [choice.pair], ["1h"], "futures")
    except DataError as e:
        print(f"bitbot: data error: {e}")
        return 2
    results = run_bias_check(
        list(strategies or POC_STRATEGIES),
        list(choice.configs),
        str(choice.datadir),
        timerange or trailing_timerange(choice, 120),  # four months,
    )
    for result in results:
        print(result.summary())
    if choice.synthetic:
        print(SYNTHETIC_NOTICE)
    return 0 if all(r.ok for r in results) else 1


def tune(
    strategy: str,
    epochs: int,
    spaces: list[str],
    loss: str,
    timerange: str | None = None,
    extra_args: list[str] | None = None,
    apply: bool = False,
) -> int:
    """
    Hyperopt one strategy on the resolved data with BitBot's loss functions.

    :param strategy: strategy class name
    :param epochs: hyperopt epochs
    :param spaces: hyperopt spaces
    :param loss: hyperopt loss class (Freqtrade's or one in ``hyperopts/``)
    :param timerange: period (default as the main backtest)
    :param extra_args: more Freqtrade arguments
    :param apply: write the best parameters next to the strategy (``<Strategy>.json``), where
        every later backtest and the bot pick them up. Off by default: parameters tuned on a
        period make backtests of that period in-sample.
    :return: exit code
    """
    from meta_strategy.cli import run_freqtrade

    choice = resolve_backtest_data()
    print(f"bitbot tune: {choice.description}")
    ensure_data(choice)
    argv = [
        "hyperopt",
        *config_args(choice.configs),
        "--datadir",
        str(choice.datadir),
        "--strategy",
        strategy,
        "--hyperopt-loss",
        loss,
        "--hyperopt-path",
        "hyperopts",
        "--epochs",
        str(epochs),
        "--spaces",
        *spaces,
        "-j",
        "1",
        # Indicators depend on the tuned parameters: recompute them every epoch.
        "--analyze-per-epoch",
        # A strategy may have no parameter in a space (VolatilitySystem has no sell space).
        "--ignore-missing-space",
    ]
    if timerange or choice.timerange:
        argv += ["--timerange", timerange or choice.timerange]
    if not apply:
        argv.append("--disable-param-export")
    code = run_freqtrade(argv + (extra_args or []))
    if code == 0 and not apply:
        print(
            f"Parameters were not applied to {strategy}. Re-run with --apply (make hyperopt "
            f"APPLY=1) to write user_data/strategies/{strategy}.json."
        )
    if choice.synthetic:
        print(SYNTHETIC_NOTICE)
    return code
