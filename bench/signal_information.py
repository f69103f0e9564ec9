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

``--candidates`` adds inputs the agent does not see today (:func:`candidate_inputs`: momentum over
30 to 180 days, the distance to the 180-day average, the drawdown from the 90-day high, the
hourly returns' skew and downside share, volume and the spot market's share of it, a week of
funding, the day's range and where the close sits in it, the volatility's trend and its own
volatility, the day of the week and the hour) so they can be screened before any walk-forward.
``bench/learnability.py`` says how strong an IC the shipped agent needs before it uses a signal
out of sample; ``bench/forecastability.py`` whether all of them together reach it out of
sample. Choose on the validation period only (the default).

Usage: ``.venv/bin/python bench/signal_information.py [--start 2021-01-01] [--end 2024-01-01]
[--base volatility] [--hours 24] [--candidates] [--top 8] [--shuffles 200] [--datadir D]``;
``--hours 4`` decides every 4 hours and measures the next 4.
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
from meta_strategy.data.candles import load_candles  # noqa: E402
from meta_strategy.data.files import candle_file  # noqa: E402
from meta_strategy.paths import STRATEGY_REGISTRY  # noqa: E402
from meta_strategy.rl.costs import cost_per_fill  # noqa: E402
from meta_strategy.signals.allocation import allocation_features  # noqa: E402
from meta_strategy.signals.registry import load_registry  # noqa: E402
from meta_strategy.signals.track_record import following_returns  # noqa: E402


DAY = 24
BLOCK_DAYS = 20
SPOT_PAIR = "BTC/USDT"
"""The spot market whose share of the volume is a candidate input (Binance's, in the data
folder's root)."""


def candidate_inputs(candles: pd.DataFrame, funding: pd.Series, spot: pd.DataFrame) -> pd.DataFrame:
    """
    Inputs the agent does not see today, each from candles up to its own close.

    :param candles: the perpetual's 1h candles
    :param funding: the funding rate paid at each candle (0 between fundings)
    :param spot: the spot market's 1h candles (``date``, ``volume``)
    :return: one column per candidate (``%-cand_*``), on the candles' index
    """
    close, volume = candles["close"], candles["volume"]
    log_close = np.log(close)
    hourly = log_close.diff()
    days = {d: d * DAY for d in (7, 30, 90, 180)}
    out = {f"%-cand_ret_{d}d": log_close - log_close.shift(days[d]) for d in (30, 90, 180)}
    out["%-cand_sma_180d"] = close / close.rolling(days[180]).mean() - 1.0
    out["%-cand_drawdown_90d"] = close / close.rolling(days[90]).max() - 1.0
    out["%-cand_skew_7d"] = hourly.rolling(days[7]).skew()
    out["%-cand_skew_30d"] = hourly.rolling(days[30]).skew()
    downside = hourly.clip(upper=0.0) ** 2
    out["%-cand_downside_30d"] = downside.rolling(days[30]).sum() / (
        (hourly**2).rolling(days[30]).sum()
    )
    log_volume = np.log(volume.rolling(DAY).sum())
    out["%-cand_volume_z_90d"] = (log_volume - log_volume.rolling(days[90]).mean()) / (
        log_volume.rolling(days[90]).std()
    )
    # the spot file has gaps: a day's share from the hours both markets have
    spot_volume = spot.set_index("date")["volume"].reindex(candles["date"]).to_numpy()
    both = pd.Series(spot_volume, index=candles.index).notna()
    spot_day = pd.Series(spot_volume, index=candles.index).rolling(DAY, min_periods=1).sum()
    share = np.log(spot_day / volume.where(both, 0.0).rolling(DAY).sum())
    out["%-cand_spot_share"] = share
    out["%-cand_spot_share_z_90d"] = (share - share.rolling(days[90]).mean()) / (
        share.rolling(days[90]).std()
    )
    out["%-cand_funding_7d"] = funding.rolling(days[7], min_periods=1).sum()
    high, low = candles["high"].rolling(DAY).max(), candles["low"].rolling(DAY).min()
    out["%-cand_range_24h"] = (high - low) / close
    out["%-cand_close_location_24h"] = (close - low) / (high - low)
    vol_24 = hourly.rolling(DAY).std()
    out["%-cand_vol_trend"] = np.log(vol_24 / hourly.rolling(days[30]).std())
    out["%-cand_vol_of_vol_30d"] = np.log(vol_24).rolling(days[30]).std()
    out["%-cand_day_of_week"] = candles["date"].dt.day_of_week.astype(float)
    out["%-cand_hour"] = candles["date"].dt.hour.astype(float)
    return pd.DataFrame(out, index=candles.index)


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
    parts = [
        signals,
        allocation_features(candles, signals, registry, funding, fee, DAY),
        pd.DataFrame(context),
    ]
    if args.candidates:
        spot = load_candles(candle_file(Path(args.datadir), SPOT_PAIR, "1h", "spot"))
        parts.append(candidate_inputs(candles, funding, spot))
    features = pd.concat(parts, axis=1)
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
    parser.add_argument(
        "--candidates", action="store_true", help="add the inputs the agent does not see today"
    )
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--shuffles", type=int, default=200)
    args = parser.parse_args()
    features, outcomes = inputs_and_outcomes(args)
    usable = features.notna().all() & (features.nunique() > 1)
    if not usable.all():
        print(f"left out (a gap in their values, or constant): {', '.join(usable.index[~usable])}")
    features = features.loc[:, usable]
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
        candidates = ic[ic.index.str.startswith("%-cand_")]
        if len(candidates):
            print("  the candidates:")
            for feature, value in candidates.items():
                print(f"    {feature:<40} {value:+.3f}")


if __name__ == "__main__":
    main()
