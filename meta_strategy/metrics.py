"""
Performance figures of an equity curve, and the buy-and-hold baseline of a perpetual.

Conventions (stated because every tool differs): returns are simple daily returns of the
account equity at each UTC day's close; Sharpe = mean / standard deviation (ddof 1) x sqrt(365);
Sortino = mean / downside deviation (root mean square of the negative returns, over all days)
x sqrt(365); maximum drawdown = largest fall from a running peak, as a fraction of the peak.
No risk-free rate. Crypto trades every day, hence 365.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


logger = logging.getLogger(__name__)

DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Performance:
    """Headline figures of one equity curve."""

    total_return: float
    sharpe: float
    sortino: float
    max_drawdown: float

    def row(self) -> str:
        """:return: the figures as one line"""
        return (
            f"return {self.total_return:+8.2%}  Sharpe {self.sharpe:6.2f}  "
            f"Sortino {self.sortino:6.2f}  max drawdown {self.max_drawdown:7.2%}"
        )


def performance(daily_equity: pd.Series) -> Performance:
    """
    :param daily_equity: account equity at each day's close, in order, starting value first
    :return: the figures
    """
    values = daily_equity.to_numpy(dtype=float)
    returns = values[1:] / values[:-1] - 1.0
    mean = returns.mean() if len(returns) else 0.0
    std = returns.std(ddof=1) if len(returns) > 1 else 0.0
    downside = math.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)) if len(returns) else 0.0
    peaks = np.maximum.accumulate(values)
    return Performance(
        total_return=values[-1] / values[0] - 1.0,
        sharpe=mean / std * math.sqrt(DAYS_PER_YEAR) if std > 0 else 0.0,
        sortino=mean / downside * math.sqrt(DAYS_PER_YEAR) if downside > 0 else 0.0,
        max_drawdown=float(np.max(1.0 - values / peaks)),
    )


def buy_and_hold_equity(
    candles: pd.DataFrame, funding: pd.DataFrame, start: str, end: str, fee: float = 0.0005
) -> tuple[pd.Series, float]:
    """
    Daily equity of 1x long the perpetual from ``start`` to ``end``: bought at the first
    candle's open, held (paying or receiving funding on its notional at each event), marked at
    each day's last close; entry and exit fees charged.

    :param candles: 1h candles (``date``, ``open``, ``close``)
    :param funding: funding events (``date``, ``funding_rate``)
    :param start: first day (inclusive), e.g. ``"2024-11-17"``
    :param end: last day (exclusive)
    :return: daily equity (starting at 1) and the funding paid (as a fraction of start equity)
    """
    window = candles[(candles["date"] >= start) & (candles["date"] < end)].reset_index(drop=True)
    entry = float(window["open"].iloc[0])
    quantity = (1.0 - fee) / entry  # the entry fee comes out of the starting equity of 1
    rates = funding.set_index("date")["funding_rate"]
    paid = window["date"].map(rates).fillna(0.0).to_numpy() * quantity * window["open"].to_numpy()
    equity = pd.Series(
        quantity * window["close"].to_numpy() - np.cumsum(paid), index=window["date"]
    )
    equity.iloc[-1] -= fee * quantity * float(window["close"].iloc[-1])  # exit fee
    daily = equity.resample("1D").last()
    start_day = daily.index[0] - pd.Timedelta(days=1)
    return pd.concat([pd.Series([1.0], index=[start_day]), daily]), float(paid.sum())


def strategy_summaries(stats: dict) -> list[str]:
    """
    :param stats: Freqtrade backtest statistics (``load_backtest_stats``)
    :return: one line per strategy: trades, daily-balance performance, fees and funding paid
        (as fractions of the starting balance)
    """
    rows = []
    for name, s in stats["strategy"].items():
        start = s["starting_balance"]
        days = pd.DataFrame(s["daily_profit"], columns=["date", "profit"])
        days["date"] = pd.to_datetime(days["date"], utc=True)
        equity = start + days.set_index("date")["profit"].cumsum()
        first_day = equity.index[0] - pd.Timedelta(days=1)
        equity = pd.concat([pd.Series([start], index=[first_day]), equity])
        trades = s["trades"]
        fees = sum(
            t["amount"] * (t["open_rate"] * t["fee_open"] + t["close_rate"] * t["fee_close"])
            for t in trades
        )
        funding = -sum(t["funding_fees"] for t in trades)
        shorts = sum(1 for t in trades if t["is_short"])
        rows.append(
            f"{name:<18} trades {len(trades):>4} ({len(trades) - shorts} long, {shorts} short)  "
            f"{performance(equity).row()}  fees paid {fees / start:6.2%}  "
            f"funding paid {funding / start:+7.3%}"
        )
    return rows


def buy_and_hold_summary(datadir: Path, pair: str, start: str, end: str, fee: float) -> str:
    """
    :param datadir: Freqtrade data directory with the pair's 1h futures and funding files
    :param pair: e.g. ``BTC/USDT:USDT``
    :param start: first day
    :param end: last day (exclusive)
    :param fee: fee per side
    :return: one line in the format of :func:`strategy_summaries`
    """
    from meta_strategy.data import candle_file, load_candles, load_funding

    candles = load_candles(candle_file(datadir, pair, "1h"))
    funding = load_funding(candle_file(datadir, pair, "1h", "funding_rate"))
    equity, paid = buy_and_hold_equity(candles, funding, start, end, fee=fee)
    return (
        f"{'buy-and-hold perp':<18} trades    1 (1 long, 0 short)  "
        f"{performance(equity).row()}  fees paid {2 * fee:6.2%}  funding paid {paid:+7.3%}"
    )
