"""Vote baselines: hand-computed votes, and the weighted vote uses only the past."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.signals.votes import (
    equal_vote,
    follow_the_leader,
    performance_weighted_vote,
    portfolio,
    trailing_earnings,
    winners_portfolio,
)
from tests.helpers.freqtrade import MarketDataProvider, load_strategy, strategy_signals


def test_equal_vote() -> None:
    d = pd.DataFrame({"a": [1, 1, -1, np.nan], "b": [1, -1, -1, 1], "c": [0, 0, 1, np.nan]})
    assert equal_vote(d).tolist() == [1, 0, -1, 1]


def test_portfolio_is_the_mean_direction() -> None:
    d = pd.DataFrame({"a": [1, 1, -1, np.nan], "b": [1, -1, -1, 1], "c": [0, 0, 1, np.nan]})
    assert portfolio(d).tolist() == pytest.approx([2 / 3, 0, -1 / 3, 1 / 3])  # unknown: flat


def test_weights_follow_trailing_earnings_by_hand() -> None:
    close = pd.Series([100.0, 110.0, 99.0, 99.0])
    d = pd.DataFrame({"long": [1, 1, 1, 1], "short": [-1, -1, -1, -1]})
    earned = trailing_earnings(d, close, window=2)
    r1, r2 = np.log(1.1), np.log(0.9)
    assert np.isnan(earned.loc[0, "long"])
    assert earned.loc[2, "long"] == pytest.approx(np.mean([r1, r2]))
    assert earned.loc[3, "short"] == pytest.approx(np.mean([-r2, 0.0]))
    # At candle 2 the long earned (r1 + r2)/2 < 0, the short > 0: the vote follows the short.
    assert performance_weighted_vote(d, close, window=2).tolist() == [0, 0, -1, -1]


def test_weighted_vote_uses_only_past_information() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))))
    d = pd.DataFrame(rng.choice([-1, 0, 1], size=(n, 4)), columns=list("abcd")).astype(float)
    full = performance_weighted_vote(d, close, window=200)
    for cut in (500, 1777, 2900):
        future_close = close.copy()
        future_close.iloc[cut + 1 :] *= rng.uniform(0.5, 2.0, n - cut - 1)
        future_dirs = d.copy()
        future_dirs.iloc[cut + 1 :] = -future_dirs.iloc[cut + 1 :]
        part = performance_weighted_vote(future_dirs, future_close, window=200)
        pd.testing.assert_series_equal(full.iloc[: cut + 1], part.iloc[: cut + 1])


def test_follow_the_leader_by_hand() -> None:
    """A rising market for 20 days, then falling: the long leads, then (monthly) the short."""
    dates = pd.Series(pd.date_range("2024-01-20", periods=24 * 45, freq="1h", tz="UTC"))
    up = np.r_[np.linspace(100, 130, 24 * 20), np.linspace(130, 90, 24 * 25)]
    close = pd.Series(up)
    d = pd.DataFrame({"flat": 0.0, "long": 1.0, "short": -1.0, "late": np.nan}, index=close.index)
    funding = pd.Series(0.0, index=close.index)
    chosen = follow_the_leader(d, close, funding, dates, fee=0.0005, window=24 * 5)
    feb, mar = (dates >= "2024-02-01").to_numpy(), (dates >= "2024-03-01").to_numpy()
    assert (chosen["leader"][~feb] == -1).all() and (chosen["vote"][~feb] == 0).all()
    # 1 February: the long made the most over the last five days (the short and flat did not)
    assert (chosen["leader"][feb & ~mar] == 1).all() and (chosen["vote"][feb & ~mar] == 1).all()
    # the market turned on 9 February, but the leader holds until 1 March: then the short
    assert mar.sum() == 24 * 4 and (chosen["leader"][mar] == 2).all()
    assert (chosen["vote"][mar] == -1).all()
    # ties go to the first column; never a strategy without a full window
    tie = follow_the_leader(d[["flat", "late"]], close, funding, dates, fee=0.0, window=24)
    assert set(tie["leader"][feb]) == {0}
    with pytest.raises(ValueError, match="window"):
        follow_the_leader(d, close, funding, dates, fee=0.0, window=0)


def test_winners_portfolio_by_hand() -> None:
    """The same market: in February the three strategies that made money in late January share
    the stake (one of them has turned short), in March the two that made money falling."""
    dates = pd.Series(pd.date_range("2024-01-20", periods=24 * 45, freq="1h", tz="UTC"))
    close = pd.Series(np.r_[np.linspace(100, 130, 24 * 20), np.linspace(130, 90, 24 * 25)])
    feb, mar = (dates >= "2024-02-01").to_numpy(), (dates >= "2024-03-01").to_numpy()
    turned = np.where(feb, -1.0, 1.0)  # long through January, short from 1 February
    d = pd.DataFrame(
        {"flat": 0.0, "long": 1.0, "long_too": 1.0, "turned": turned, "short": -1.0},
        index=close.index,
    )
    d["late"] = np.nan
    funding = pd.Series(0.0, index=close.index)
    chosen = winners_portfolio(d, close, funding, dates, fee=0.0005, window=24 * 5)
    assert (chosen["winners"][~feb] == 0).all() and (chosen["exposure"][~feb] == 0).all()
    january_winners = feb & ~mar  # long, long_too and turned (flat made nothing, late unknown)
    assert (chosen["winners"][january_winners] == 3).all()
    assert chosen["exposure"][january_winners].to_numpy() == pytest.approx(1 / 3)  # 1 + 1 - 1
    assert mar.sum() == 24 * 4 and (chosen["winners"][mar] == 2).all()  # turned and short
    assert (chosen["exposure"][mar] == -1).all()
    with pytest.raises(ValueError, match="window"):
        winners_portfolio(d, close, funding, dates, fee=0.0, window=0)


@pytest.mark.parametrize(
    ("choose", "column"), [(follow_the_leader, "leader"), (winners_portfolio, "winners")]
)
def test_monthly_choices_use_only_past_information(choose, column: str) -> None:
    rng = np.random.default_rng(9)
    n = 24 * 200
    dates = pd.Series(pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"))
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))))
    funding = pd.Series(np.where(np.arange(n) % 8 == 0, 1e-4, 0.0))
    daily = rng.choice([-1, 0, 1], size=(n // 24, 4)).repeat(24, axis=0)  # a day's position
    d = pd.DataFrame(daily, columns=list("abcd")).astype(float)
    full = choose(d, close, funding, dates, fee=0.0007, window=24 * 30)
    assert full[column].nunique() > 2, "the test must see the choice change"
    for cut in (24 * 45, 24 * 91 + 5, n - 10):
        future_close, future_dirs, future_funding = close.copy(), d.copy(), funding.copy()
        future_close.iloc[cut + 1 :] *= rng.uniform(0.5, 2.0, n - cut - 1)
        future_dirs.iloc[cut + 1 :] = -future_dirs.iloc[cut + 1 :]
        future_funding.iloc[cut + 1 :] = 5e-3
        part = choose(future_dirs, future_close, future_funding, dates, fee=0.0007, window=24 * 30)
        pd.testing.assert_frame_equal(full.iloc[: cut + 1], part.iloc[: cut + 1])


@pytest.mark.parametrize(
    "name",
    [
        "EqualVoteStrategy",
        "PortfolioStrategy",
        "PerformanceVoteStrategy",
        "FollowTheLeaderStrategy",
        "WinnersPortfolioStrategy",
    ],
)
def test_vote_strategies_trade_both_ways(
    name: str, btc_1h: pd.DataFrame, binance_datadir: Path
) -> None:
    strategy = load_strategy(name)
    strategy.dp = MarketDataProvider(binance_datadir)  # the funding_extremes entry reads it
    df = strategy_signals(strategy, btc_1h.iloc[-8000:].reset_index(drop=True))
    assert (df["enter_long"] == 1).sum() > 10 and (df["enter_short"] == 1).sum() > 10
    assert df["vote"].iloc[:200].eq(0).all(), "no vote before any strategy's lookback is covered"
