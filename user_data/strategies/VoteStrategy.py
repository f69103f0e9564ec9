"""
Vote baselines for the meta layer (no learning): the registered strategies' directions
(``user_data/strategies_registry.json``) combined by an equal-weight vote, by an equal-weight
portfolio (each strategy trades ``1/N`` of the stake), by a vote weighted with each strategy's
trailing performance, by following the strategy with the best trailing net return, re-chosen
monthly, or by the equal-weight portfolio of every strategy with a positive trailing net return,
re-chosen monthly (``meta_strategy.signals.votes``). They trade the same pair with
the same costs as the MetaStrategy, so the learned layer can be judged against them.
"""

import logging
from collections.abc import Callable
from typing import Any

from freqtrade.strategy import IntParameter
from pandas import DataFrame, Series

from meta_strategy.data.timeframes import days_to_candles
from meta_strategy.rl.costs import explicit_fee
from meta_strategy.signals.votes import (
    equal_vote,
    follow_the_leader,
    performance_weighted_vote,
    portfolio,
    winners_portfolio,
)
from meta_strategy.trading.exposure import EXPOSURE_TAG, TargetExposureStrategy


logger = logging.getLogger(__name__)


class EqualVoteStrategy(TargetExposureStrategy):
    """Holds the sign of the sum of the registered strategies' directions."""

    entry_tag_prefix = "vote"

    def directions(self, dataframe: DataFrame, pair: str, funding: Series | None) -> DataFrame:
        """:return: the registered strategies' directions, one column per entry"""
        signals = self.registry_signals(dataframe, pair, funding)
        return signals[[c for c in signals.columns if c.endswith("_direction")]]

    def vote(self, directions: DataFrame, dataframe: DataFrame, funding: Series) -> Any:
        """:return: the voted direction per candle"""
        return equal_vote(directions)

    def monthly_choice(
        self,
        choose: Callable[..., DataFrame],
        directions: DataFrame,
        dataframe: DataFrame,
        funding: Series,
        days: int,
    ) -> DataFrame:
        """
        :param choose: :func:`follow_the_leader` or :func:`winners_portfolio`
        :param days: the trailing window of their net returns
        :return: ``choose`` on the candles, with this config's cost per fill
        """
        window = days_to_candles(days, self.timeframe)
        fee = explicit_fee(self.config)
        return choose(directions, dataframe["close"], funding, dataframe["date"], fee, window)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        funding = self.funding_rates(dataframe, metadata["pair"])
        if funding is None:  # no data provider: no funding
            funding = Series(0.0, index=dataframe.index)
        directions = self.directions(dataframe, metadata["pair"], funding)
        dataframe["vote"] = self.vote(directions, dataframe, funding)
        dataframe[EXPOSURE_TAG] = dataframe["vote"]
        return dataframe


class PortfolioStrategy(EqualVoteStrategy):
    """
    Holds the mean of the registered strategies' directions: each trades ``1/N`` of the stake
    and the positions net out (``|exposure|`` of the stake, adjusted as the directions change).
    """

    entry_tag_prefix = "portfolio"
    size_by_exposure = True
    position_adjustment_enable = True
    max_entry_position_adjustment = -1

    def vote(self, directions: DataFrame, dataframe: DataFrame, funding: Series) -> Any:
        """:return: the portfolio's net exposure per candle"""
        return portfolio(directions)


class PerformanceVoteStrategy(EqualVoteStrategy):
    """Directions weighted by each strategy's trailing earnings (losers get no vote)."""

    vote_window = IntParameter(168, 2160, default=720, space="buy")

    def vote(self, directions: DataFrame, dataframe: DataFrame, funding: Series) -> Any:
        return performance_weighted_vote(directions, dataframe["close"], self.vote_window.value)


class FollowTheLeaderStrategy(EqualVoteStrategy):
    """
    Follows the registered strategy with the best net return (cost per fill, funding) over the
    trailing ``leader_days``, re-chosen at the first candle of each month; ``leader`` names the
    column followed (the registry's order, -1 while none).
    """

    leader_days = IntParameter(30, 180, default=90, space="buy")
    extra_warmup = 180 * 24 + 2  # the top of the range at 1h, and a position change

    def vote(self, directions: DataFrame, dataframe: DataFrame, funding: Series) -> Any:
        days = self.leader_days.value
        chosen = self.monthly_choice(follow_the_leader, directions, dataframe, funding, days)
        dataframe["leader"] = chosen["leader"]
        return chosen["vote"]


class WinnersPortfolioStrategy(PortfolioStrategy):
    """
    Holds the equal-weight portfolio of the registered strategies whose net return (cost per
    fill, funding) over the trailing ``winners_days`` is positive, re-chosen at the first candle
    of each month; ``winners`` counts them (flat while none).
    """

    entry_tag_prefix = "winners"
    winners_days = IntParameter(30, 180, default=90, space="buy")
    extra_warmup = 180 * 24 + 2  # the top of the range at 1h, and a position change

    def vote(self, directions: DataFrame, dataframe: DataFrame, funding: Series) -> Any:
        """:return: the winners' net exposure per candle"""
        days = self.winners_days.value
        chosen = self.monthly_choice(winners_portfolio, directions, dataframe, funding, days)
        dataframe["winners"] = chosen["winners"]
        return chosen["exposure"]
