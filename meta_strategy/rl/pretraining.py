"""
Synthetic pre-training (``freqai.rl_config.synthetic_pretraining``): before a new agent meets
its walk-forward window, it trains on a generated market
(:mod:`meta_strategy.data.synthetic`: regime switching, GARCH volatility, fat tails, jumps,
funding), with the same features, costs, decision clock and actions, then trains on (is
fine-tuned on) the window's history. The idea is the sim-to-real curriculum of robotics
(Tobin et al. 2017, domain randomisation) and of trading agents pre-trained on simulated paths
(e.g. Yu et al. 2019, "Model-based deep RL for dynamic portfolio optimisation", synthetic
augmentation): the agent learns the mechanics of costs, holding and the signals' behaviour on
data with no overlap with any real period, so the pre-training cannot leak the future.

The market is the same for every window (fixed ``seed``); its features go through the window's
own feature pipeline (the scaling fitted on the window's training rows), so the agent sees them
as it will see the window's. With ``continual_learning`` only the first window's agent is
pre-trained; later ones start from their predecessor.

Config::

    "rl_config": {"synthetic_pretraining": {"days": 730, "train_cycles": 5, "seed": 7}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from meta_strategy.config_keys import check_known_keys
from meta_strategy.data.synthetic.config import SyntheticMarket, SyntheticMarketConfig
from meta_strategy.data.synthetic.simulate import generate_market
from meta_strategy.rl.columns import market_frame, observed_columns
from meta_strategy.rl.errors import RLConfigError, is_whole_number


PRETRAINING_KEYS = frozenset({"days", "train_cycles", "seed"})
"""Keys of ``freqai.rl_config.synthetic_pretraining``."""

SYNTHETIC_START = pd.Timestamp("2000-01-01", tz="UTC")
"""Where the generated market's calendar starts: long before any real data, so that its dates
cannot be taken for real ones."""


@dataclass(frozen=True)
class PretrainingConfig:
    """
    :ivar days: length of the generated market (0: no pre-training); the features' warm-up
        (the registry's longest lookback, about 200 days) is not trained on
    :ivar train_cycles: passes over it, as ``rl_config.train_cycles`` for the window (timesteps
        = cycles x candles)
    :ivar seed: the generated market's seed (the agent's own seed is ``rl_config.seed``)
    """

    days: int = 0
    train_cycles: int = 5
    seed: int = 7

    @classmethod
    def from_rl_config(cls, rl_config: dict[str, Any]) -> PretrainingConfig:
        """:raises RLConfigError: not an object, an unknown key, or a bad value (named)"""
        section = rl_config.get("synthetic_pretraining")
        where = "freqai.rl_config.synthetic_pretraining"
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise RLConfigError(f"{where} must be an object, got {section!r}")
        check_known_keys(section, PRETRAINING_KEYS, where, RLConfigError)
        days = section.get("days", 730)
        if not is_whole_number(days, 30, 3650):
            raise RLConfigError(f"{where}.days is {days!r}; expected a whole number 30..3650")
        cycles = section.get("train_cycles", 5)
        if not is_whole_number(cycles, 1, 1000):
            raise RLConfigError(
                f"{where}.train_cycles is {cycles!r}; expected a whole number 1..1000"
            )
        seed = section.get("seed", 7)
        if not is_whole_number(seed, 0, 2**32 - 1):
            raise RLConfigError(f"{where}.seed is {seed!r}; expected a whole number >= 0")
        return cls(int(days), int(cycles), int(seed))

    @property
    def active(self) -> bool:
        """Whether new agents are pre-trained."""
        return self.days > 0

    def market(self) -> SyntheticMarket:
        """:return: the generated market (the same for the same config, bit for bit)"""
        end = SYNTHETIC_START + pd.Timedelta(days=self.days)
        return generate_market(
            SyntheticMarketConfig(seed=self.seed, start=SYNTHETIC_START, end=end)
        )

    def strategy_frame(self, strategy: Any, pair: str) -> pd.DataFrame:
        """
        :param strategy: the strategy FreqAI serves
        :return: its columns on the generated market (``strategy.synthetic_features``)
        :raises RLConfigError: the strategy cannot compute them (named)
        """
        if not hasattr(strategy, "synthetic_features"):
            raise RLConfigError(
                "freqai.rl_config.synthetic_pretraining needs a strategy with "
                f"synthetic_features() (the MetaStrategy); {type(strategy).__name__} has none"
            )
        return strategy.synthetic_features(self.market(), pair)

    def timesteps(self, candles: int) -> int:
        """:return: the pre-training's timesteps over ``candles`` rows"""
        return self.train_cycles * candles


def pretraining_rows(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """
    :param frame: the strategy's columns on the generated market, one row per candle
    :param features: the columns the window's pipeline was fitted on
    :return: the rows where every feature is known (the indicators' warm-up dropped, as FreqAI
        drops it from a window)
    :raises RLConfigError: a feature is missing (the strategy furnishes it for real data only)
    """
    missing = [c for c in features if c not in frame]
    if missing:
        raise RLConfigError(
            f"synthetic pre-training: the strategy's features on the generated market lack "
            f"{missing}"
        )
    known = frame[features].notna().all(axis=1)
    if known.sum() < 2:
        unknown = [c for c in features if frame[c].isna().all()]
        raise RLConfigError(
            "synthetic pre-training: the strategy's features on the generated market are never "
            f"all known (always unknown: {unknown}; an external registry entry has no values "
            "for a generated market)"
        )
    return frame.loc[known].reset_index(drop=True)


def pretraining_inputs(
    frame: pd.DataFrame, features: list[str], pipeline: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    :param frame: the strategy's columns on the generated market
    :param features: the window's feature list (``dk.training_features_list``, raw columns
        included)
    :param pipeline: the window's fitted feature pipeline (FreqAI's ``dk.feature_pipeline``)
    :return: the observed features as the window's agent sees them, and the market the
        environment trades (:func:`~meta_strategy.rl.columns.market_frame`)
    """
    rows = pretraining_rows(frame, features)
    observed, _, _ = pipeline.transform(rows[observed_columns(features)], outlier_check=False)
    return observed, market_frame(rows)
