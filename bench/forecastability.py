"""
Do all of the meta layer's inputs together forecast the next day out of sample?

``bench/signal_information.py`` asks it of each input alone; this asks it of the best a model can
do with all of them (``--candidates`` adds the ones the agent does not see today). At each day's
last 1h candle, two outcomes over the next ``--hours``: the net log return of following the
residual base (``--base``, the Volatility System) and BTC's log return. Walk-forward: at the start
of each month of ``--start`` .. ``--end``, a ridge regression (on z-scores of the training rows)
and a small LightGBM are fitted on every decision since ``--train-from`` whose outcome was known
by then (its horizon closed before the month began), and forecast the month's decisions.

Printed per outcome and model: the out-of-sample information coefficient (rank correlation of
the forecasts with what followed) with its 95 % interval (bootstrap of 20-day blocks) and each
calendar year's, and what trading on the forecast makes, net of the fees of each change of
position: for following the base, the base held only while the forecast is above 0 (a veto)
against the base held always; for BTC, long or short by the forecast's sign against
buy-and-hold (and how often that is the base's side). Sharpe of the decisions' returns,
annualised.

``bench/learnability.py`` says the shipped agent needs an IC of about 0.1 to 0.2 before it uses a
signal out of sample. Choose on the validation period only (the default).

Usage: ``.venv/bin/python bench/forecastability.py [--start 2021-01-01] [--end 2024-01-01]
[--train-from 2020-04-01] [--train-days N] [--base volatility] [--hours 24] [--candidates]
[--ridge-alpha 100] [--datadir D]``; ``--train-days 180`` fits on the 180 days before each month,
as the agent and its stacked predictors are.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from freqtrade.configuration import Configuration  # noqa: E402

from bench.signal_information import BLOCK_DAYS, CONFIGS, DAY, inputs_and_outcomes  # noqa: E402
from meta_strategy.paths import STRATEGY_REGISTRY  # noqa: E402
from meta_strategy.research.metrics import sharpe_ratio  # noqa: E402
from meta_strategy.rl.costs import cost_per_fill  # noqa: E402


BOOTSTRAPS = 1000
RIDGE_ALPHA = 100.0
"""Strong shrinkage: a hundred features and a few hundred to a few thousand training days."""

Forecaster = Callable[[pd.DataFrame, pd.Series, pd.DataFrame], np.ndarray]


def ridge(
    train: pd.DataFrame, outcome: pd.Series, test: pd.DataFrame, alpha: float = RIDGE_ALPHA
) -> np.ndarray:
    """:return: a ridge regression's forecasts, on the training rows' z-scores (clipped at 5)"""
    from sklearn.linear_model import Ridge

    mean, std = train.mean(), train.std().replace(0.0, 1.0)

    def scaled(frame: pd.DataFrame) -> np.ndarray:
        return ((frame - mean) / std).clip(-5.0, 5.0).fillna(0.0).to_numpy()

    model = Ridge(alpha=alpha).fit(scaled(train), outcome.to_numpy())
    return model.predict(scaled(test))


def boosted_trees(train: pd.DataFrame, outcome: pd.Series, test: pd.DataFrame) -> np.ndarray:
    """:return: a small LightGBM's forecasts (shallow trees, slow rate, large leaves)"""
    import lightgbm as lgb

    model = lgb.LGBMRegressor(
        n_estimators=200,
        learning_rate=0.02,
        num_leaves=7,
        min_child_samples=50,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.5,
        random_state=0,
        verbose=-1,
        n_jobs=1,
        # the same trees whatever the load: left to itself LightGBM picks its histogram
        # layout by timing both, and the layouts round differently
        deterministic=True,
        force_row_wise=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train, outcome.to_numpy())
        return model.predict(test)


FORECASTERS: dict[str, Forecaster] = {"ridge": ridge, "LightGBM": boosted_trees}


def walk_forward(
    features: pd.DataFrame,
    outcome: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    hours: int,
    forecaster: Forecaster,
    train_days: int | None = None,
) -> pd.Series:
    """
    :param features: the inputs at each decision (from ``--train-from`` on)
    :param outcome: what followed each decision over the next ``hours``
    :param hours: the outcomes' horizon: a decision enters the training rows once it has passed
    :param train_days: only the decisions of this many days before the month (None: all)
    :return: the out-of-sample forecasts of the decisions in ``start`` .. ``end``, each from a
        model fitted before its month began
    """
    forecasts = []
    for month in pd.date_range(start, end, freq="MS", inclusive="left"):
        known = features.index < month - pd.Timedelta(hours=hours)
        if train_days is not None:
            known &= features.index >= month - pd.Timedelta(days=train_days)
        traded = (features.index >= month) & (features.index < month + pd.offsets.MonthBegin(1))
        if not traded.any():
            continue
        values = forecaster(features[known], outcome[known], features[traded])
        forecasts.append(pd.Series(values, index=features.index[traded]))
    return pd.concat(forecasts)


def block_bootstrap(values: pd.DataFrame, statistic: Callable, hours: int) -> tuple[float, float]:
    """:return: the 95 % interval of ``statistic`` over resamples of 20-day blocks of rows"""
    rng = np.random.default_rng(0)
    block = BLOCK_DAYS * DAY // hours
    starts = np.arange(0, len(values), block)
    results = []
    for _ in range(BOOTSTRAPS):
        picked = rng.choice(starts, size=len(starts))
        rows = np.concatenate([np.arange(s, min(s + block, len(values))) for s in picked])
        results.append(statistic(values.iloc[rows]))
    low, high = np.quantile(results, [0.025, 0.975])
    return float(low), float(high)


def information_coefficient(pairs: pd.DataFrame) -> float:
    """:return: the rank correlation of the ``forecast`` column with the ``outcome`` column"""
    return float(pairs["forecast"].rank().corr(pairs["outcome"].rank()))


def traded_sharpe(
    log_returns: pd.Series, position: pd.Series, fee_per_change: pd.Series, hours: int
) -> tuple[float, float]:
    """
    :param log_returns: the outcome at each decision (a log return over the next ``hours``)
    :param position: the share of the outcome taken (-1 .. 1)
    :param fee_per_change: the cost of one unit of change of ``position`` at each decision, a
        share of the position's value
    :return: the annualised Sharpe of taking ``position`` net of the fees of its changes, and
        the share of decisions that change it
    """
    changes = position.diff().abs().fillna(position.abs())
    net = np.expm1(log_returns) * position - fee_per_change * changes
    return sharpe_ratio(net.to_numpy(), 365 * DAY / hours), float((changes > 0).mean())


def held_always(outcome: pd.Series, hours: int) -> float:
    """:return: the Sharpe of taking every decision's ``outcome`` in full, with no fee"""
    always = pd.Series(1.0, index=outcome.index)
    return traded_sharpe(outcome, always, always * 0.0, hours)[0]


def vetoed_base(
    forecast: pd.Series, outcome: pd.Series, held: pd.Series, fee: float, hours: int
) -> tuple[float, float, float]:
    """
    The base held while the forecast is above 0, flat otherwise. The outcome is net of the base's
    own fees; a veto's exit and re-entry pay one fill each while the base holds a position.

    :param held: the base's direction at each decision
    :return: the vetoed base's Sharpe, the share of decisions that change the veto, the base's
        Sharpe held always
    """
    outcome = outcome[forecast.index]
    veto_fee = fee * held[forecast.index].abs()
    sharpe, changes = traded_sharpe(outcome, (forecast > 0).astype(float), veto_fee, hours)
    return sharpe, changes, held_always(outcome, hours)


def long_short(
    forecast: pd.Series, outcome: pd.Series, fee: float, hours: int
) -> tuple[float, float, float]:
    """
    :return: the Sharpe of long or short by the forecast's sign (a fill per unit of change), the
        share of decisions that change it, buy-and-hold's Sharpe
    """
    outcome = outcome[forecast.index]
    fees = pd.Series(fee, index=forecast.index)
    sharpe, changes = traded_sharpe(outcome, np.sign(forecast), fees, hours)
    return sharpe, changes, held_always(outcome, hours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", default="2021-01-01")
    parser.add_argument("--end", default="2024-01-01")
    parser.add_argument("--train-from", default="2020-04-01")
    parser.add_argument(
        "--train-days",
        type=int,
        help="fit on this many days before each month only (the agent's windows: 180), "
        "not every decision since --train-from",
    )
    parser.add_argument("--base", default="volatility", help="the residual base's registry name")
    parser.add_argument("--registry", default=str(STRATEGY_REGISTRY))
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    parser.add_argument("--hours", type=int, default=DAY, choices=(1, 2, 3, 4, 6, 8, 12, 24))
    parser.add_argument(
        "--candidates", action="store_true", help="add the inputs the agent does not see today"
    )
    parser.add_argument("--ridge-alpha", type=float, default=RIDGE_ALPHA)
    args = parser.parse_args()
    forecasters = {**FORECASTERS, "ridge": partial(ridge, alpha=args.ridge_alpha)}
    evaluated = argparse.Namespace(**{**vars(args), "start": args.train_from})
    features, outcomes = inputs_and_outcomes(evaluated)
    features = features.loc[:, features.nunique() > 1]
    fee = cost_per_fill(Configuration.from_files([str(REPO / "user_data" / f) for f in CONFIGS]))
    start, end = pd.Timestamp(args.start, tz="UTC"), pd.Timestamp(args.end, tz="UTC")
    trained = f"every decision since {args.train_from}"
    if args.train_days:
        trained = f"the decisions of the {args.train_days} days before each month"
    print(
        f"{features.shape[1]} inputs; monthly refits on {trained}; "
        f"forecasts over {args.start} .. {args.end}, every {args.hours} hours"
    )
    for name, outcome in outcomes.items():
        held = features[f"%-sig_{args.base}_direction"] if name != "BTC" else None
        for model, forecaster in forecasters.items():
            forecast = walk_forward(
                features, outcome, start, end, args.hours, forecaster, args.train_days
            )
            pairs = pd.DataFrame({"forecast": forecast, "outcome": outcome[forecast.index]})
            ic = information_coefficient(pairs)
            low, high = block_bootstrap(pairs, information_coefficient, args.hours)
            years = pairs.groupby(pairs.index.year).apply(information_coefficient)
            by_year = ", ".join(f"{year} {value:+.3f}" for year, value in years.items())
            if held is not None:
                sharpe, changes, passive = vetoed_base(forecast, outcome, held, fee, args.hours)
                rule, alternative = "the base vetoed below 0", "held always"
            else:
                sharpe, changes, passive = long_short(forecast, outcome, fee, args.hours)
                base = features.loc[forecast.index, f"%-sig_{args.base}_direction"]
                agree = (np.sign(forecast) == np.sign(base)).mean()
                rule = f"long/short by the sign (the base's side {agree:.0%} of the time)"
                alternative = "buy-and-hold"
            print(
                f"{name:<22} {model:<9} IC {ic:+.3f} [{low:+.3f}, {high:+.3f}] ({by_year}); "
                f"{rule}: Sharpe {sharpe:+.2f} (changes {changes:.0%}) against {passive:+.2f} "
                f"{alternative}"
            )


if __name__ == "__main__":
    main()
