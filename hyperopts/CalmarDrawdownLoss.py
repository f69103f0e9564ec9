"""
Calmar-style hyperopt loss with a drawdown penalty and a minimum trade count.

loss = -(CAGR / max(MDD, 1%)) + drawdown_penalty * max(0, MDD - drawdown_limit)
       + trade_penalty * max(0, min_trades - trades)

CAGR is computed from the starting balance and the summed absolute profit over the backtested
period; MDD is the maximum relative drawdown of the closed-trade equity curve (Young, 1991, for
the Calmar ratio). Lower is better, as Freqtrade minimises the loss. Settings can be changed in
the config under ``bitbot.hyperopt_loss``: ``min_trades`` (default 20), ``drawdown_limit``
(0.25), ``drawdown_penalty`` (10.0), ``trade_penalty`` (0.5).

Usage: ``bitbot hyperopt --hyperopt-loss CalmarDrawdownLoss --hyperopt-path hyperopts ...``
"""

import logging
from datetime import datetime
from typing import Any

import numpy as np
from freqtrade.optimize.hyperopt import IHyperOptLoss
from pandas import DataFrame


logger = logging.getLogger(__name__)

DEFAULTS = {
    "min_trades": 20,
    "drawdown_limit": 0.25,
    "drawdown_penalty": 10.0,
    "trade_penalty": 0.5,
}


def closed_trade_drawdown(profits: np.ndarray, starting_balance: float) -> float:
    """
    :param profits: absolute profit of each trade, in close order
    :param starting_balance: account balance before the first trade
    :return: maximum relative drawdown of the closed-trade equity curve (0 to 1)
    """
    equity = starting_balance + np.concatenate(([0.0], np.cumsum(profits)))
    peaks = np.maximum.accumulate(equity)
    return float(np.max((peaks - equity) / peaks))


class CalmarDrawdownLoss(IHyperOptLoss):
    """Calmar ratio with a drawdown penalty and a minimum number of trades."""

    @staticmethod
    def hyperopt_loss_function(
        *,
        results: DataFrame,
        trade_count: int,
        min_date: datetime,
        max_date: datetime,
        config: dict[str, Any],
        starting_balance: float,
        **kwargs: Any,
    ) -> float:
        """
        :param results: trades of the epoch (``profit_abs``, ``close_date``)
        :param trade_count: number of trades
        :param min_date: start of the backtest
        :param max_date: end of the backtest
        :param config: Freqtrade configuration (``bitbot.hyperopt_loss`` settings)
        :param starting_balance: wallet at the start
        :return: loss to minimise
        """
        settings = {**DEFAULTS, **((config.get("bitbot") or {}).get("hyperopt_loss") or {})}
        trade_shortfall = max(0, settings["min_trades"] - trade_count)
        if trade_count == 0:
            return 100.0 + settings["trade_penalty"] * trade_shortfall
        profits = results.sort_values("close_date")["profit_abs"].to_numpy(dtype=float)
        final = starting_balance + profits.sum()
        if final <= 0:  # a wiped-out account is never better than not trading
            return 101.0 + settings["trade_penalty"] * settings["min_trades"]
        years = max((max_date - min_date).total_seconds() / (365.25 * 86400), 1 / 365.25)
        cagr = (final / starting_balance) ** (1 / years) - 1
        drawdown = closed_trade_drawdown(profits, starting_balance)
        calmar = cagr / max(drawdown, 0.01)
        penalty = settings["drawdown_penalty"] * max(0.0, drawdown - settings["drawdown_limit"])
        return -calmar + penalty + settings["trade_penalty"] * trade_shortfall
