"""Mark-to-market equity from Freqtrade trades, buy-and-hold and the report's figures, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from meta_strategy.research.report.analysis import (
    RunFigures,
    add_deflated_sharpe,
    curve_metrics,
    winners,
)
from meta_strategy.research.report.build import close_timerange
from meta_strategy.research.report.equity import (
    EquityError,
    buy_and_hold_curve,
    equity_from_trades,
    flat_curve,
    liquidate,
    period_candles,
)


OPEN = [100.0, 101.0, 103.0, 102.0, 105.0, 104.0]
CLOSE = [101.0, 103.0, 102.0, 105.0, 104.0, 106.0]
START = pd.Timestamp("2024-01-01", tz="UTC")


def _candles(opens: list[float] = OPEN, closes: list[float] = CLOSE) -> pd.DataFrame:
    dates = pd.date_range(START, periods=len(opens), freq="1h")
    return pd.DataFrame(
        {
            "date": dates,
            "open": opens,
            "high": np.maximum(opens, closes),
            "low": np.minimum(opens, closes),
            "close": closes,
        }
    )


def _ms(i: int) -> int:
    return int((START + pd.Timedelta(hours=i)).timestamp() * 1000)


def _order(i: int, amount: float, price: float, entry: bool) -> dict:
    return {
        "amount": amount,
        "safe_price": price,
        "order_filled_timestamp": _ms(i),
        "ft_is_entry": entry,
    }


def _trade(
    open_i: int,
    close_i: int,
    short: bool,
    orders: list[dict],
    funding: float,
    profit: float,
    fee: float = 0.001,
) -> dict:
    return {
        "open_timestamp": _ms(open_i),
        "close_timestamp": _ms(close_i),
        "open_date": str(START + pd.Timedelta(hours=open_i)),
        "close_date": str(START + pd.Timedelta(hours=close_i)),
        "is_short": short,
        "fee_open": fee,
        "fee_close": fee,
        "orders": orders,
        "funding_fees": funding,
        "profit_abs": profit,
    }


def test_long_with_position_adjustment_marked_to_market() -> None:
    # 1 BTC at the open of candle 1 (101), 1 more at candle 2 (103), both sold at candle 4 (105);
    # fee 0.1 % a fill, 0.6 of funding paid over the trade's three hours.
    cash = -101 - 0.101 - 103 - 0.103 + 210 - 0.210
    trade = _trade(
        1,
        4,
        False,
        [_order(1, 1, 101, True), _order(2, 1, 103, True), _order(4, 2, 105, False)],
        funding=-0.6,
        profit=cash - 0.6,
    )
    curve = equity_from_trades([trade], _candles(), 1000.0)
    expected = [
        1000.0,
        1000 - 101.101 - 0.2 + 1 * 103,
        1000 - 101.101 - 103.103 - 0.4 + 2 * 102,
        1000 - 204.204 - 0.6 + 2 * 105,
        1000 + cash - 0.6,
        1000 + cash - 0.6,
    ]
    np.testing.assert_allclose(curve.equity.to_numpy(), expected, atol=1e-9)
    np.testing.assert_allclose(curve.position.to_numpy(), [0, 1, 2, 2, 0, 0])
    assert curve.fees.iloc[-1] == pytest.approx(0.101 + 0.103 + 0.210)
    assert curve.funding.iloc[-1] == pytest.approx(0.6)
    assert curve.exposure.iloc[2] == pytest.approx(2 * 102 / expected[2])


def test_short_receiving_funding_ends_at_profit_abs() -> None:
    # Short 1 BTC at 100 (candle 0), bought back at 103 (candle 2); 0.2 of funding received.
    cash = 100 - 0.1 - 103 - 0.103
    freqtrade_profit = cash + 0.2 + 1e-4  # Freqtrade's own rounding is what counts at the close
    trade = _trade(
        0,
        2,
        True,
        [_order(0, 1, 100, True), _order(2, 1, 103, False)],
        funding=0.2,
        profit=freqtrade_profit,
    )
    curve = equity_from_trades([trade], _candles(), 1000.0)
    np.testing.assert_allclose(
        curve.equity.to_numpy()[:3],
        [1000 + 99.9 + 0.1 - 101, 1000 + 99.9 + 0.2 - 103, 1000 + freqtrade_profit],
        atol=1e-9,
    )
    assert curve.equity.iloc[-1] == pytest.approx(1000 + freqtrade_profit)
    assert curve.funding.iloc[-1] == pytest.approx(-0.2)  # negative: received
    assert curve.position.iloc[1] == -1


def test_a_fill_off_the_candles_is_an_error() -> None:
    trade = _trade(1, 9, False, [_order(1, 1, 101, True), _order(9, 1, 100, False)], 0, 0)
    with pytest.raises(EquityError, match="is not a candle of the period"):
        equity_from_trades([trade], _candles(), 1000.0)


def test_period_candles_rejects_gaps() -> None:
    candles = _candles().drop(index=3)
    with pytest.raises(EquityError, match="gaps"):
        period_candles(candles, START, START + pd.Timedelta(hours=5))


def test_buy_and_hold_with_funding_and_its_btc_multiple() -> None:
    fee = 0.001
    rates = pd.Series([0.001], index=[START + pd.Timedelta(hours=1)])
    curve = buy_and_hold_curve(_candles(), rates, 1000.0, fee)
    quantity = 1000 * (1 - fee) / 100
    paid = 0.001 * quantity * 101
    assert curve.equity.iloc[0] == pytest.approx(quantity * 101)
    assert curve.equity.iloc[1] == pytest.approx(quantity * 103 - paid)
    end = quantity * 106 - paid - fee * quantity * 106
    assert curve.equity.iloc[-1] == pytest.approx(end)
    metrics, _, _ = curve_metrics(curve, None, pd.Series(dtype=object))
    # BTC multiple: BTC worth at the end per BTC at the start (start valued at the first open)
    assert metrics["btc_multiple"] == pytest.approx((end / 106) / (1000 / 100))
    assert metrics["funding_paid"] == pytest.approx(paid / 1000)
    assert metrics["fees_paid"] == pytest.approx((1000 * fee + fee * quantity * 106) / 1000)


def test_free_buy_and_hold_keeps_exactly_one_btc_per_btc() -> None:
    curve = buy_and_hold_curve(_candles(), pd.Series(dtype=float), 1000.0, 0.0)
    metrics, _, _ = curve_metrics(curve, None, pd.Series(dtype=object))
    assert metrics["btc_multiple"] == pytest.approx(1.0)
    assert metrics["time_in_market"] == 1.0


def _daily_curve(values: list[float]) -> object:
    """A flat-position curve whose equity at each day's last hour is ``values``."""
    days = pd.date_range("2023-12-30", periods=len(values), freq="1D", tz="UTC")
    hours = pd.date_range(days[0], periods=24 * len(values), freq="1h")
    equity = np.repeat(values, 24).astype(float)
    candles = pd.DataFrame({"date": hours, "open": 100.0, "close": 100.0})
    curve = flat_curve(candles, 1000.0)
    return type(curve)(
        equity=pd.Series(equity, index=hours),
        position=curve.position,
        close=curve.close,
        fees=curve.fees,
        funding=curve.funding,
        start_value=1000.0,
        start_price=100.0,
    )


def test_curve_metrics_by_hand_and_per_year_and_regime() -> None:
    values = [1100.0, 990.0, 1089.0, 1200.0]  # 2023-12-30, 31, 2024-01-01, 02
    curve = _daily_curve(values)
    regimes = pd.Series(
        ["bull", "bear", "bear", "sideways"],
        index=pd.date_range("2023-12-30", periods=4, freq="1D", tz="UTC"),
    )
    trades = [{"profit_abs": 100.0, "is_short": False}, {"profit_abs": -50.0, "is_short": True}]
    metrics, by_year, by_regime = curve_metrics(curve, trades, regimes)
    returns = np.array([0.1, -0.1, 0.1, 1200 / 1089 - 1])
    assert metrics["total_return"] == pytest.approx(0.2)
    assert metrics["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(365))
    assert metrics["max_drawdown"] == pytest.approx(0.1)
    assert metrics["profit_factor"] == pytest.approx(2.0)
    assert metrics["win_rate"] == pytest.approx(0.5)
    assert (metrics["long_trades"], metrics["short_trades"]) == (1, 1)
    # Last hour at the 1100 peak: 12-30 23:00; back above it: 01-02 00:00.
    assert metrics["max_drawdown_days"] == pytest.approx(2 + 1 / 24)
    assert by_year["2023"]["return"] == pytest.approx(1.1 * 0.9 - 1)
    assert by_year["2024"]["return"] == pytest.approx(1200 / 990 - 1)
    # A day's return goes to the previous day's label: 12-31 bull, 01-01 and 01-02 bear.
    assert by_regime["bull"]["return"] == pytest.approx(-0.1)
    assert by_regime["bear"]["return"] == pytest.approx(1.1 * 1200 / 1089 - 1)
    assert by_regime["unknown"]["days"] == 1  # 12-30: no label the day before
    low, high = metrics["sharpe_ci_low"], metrics["sharpe_ci_high"]
    assert low <= high


def test_deflated_sharpe_falls_with_the_configurations_recorded() -> None:
    rng = np.random.default_rng(0)
    runs = [RunFigures(n, "meta", n) for n in ("a", "b", "c", "flat")]
    returns = {n: pd.Series(rng.normal(0.001, 0.02, 300)) for n in ("a", "b", "c")}
    returns["flat"] = pd.Series(np.zeros(300))
    assert add_deflated_sharpe(runs, returns, trials=3) > 0
    few = [r.metrics["deflated_sharpe"] for r in runs[:3]]
    assert all(0 <= d <= 1 for d in few)
    assert runs[3].metrics["deflated_sharpe"] is None
    add_deflated_sharpe(runs, returns, trials=300)
    assert all(r.metrics["deflated_sharpe"] < d for r, d in zip(runs, few, strict=False))


def test_winners_names_the_best_and_says_when_meta_lost() -> None:
    def fig(name: str, group: str, sharpe: float, ret: float) -> RunFigures:
        cell = {
            "return": ret,
            "sharpe": sharpe,
            "sharpe_ci_low": sharpe - 1,
            "sharpe_ci_high": sharpe + 1,
            "days": 365,
        }
        return RunFigures(name, group, name.upper(), by_year={"2024": cell})

    runs = [
        fig("meta-ppo-s1", "meta", 0.5, 0.05),
        fig("meta-ppo-s2", "meta", 1.5, 0.05),
        fig("buy_and_hold", "baseline", 1.2, 0.6),
        fig("OTTStrategy", "strategy", 0.9, 0.3),
    ]
    w = winners(runs, "by_year")["2024"]
    assert w["winner"] == "META-PPO-S2"
    assert w["best_meta"] == "META-PPO-S2" and w["best_meta_of"] == 2
    assert w["best_meta_ci"] == [0.5, 2.5]
    # the verdict uses the mean over seeds (1.0), not the best seed (1.5)
    assert w["meta_mean_sharpe"] == pytest.approx(1.0)
    assert w["meta_beat_buy_and_hold"] is False


def test_close_timerange() -> None:
    first = pd.Timestamp("2019-09-08 17:00", tz="UTC")
    last = pd.Timestamp("2025-11-16 23:00", tz="UTC")
    assert close_timerange("20210101-", first, last, 240) == "20210101-20251116"
    assert close_timerange("20240101-20240301", first, last, 240) == "20240101-20240301"
    assert close_timerange("20240101-20270101", first, last, 240) == "20240101-20251116"
    said = []
    assert close_timerange("20190101-", first, last, 240, log=said.append) == "20200506-20251116"
    assert "starts 2020-05-06" in said[0]  # 240 days after the first whole day
    with pytest.raises(ValueError, match="needs a start"):
        close_timerange("-20240101", first, last, 240)
    with pytest.raises(ValueError, match="leaves no period"):
        close_timerange("20251201-", first, last, 240)
    with pytest.raises(ValueError, match=r"end of the data \(2025-11-16\); download newer"):
        close_timerange("20251117-", first, last, 240)  # the fresh period on today's data


def test_liquidation_wipes_the_account_at_the_maintenance_margin() -> None:
    # 2 BTC long at 100 on 100 of equity (2x). Marked at a low L the equity is 2 L - 100, the
    # maintenance requirement 1 % x 2 x L: breached when L <= 100 / 1.98 = 50.5.
    candles = _candles([100.0] * 4, [100.0] * 4)
    candles["low"] = [100.0, 99.0, 50.0, 100.0]
    trade = _trade(
        0,
        3,
        False,
        [_order(0, 2, 100, True), _order(3, 2, 100, False)],
        funding=0.0,
        profit=0.0,
        fee=0.0,
    )
    curve = equity_from_trades([trade], candles, 100.0)
    assert curve.equity.iloc[-1] == pytest.approx(100.0)  # Freqtrade never liquidated it
    wiped = liquidate(curve, candles, 0.01)
    assert wiped.liquidated_at == candles["date"].iloc[2]
    assert wiped.equity.tolist() == [100.0, 100.0, 0.0, 0.0]
    assert wiped.position.tolist() == [2.0, 2.0, 0.0, 0.0]
    metrics, _, _ = curve_metrics(wiped, [trade], pd.Series(dtype=object))
    assert metrics["total_return"] == -1.0 and metrics["max_drawdown"] == 1.0
    assert metrics["liquidated_at"] == str(candles["date"].iloc[2])
    candles["low"] = [100.0, 99.0, 51.0, 100.0]  # 2 x 51 - 100 = 2 > 1.02: survives
    assert liquidate(curve, candles, 0.01).liquidated_at is None


def test_buy_and_hold_paying_more_funding_than_it_holds_is_liquidated() -> None:
    rates = pd.Series([0.5], index=[START + pd.Timedelta(hours=2)])  # 50 % of notional at once
    curve = buy_and_hold_curve(_candles(), rates, 1000.0, 0.0)
    candles = _candles()
    assert curve.equity.iloc[2] < 1000 * 0.6  # paid half the notional
    assert liquidate(curve, candles, 0.01).liquidated_at is None  # still above the margin
    rates = pd.Series([1.2], index=[START + pd.Timedelta(hours=2)])
    curve = buy_and_hold_curve(candles, rates, 1000.0, 0.0)
    assert liquidate(curve, candles, 0.01).liquidated_at == candles["date"].iloc[2]


def test_compare_uses_the_reports_convention() -> None:
    """``bitbot compare``'s summary is the report's hourly mark-to-market figures, not Freqtrade's
    closed-trade daily balance: a long held across days shows its open drawdown."""
    from meta_strategy.research.metrics import performance, strategy_summaries

    hours = 24 * 4
    opens = [
        100.0 + (10 if 30 <= i < 60 else 0) - (20 if 60 <= i < 80 else 0) for i in range(hours)
    ]
    candles = _candles(opens, opens)
    trade = _trade(
        1,
        90,
        False,
        [_order(1, 1.0, 100.0, True), _order(90, 1.0, 100.0, False)],
        funding=0.0,
        profit=-0.2,
        fee=0.001,
    )
    trade.update(is_short=False)
    stats = {
        "strategy": {
            "S": {
                "starting_balance": 1000.0,
                "backtest_start": str(START),
                "backtest_end": str(START + pd.Timedelta(hours=hours - 1)),
                "trades": [trade],
            }
        }
    }
    (row,) = strategy_summaries(stats, candles)
    curve = equity_from_trades([trade], candles, 1000.0)
    expected = performance(curve.daily())
    assert f"max drawdown {expected.max_drawdown:7.2%}" in row
    assert expected.max_drawdown > 0.015, "the open loss of the held long counts"
    assert f"Sharpe {expected.sharpe:6.2f}" in row


def test_the_four_market_regimes_beside_bull_bear_and_sideways() -> None:
    curve = _daily_curve([1100.0, 990.0, 1089.0, 1200.0])  # 2023-12-30 .. 2024-01-02
    days = pd.date_range("2023-12-30", periods=4, freq="1D", tz="UTC")
    regimes = pd.DataFrame(
        {
            "trend": ["bull", "bear", "bear", "sideways"],
            "market": ["ranging", "trending", "trending", "volatile"],
        },
        index=days,
    )
    _, _, by_regime = curve_metrics(curve, None, regimes)
    # the previous day's label: 12-31 ranging, 01-01 and 01-02 trending
    assert by_regime["ranging"]["return"] == pytest.approx(-0.1)
    assert by_regime["trending"]["return"] == pytest.approx(1.1 * 1200 / 1089 - 1)
    assert by_regime["bull"]["return"] == pytest.approx(-0.1)
    assert "volatile" not in by_regime  # 01-02's label counts from 01-03 on


def test_daily_regimes_of_hourly_candles() -> None:
    from meta_strategy.research.report.analysis import daily_regimes
    from meta_strategy.signals.regimes import REGIMES

    rng = np.random.default_rng(4)
    dates = pd.date_range("2024-01-01", periods=24 * 200, freq="1h", tz="UTC")
    close = 40_000 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates))))
    table = daily_regimes(pd.DataFrame({"date": dates, "close": close}))
    assert list(table.columns) == ["trend", "market"] and len(table) == 200
    assert (
        set(table["market"].dropna()) <= set(REGIMES) and table["market"].iloc[-100:].notna().all()
    )
    assert table["market"].iloc[:90].isna().all()  # a week ranked over 90 days first


def test_make_backtest_compares_the_meta_strategy_with_each_part_on_the_same_days() -> None:
    from meta_strategy.research.compare import paired_lines
    from meta_strategy.research.metrics import sharpe_difference, strategy_curves

    hours = 24 * 30
    rng = np.random.default_rng(0)
    prices = list(100.0 * np.exp(np.cumsum(rng.normal(0.0005, 0.01, hours))))
    candles = _candles(prices, prices)

    def held(open_i: int, close_i: int) -> dict:
        orders = [
            _order(open_i, 5.0, prices[open_i], True),
            _order(close_i, 5.0, prices[close_i], False),
        ]
        trade = _trade(open_i, close_i, False, orders, funding=0.0, profit=0.0, fee=0.0)
        return {**trade, "is_short": False}

    def strategy(trades: list[dict]) -> dict:
        return {
            "starting_balance": 1000.0,
            "backtest_start": str(START),
            "backtest_end": str(START + pd.Timedelta(hours=hours - 1)),
            "trades": trades,
        }

    stats = {
        "strategy": {
            "VolatilitySystem": strategy([held(1, hours - 2)]),
            "MetaStrategy": strategy([held(1, 300), held(400, hours - 2)]),  # stands aside a while
        }
    }
    hold = pd.Series(np.r_[1.0, np.linspace(1.0, 1.2, 30)])
    hold.index = pd.date_range(START - pd.Timedelta(days=1), periods=31, freq="1D")
    heading, vs, hold_line = paired_lines(stats, candles, hold)
    assert "MetaStrategy's Sharpe minus each, on the same days" in heading
    curves = strategy_curves(stats, candles)
    expected = sharpe_difference(
        curves["MetaStrategy"].daily_returns().to_numpy(),
        curves["VolatilitySystem"].daily_returns().to_numpy(),
        365,
        block=5,
        samples=2000,
    )
    assert vs.split()[:4] == [
        "VolatilitySystem",
        f"{expected.difference:+.2f}",
        f"[{expected.ci_low:+.2f},",
        f"{expected.ci_high:+.2f}]",
    ]
    assert vs.split()[-1] in ("above", "below", "undecided")
    assert hold_line.split()[0] == "buy-and-hold"
    assert paired_lines(stats, candles, None)[1:] == [vs], "without buy-and-hold: the parts only"
