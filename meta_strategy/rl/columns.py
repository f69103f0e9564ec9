"""
The columns a strategy furnishes FreqAI for the meta-learner (``%-raw_*``, the action mode's
``%-raw_choice_<n>``) that the environment trades on and the agent does not observe, and the
split of a strategy frame into what the agent observes and what the environment trades on.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from meta_strategy.rl.actions import choice_columns


RAW_COLUMNS = {
    "%-raw_open": "open",
    "%-raw_high": "high",
    "%-raw_low": "low",
    "%-raw_close": "close",
    "%-raw_funding": "funding_rate",
    "%-raw_decision": "decision",
}
"""The strategy's raw columns the environment trades on (not observed): prices, funding, and the
decision clock's candles (:mod:`meta_strategy.rl.clock`)."""
OPTIONAL_RAW_COLUMNS = frozenset({"%-raw_benchmark", "%-raw_scale", "%-raw_stop", "%-raw_teacher"})
"""Raw columns the strategy furnishes when the setup needs them: the benchmark's net return per
candle (``excess_log_return``), the volatility-targeting share of the stake (``bitbot.sizing``),
the stop's distance (``train_with_stops``) and the imitated combiner's exposure
(``behaviour_cloning``); the action mode's choices are found by their prefix."""


def observed_columns(columns: Any) -> list[str]:
    """:return: the features the agent observes: all but the environment's raw columns"""
    raw = {*RAW_COLUMNS, *OPTIONAL_RAW_COLUMNS, *choice_columns(columns)}
    return [c for c in columns if c not in raw]


def market_frame(df: pd.DataFrame) -> pd.DataFrame:
    """:return: the environment's market columns of the strategy's frame (prices, funding,
    decisions, the optional raw columns, the choices), renamed as the environment reads them
    :raises ValueError: a raw column is missing (named)"""
    missing = [c for c in RAW_COLUMNS if c not in df]
    if missing:
        raise ValueError(
            f"MetaPPO: the strategy must provide {missing} in feature_engineering_standard() "
            "(raw prices and funding for the environment)"
        )
    market = [*RAW_COLUMNS, *OPTIONAL_RAW_COLUMNS.intersection(df), *choice_columns(df)]
    return df[market].rename(columns=RAW_COLUMNS).reset_index(drop=True)
