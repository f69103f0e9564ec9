"""
The main backtest (``make backtest`` / ``bitbot compare``): the POC strategies side by side on
the data :func:`~meta_strategy.data.choice.resolve_backtest_data` picks, then the MetaStrategy
walk-forward beside them over the last year; after each, every strategy and buy-and-hold in the
research report's convention (hourly mark-to-market equity, the same cost per fill), and the
MetaStrategy's Sharpe minus each of theirs on the same days (:func:`paired_lines`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from meta_strategy.data.candles import align_funding, load_candles, load_funding
from meta_strategy.data.choice import (
    SYNTHETIC_NOTICE,
    ensure_data,
    resolve_backtest_data,
    trailing_timerange,
)
from meta_strategy.data.files import candle_file
from meta_strategy.data.preflight import run_freqtrade_checked
from meta_strategy.freqtrade_bridge import config_args
from meta_strategy.paths import FREQAI_OVERLAY, RESULTS_DIR, SIGNAL_STRATEGIES
from meta_strategy.research.entries import entry_directions, entry_summaries
from meta_strategy.research.metrics import (
    buy_and_hold_equity,
    buy_and_hold_summary,
    strategy_curves,
    strategy_summaries,
)
from meta_strategy.research.report.paired import daily_returns_of, daily_sharpe_difference
from meta_strategy.research.report.runs import merged_cost_per_fill


logger = logging.getLogger(__name__)

META_STRATEGY = "MetaStrategy"


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
    overlays: list[str] | None = None,
) -> int:
    """
    Backtest the registry's strategies side by side with Freqtrade and print its comparison table;
    then, with ``meta``, the MetaStrategy (FreqAI walk-forward, MetaPPO) beside them over the
    last year of the data.

    :param strategies: strategy class names (every class of the registry by default)
    :param timerange: Freqtrade timerange (default: 2022-01-01 to the end on real data)
    :param extra_args: further Freqtrade backtesting arguments
    :param meta: also run the MetaStrategy walk-forward comparison
    :param overlays: config files merged over the data's configs for every run
    :return: exit code
    """
    choice = resolve_backtest_data()
    print(f"bitbot compare: {choice.description}")
    ensure_data(choice)
    names = list(strategies or SIGNAL_STRATEGIES)
    configs = [*choice.configs, *(overlays or [])]
    runs = [(RESULTS_DIR, configs, names, timerange or choice.timerange)]
    if meta:
        runs.append(
            (
                RESULTS_DIR / "meta",
                [*choice.configs, FREQAI_OVERLAY, *(overlays or [])],
                [*names, META_STRATEGY],
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
        if META_STRATEGY in strategy_list:
            print(
                f"\nbitbot compare: MetaStrategy (FreqAI walk-forward, trained strictly before "
                f"each window) beside the registry's strategies over {period}"
            )
        code = run_freqtrade_checked(argv + (extra_args or []))
        if code != 0:
            break
        for name, counts in summarize_directions(results).items():
            print(
                f"{name:<20} long trades: {counts['long']:>5}   short trades: {counts['short']:>5}"
            )
        fee = merged_cost_per_fill(tuple(configs))
        start, end = print_out_of_sample_summary(results, choice.datadir, choice.pair, fee)
        if META_STRATEGY not in strategy_list:
            print_entry_summaries(configs, choice.datadir, choice.pair, fee, start, end)
    if choice.synthetic:
        print(SYNTHETIC_NOTICE)
    return code


def print_out_of_sample_summary(
    results: Path, datadir: Path, pair: str, fee: float
) -> tuple[str, str]:
    """
    Print the figures of every strategy of the latest backtest in ``results`` next to
    buy-and-hold of the perpetual over the same period, in the research report's convention.

    :param results: Freqtrade backtest results folder
    :param datadir: data directory with the pair's 1h futures and funding files
    :param pair: the traded pair
    :param fee: cost per fill (fee + slippage, what every strategy paid) for buy-and-hold
    :return: the backtest's first and last day
    """
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    stats = load_backtest_stats(results / get_latest_backtest_filename(results))
    first = next(iter(stats["strategy"].values()))
    start, end = first["backtest_start"][:10], first["backtest_end"][:10]
    print(
        f"\nBitBot's convention, {start} .. {end}: hourly mark-to-market equity, daily returns, "
        f"Sharpe / Sortino x sqrt(365); every row pays {fee:.4%} per fill (fee + slippage). "
        "Freqtrade's table above counts closed trades only."
    )
    candles = load_candles(candle_file(datadir, pair, "1h"))
    for row in strategy_summaries(stats, candles):
        print(row)
    print(buy_and_hold_summary(datadir, pair, start, end, fee))
    if META_STRATEGY in stats["strategy"]:
        funding = load_funding(candle_file(datadir, pair, "1h", "funding_rate"))
        hold, _ = buy_and_hold_equity(candles, funding, start, end, fee=fee)
        for line in paired_lines(stats, candles, hold):
            print(line)
    return start, end


def paired_lines(
    stats: dict, candles: pd.DataFrame, hold_equity: pd.Series | None, subject: str = META_STRATEGY
) -> list[str]:
    """
    The subject (the MetaStrategy) against each of its parts and buy-and-hold on the same days:
    its Sharpe minus theirs with the paired stationary-bootstrap interval of the research report
    (:func:`~meta_strategy.research.metrics.sharpe_difference`, the report's blocks and samples).
    Their separate intervals overlap whatever the gap; this one says whether it is one.

    :param stats: Freqtrade backtest statistics with the subject among the strategies
    :param candles: the pair's 1h candles covering the backtest
    :param hold_equity: buy-and-hold's daily equity (:func:`buy_and_hold_equity`), or None
    :param subject: the strategy compared with the others
    :return: a heading and one line per other strategy (and buy-and-hold)
    """
    returns = {name: c.daily_returns() for name, c in strategy_curves(stats, candles).items()}
    if hold_equity is not None:
        returns |= daily_returns_of(hold_equity.to_frame("buy-and-hold perp"))
    mine = returns.pop(subject)
    lines = [
        f"\n{subject}'s Sharpe minus each, on the same days, with the paired 95 % interval "
        "(above / below: the interval excludes 0):"
    ]
    for name, theirs in returns.items():
        paired = daily_sharpe_difference(mine, theirs)
        lines.append(
            f"  {name:<18} {paired.difference:+6.2f} [{paired.ci_low:+.2f}, "
            f"{paired.ci_high:+.2f}]  {paired.verdict}"
        )
    return lines


def print_entry_summaries(
    configs: list[str], datadir: Path, pair: str, fee: float, start: str, end: str
) -> None:
    """
    Print every registry entry's own line (:mod:`~meta_strategy.research.entries`): each at its
    own timeframe, as the meta layer hears it.

    :param configs: the backtest's config files
    :param datadir: data directory with the pair's 1h futures and funding files
    :param pair: the traded pair
    :param fee: cost per fill
    :param start: first day
    :param end: end of the period (exclusive)
    """
    from freqtrade.configuration import Configuration

    config = Configuration.from_files(list(configs))
    candles = load_candles(candle_file(datadir, pair, "1h"))
    candles = candles[candles["date"] < end].reset_index(drop=True)
    funding = load_funding(candle_file(datadir, pair, "1h", "funding_rate"))
    rates = align_funding(candles["date"], funding)
    print(
        f"\nThe registry's entries, {start} .. {end}, each followed at its own timeframe as the "
        f"meta layer hears it (its direction, {fee:.4%} per fill and funding; no ROI, stoploss "
        "or order mechanics):"
    )
    for row in entry_summaries(
        entry_directions(config, candles, rates, pair, datadir), candles, rates, fee, start, end
    ):
        print(row)
