"""
How much do the meta layer's inputs say about the next day, on real data?

At each day's last 1h candle (where the shipped decision clock decides once a day), every input
the agent sees from the registry (each entry's direction, strength and age, its track records,
the regime: the MetaStrategy's ``%-sig_*``, ``%-track_*`` and ``%-regime_*`` columns) and the
market context's returns and volatilities, against two outcomes over the next 24 hours: the net
log return of following the residual base (``--base``, the Volatility System) and BTC's log
return. The information coefficient (IC) of a feature is the rank (Spearman) correlation of its
values with an outcome over the days of ``--start`` .. ``--end``. The chance level is what the
best of these features reaches with no information: the 95th percentile of the largest |IC| when
the outcomes are shuffled in 20-day blocks (``--shuffles`` times).

``bench/learnability.py`` says how strong an IC the shipped agent needs before it uses a signal
out of sample. Choose on the validation period only (the default).

Usage: ``.venv/bin/python bench/signal_information.py [--start 2021-01-01] [--end 2024-01-01]
[--base volatility] [--hours 24] [--top 8] [--shuffles 200] [--datadir D]``; ``--hours 4``
decides every 4 hours and measures the next 4.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from freqtrade.configuration import Configuration  # noqa: E402

from bench.strategy_correlations import CONFIGS, registry_signals  # noqa: E402
from meta_strategy.paths import STRATEGY_REGISTRY  # noqa: E402
from meta_strategy.rl.costs import cost_per_fill  # noqa: E402
from meta_strategy.signals.allocation import allocation_features  # noqa: E402
from meta_strategy.signals.registry import load_registry  # noqa: E402
from meta_strategy.signals.track_record import following_returns  # noqa: E402


DAY = 24
BLOCK_DAYS = 20


def inputs_and_outcomes(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:return: the features and the two outcomes over the next ``--hours`` at the last candle
    of every ``--hours`` (each day's last candle by default)"""
    config = Configuration.from_files([str(REPO / "user_data" / f) for f in CONFIGS])
    fee = cost_per_fill(config)
    candles, funding, signals = registry_signals(args, config)
    registry = load_registry(Path(args.registry), "1h")
    log_close = np.log(candles["close"])
    context = {f"%-ret_{h}": log_close - log_close.shift(h) for h in (1, 4, 24, 168)}
    context["%-vol_24"] = context["%-ret_1"].rolling(24).std()
    context["%-vol_168"] = context["%-ret_1"].rolling(168).std()
    features = pd.concat(
        [
            signals,
            allocation_features(candles, signals, registry, funding, fee, DAY),
            pd.DataFrame(context),
        ],
        axis=1,
    )
    base = signals[f"%-sig_{args.base}_direction"].fillna(0.0)
    followed = np.log1p(following_returns(base, candles["close"], funding, fee))
    hours = args.hours
    outcomes = pd.DataFrame(
        {
            f"following {args.base}": followed[::-1].rolling(hours).sum()[::-1].shift(-1),
            "BTC": log_close.shift(-hours) - log_close,
        }
    )
    start, end = pd.Timestamp(args.start, tz="UTC"), pd.Timestamp(args.end, tz="UTC")
    hour_of_day = candles["date"].dt.hour
    days = ((hour_of_day + 1) % hours == 0) & (candles["date"] >= start)
    days &= candles["date"] < end - pd.Timedelta(hours=hours)
    index = pd.DatetimeIndex(candles["date"][days])
    return features[days].set_axis(index), outcomes[days].set_axis(index)


def information(features: pd.DataFrame, outcome: pd.Series) -> pd.Series:
    """:return: each feature's rank correlation with the outcome (NaN for a constant one)"""
    ranks = features.rank()
    return ranks.corrwith(outcome.rank()).dropna()


def chance_level(features: pd.DataFrame, outcome: pd.Series, shuffles: int, hours: int) -> float:
    """:return: the 95th percentile of the largest |IC| with the outcome's 20-day blocks
    shuffled (the features' own dependence over time kept); ``hours`` between decisions"""
    rng = np.random.default_rng(0)
    values = outcome.to_numpy()
    block = BLOCK_DAYS * DAY // hours
    blocks = [values[i : i + block] for i in range(0, len(values), block)]
    ranks = features.rank()
    best = []
    for _ in range(shuffles):
        order = rng.permutation(len(blocks))
        shuffled = pd.Series(np.concatenate([blocks[i] for i in order]), index=outcome.index)
        best.append(ranks.corrwith(shuffled.rank()).abs().max())
    return float(np.quantile(best, 0.95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", default="2021-01-01")
    parser.add_argument("--end", default="2024-01-01")
    parser.add_argument("--base", default="volatility", help="the residual base's registry name")
    parser.add_argument("--registry", default=str(STRATEGY_REGISTRY))
    default = os.environ.get("BITBOT_DATA") or str(REPO.parent / "shared" / "data" / "binance")
    parser.add_argument("--datadir", default=default)
    parser.add_argument(
        "--hours",
        type=int,
        default=DAY,
        choices=(1, 2, 3, 4, 6, 8, 12, 24),
        help="the decision interval and the outcomes' horizon (default: a day)",
    )
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--shuffles", type=int, default=200)
    args = parser.parse_args()
    features, outcomes = inputs_and_outcomes(args)
    features = features.loc[:, features.notna().all() & (features.nunique() > 1)]
    print(
        f"{len(features)} decisions, {args.start} .. {args.end}; {features.shape[1]} features at "
        f"the last candle of every {args.hours} hours against the next {args.hours} hours"
    )
    for name, outcome in outcomes.items():
        ic = information(features, outcome)
        top = ic.reindex(ic.abs().sort_values(ascending=False).index)[: args.top]
        chance = chance_level(features, outcome, args.shuffles, args.hours)
        print(
            f"\n{name}: largest |IC| {ic.abs().max():.3f}; by chance the largest reaches "
            f"{chance:.3f} (95th percentile of {args.shuffles} block shuffles)"
        )
        for feature, value in top.items():
            print(f"  {feature:<42} {value:+.3f}")


if __name__ == "__main__":
    main()
