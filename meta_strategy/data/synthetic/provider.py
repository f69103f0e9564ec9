"""
A generated market served as Freqtrade's data provider serves a backtest's files
(``get_pair_dataframe`` by candle type), so that a strategy's own feature code runs on it
unchanged: the synthetic pre-training of the meta-learner (:mod:`meta_strategy.rl.pretraining`)
computes the MetaStrategy's features this way. Nothing is written to disk.
"""

from __future__ import annotations

import pandas as pd
from freqtrade.enums import RunMode

from meta_strategy.data.synthetic.config import SyntheticMarket


class SyntheticMarketData:
    """
    The data-provider calls a registry-listening strategy makes, answered from one
    :class:`SyntheticMarket` whatever the pair's name (the market has one instrument).

    :ivar market: the generated market
    :ivar pair: the pair it stands for (the whitelist)
    """

    runmode = RunMode.BACKTEST

    def __init__(self, market: SyntheticMarket, pair: str) -> None:
        self.market = market
        self.pair = pair

    def current_whitelist(self) -> list[str]:
        """:return: the one pair"""
        return [self.pair]

    def get_pair_dataframe(
        self, pair: str, timeframe: str | None = None, candle_type: str = ""
    ) -> pd.DataFrame:
        """
        :param pair: ignored: the market has one instrument (its spot, index and mark prices)
        :param timeframe: the candles' timeframe (funding rates come per event whatever it is)
        :param candle_type: Freqtrade's candle type: ``futures`` (or empty), ``mark``,
            ``index``, ``spot`` or ``funding_rate``
        :return: the frame, as Freqtrade's files hold it
        :raises ValueError: an unknown candle type, or no timeframe for candles
        """
        if candle_type == "funding_rate":
            return self.market.funding.loc[:, ["date", "funding_rate"]].copy()
        if timeframe is None:
            raise ValueError(f"SyntheticMarketData: {candle_type or 'futures'} needs a timeframe")
        if candle_type in ("", "futures"):
            return self.market.candles_at(timeframe)
        if candle_type == "mark":
            return self.market.mark_at(timeframe)
        if candle_type == "index":
            return self.market.index_at(timeframe)
        if candle_type == "spot":
            return self.market.spot_at(timeframe)
        raise ValueError(
            f"SyntheticMarketData: unknown candle type {candle_type!r}; expected futures, mark, "
            "index, spot or funding_rate"
        )
