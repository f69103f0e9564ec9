"""
Unified signals: what every registered strategy would hold, in one schema.

For each registry entry and each base candle:

* ``direction`` in {-1, 0, +1}: the position the strategy would hold, from its own ``enter_*`` /
  ``exit_*`` columns by :func:`direction_from_signals`;
* ``strength`` in [-1, 1]: its conviction, from the strategy's ``signal_strength(dataframe)``
  method when it has one (documented per strategy), else the direction itself;
* ``age``: base candles since the direction last changed.

A strategy runs at its own timeframe on candles resampled from the base timeframe (closed
buckets only) and its values reach a base candle only once its candle has closed
(:func:`meta_strategy.data.timeframes.merge_closed`). During an entry's ``lookback_hours`` the three
columns are NaN: the strategy has not seen enough history to be trusted.
"""

from __future__ import annotations

import logging
from copy import deepcopy
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit
from pandas import DataFrame, Series

from meta_strategy.data.reference import REFERENCE_CLOSE
from meta_strategy.data.timeframes import (
    WEEK_ORIGIN_MS,
    merge_closed,
    resample_ohlcv,
    timeframe_to_seconds,
)
from meta_strategy.signals.external import (
    ExternalSignalError,
    apply_rule,
    load_external,
    visible_values,
)
from meta_strategy.signals.kernels import position_kernel
from meta_strategy.signals.registry import (
    Registry,
    RegistryEntry,
    RegistryError,
    configure_entry_strategy,
)


logger = logging.getLogger(__name__)

SIGNAL_FIELDS = ("direction", "strength", "age")


def direction_from_signals(df: DataFrame) -> npt.NDArray[np.int8]:
    """
    The position a strategy would hold after each candle, from its signal columns.

    State machine, applied candle by candle (the way Freqtrade's backtester treats signals,
    without ROI, stoploss or trailing exits, which belong to trade management):

    * flat: ``enter_long`` alone -> long; ``enter_short`` alone -> short; both -> stay flat;
      an entry whose own exit fires on the same candle is ignored;
    * long: ``enter_short`` alone -> short (stop and reverse); else ``exit_long`` -> flat;
    * short: ``enter_long`` alone -> long; else ``exit_short`` -> flat.

    :param df: frame with any of ``enter_long``, ``enter_short``, ``exit_long``, ``exit_short``
        (missing columns count as never set)
    :return: int8 array of -1 / 0 / +1
    """

    def column(name: str) -> npt.NDArray[np.bool_]:
        if name not in df:
            return np.zeros(len(df), dtype=np.bool_)
        return (df[name].fillna(0).to_numpy() == 1).astype(np.bool_)

    return position_kernel(
        column("enter_long"), column("enter_short"), column("exit_long"), column("exit_short")
    )


@njit(cache=True)
def _age_kernel(direction: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:  # pragma: no cover
    n = len(direction)
    out = np.full(n, np.nan)
    age = 0.0
    for i in range(n):
        if np.isnan(direction[i]):
            age = 0.0
            continue
        if i > 0 and not np.isnan(direction[i - 1]) and direction[i] == direction[i - 1]:
            age += 1.0
        else:
            age = 0.0
        out[i] = age
    return out


def candles_since_change(direction: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """
    :param direction: direction per candle (NaN where unknown)
    :return: candles since the direction last changed (0 on the candle of the change), NaN
        where the direction is NaN
    """
    return _age_kernel(np.asarray(direction, dtype=np.float64))


def _buckets(dates: Series, timeframe: str) -> npt.NDArray[np.int64]:
    """:return: the candle of ``timeframe`` each date falls in (as resample_ohlcv's buckets)"""
    step = timeframe_to_seconds(timeframe) * 1000
    origin = WEEK_ORIGIN_MS if timeframe.endswith("w") else 0
    return (pd.DatetimeIndex(dates).as_unit("ms").asi8 - origin) // step


def funding_per_candle(
    base_dates: Series, funding: Series, candle_dates: Series, timeframe: str
) -> npt.NDArray[np.float64]:
    """
    :param base_dates: open times of the base candles
    :param funding: funding rate charged at each base candle's open (0 where none)
    :param candle_dates: open times of the candles of ``timeframe`` (epoch-aligned buckets)
    :param timeframe: their timeframe
    :return: per candle, the sum of the funding charged within it
    """
    values = pd.Series(np.asarray(funding, dtype=np.float64))
    sums = values.groupby(_buckets(base_dates, timeframe)).sum()
    return sums.reindex(_buckets(candle_dates, timeframe)).fillna(0.0).to_numpy()


def close_per_candle(
    base_dates: Series, closes: Series, candle_dates: Series, timeframe: str
) -> npt.NDArray[np.float64]:
    """
    :param base_dates: open times of the base candles
    :param closes: a price's close per base candle (NaN where unknown)
    :param candle_dates: open times of the candles of ``timeframe`` (epoch-aligned buckets)
    :param timeframe: their timeframe
    :return: per candle, the last known close within it (NaN where none is)
    """
    values = pd.Series(np.asarray(closes, dtype=np.float64))
    last = values.groupby(_buckets(base_dates, timeframe)).last()
    return last.reindex(_buckets(candle_dates, timeframe)).to_numpy(dtype=np.float64)


# Strategy attributes Freqtrade copies into the config when it loads the calling strategy
# (StrategyResolver). A sub-strategy must keep its own.
_STRATEGY_ATTRIBUTES = (
    "minimal_roi",
    "stoploss",
    "trailing_stop",
    "trailing_stop_positive",
    "trailing_stop_positive_offset",
    "trailing_only_offset_is_reached",
    "use_custom_stoploss",
    "process_only_new_candles",
    "startup_candle_count",
    "use_exit_signal",
    "exit_profit_only",
    "ignore_roi_if_entry_signal",
    "exit_profit_offset",
    "disable_dataframe_checks",
    "ignore_buying_expired_candle_after",
    "position_adjustment_enable",
    "max_entry_position_adjustment",
    "order_time_in_force",
)


def _strategy_config(config: dict[str, Any], entry: RegistryEntry) -> dict[str, Any]:
    dropped = {"freqai", "freqaimodel", "strategy_list", "strategy_obj", *_STRATEGY_ATTRIBUTES}
    cfg = deepcopy({k: v for k, v in config.items() if k not in dropped})
    cfg["strategy"] = entry.strategy
    cfg["timeframe"] = entry.timeframe
    bitbot = cfg.get("bitbot")
    if isinstance(bitbot, dict) and "sizing" in bitbot:
        # A sub-strategy only signals: its stake is never used, and the warm-up of its
        # volatility sizing would count against the entry's lookback_hours.
        cfg["bitbot"] = {k: v for k, v in bitbot.items() if k != "sizing"}
    return cfg


class SignalEngine:
    """
    Runs every enabled registry entry and merges its signals onto base candles.

    :param registry: the validated registry
    :param config: the Freqtrade configuration of the calling strategy (its ``freqai`` section
        is not passed on to the sub-strategies)
    """

    def __init__(self, registry: Registry, config: dict[str, Any]) -> None:
        from freqtrade.resolvers import StrategyResolver

        self.registry = registry
        self.strategies: dict[str, Any] = {}
        self.external: dict[str, tuple[float, pd.Series]] = {}
        """entry name -> (the file's modification time when read, its values)"""
        for entry in registry.enabled:
            if entry.kind == "external":
                self.external[entry.name] = self._load_external(entry)
                continue
            try:
                strategy = StrategyResolver.load_strategy(_strategy_config(config, entry))
            except Exception as e:
                raise type(e)(
                    f"Strategy registry {registry.path}: entry {entry.name!r}: cannot load "
                    f"strategy class {entry.strategy!r}: {e}"
                ) from e
            strategy.ft_bot_start()
            configure_entry_strategy(entry, strategy, registry.path)
            self.strategies[entry.name] = strategy

    def _load_external(self, entry: RegistryEntry) -> tuple[float, pd.Series]:
        """
        :return: the file's modification time and its values
        :raises RegistryError: the entry's file cannot be used (named with the entry)
        """
        source = Path(str(entry.source))
        try:
            modified = source.stat().st_mtime if source.is_file() else -1.0
            return modified, load_external(source, str(entry.column))
        except ExternalSignalError as e:
            raise RegistryError(
                f"Strategy registry {self.registry.path}: entry {entry.name!r}: {e}"
            ) from e

    def external_signals(self, entry: RegistryEntry, base: DataFrame) -> DataFrame:
        """
        :param entry: an external registry entry
        :param base: base-timeframe candles
        :return: its direction and strength per base candle (the closed-candle rule of
            :func:`~meta_strategy.signals.external.visible_values`)
        """
        modified, _ = self.external[entry.name]
        source = Path(str(entry.source))
        if source.is_file() and source.stat().st_mtime != modified:
            self.external[entry.name] = self._load_external(entry)  # the feed was updated
        values = visible_values(
            self.external[entry.name][1],
            base["date"],
            timeframe_to_seconds(self.registry.base_timeframe),
        )
        direction, strength = apply_rule(values, entry.rule)
        return pd.DataFrame({"direction": direction, "strength": strength})

    def entry_signals(
        self,
        entry: RegistryEntry,
        base: DataFrame,
        pair: str,
        funding: Series | None = None,
        reference: Series | None = None,
    ) -> DataFrame:
        """
        :param entry: registry entry
        :param base: base-timeframe candles (``date``, OHLCV)
        :param pair: the pair (passed to the strategy as metadata)
        :param funding: funding rate charged at each base candle's open (0 where none); the
            strategy finds it as the ``funding_rate`` column, summed per candle of its timeframe
        :param reference: the reference price's close per base candle (spot or index,
            :mod:`meta_strategy.data.reference`); the strategy finds it as the
            ``reference_close`` column, the last close per candle of its timeframe
        :return: frame aligned with ``base`` holding the entry's direction, strength and age
        """
        base_tf = self.registry.base_timeframe
        if entry.kind == "external":
            signals = self.external_signals(entry, base)
            return self._finish(signals, entry, base)
        strategy = self.strategies[entry.name]
        candles = base[["date", "open", "high", "low", "close", "volume"]].reset_index(drop=True)
        if entry.timeframe != base_tf:
            candles = resample_ohlcv(candles, entry.timeframe, base_tf)
        if funding is not None:
            candles["funding_rate"] = funding_per_candle(
                base["date"], funding, candles["date"], entry.timeframe
            )
        if reference is not None:
            candles[REFERENCE_CLOSE] = close_per_candle(
                base["date"], reference, candles["date"], entry.timeframe
            )
        if candles.empty:  # not one closed candle at the entry's timeframe yet
            empty = np.full(len(base), np.nan)
            return pd.DataFrame(
                {"direction": empty, "strength": empty, "age": empty}, index=base.index
            )
        meta = {"pair": pair}
        df = strategy.advise_indicators(candles.copy(), meta)
        df = strategy.advise_entry(df, meta)
        df = strategy.advise_exit(df, meta)
        direction = direction_from_signals(df).astype(np.float64)
        if hasattr(strategy, "signal_strength"):
            strength = np.clip(
                np.nan_to_num(np.asarray(strategy.signal_strength(df), dtype=np.float64)), -1.0, 1.0
            )
        else:
            strength = direction.copy()
        signals = pd.DataFrame({"date": df["date"], "direction": direction, "strength": strength})
        if entry.timeframe != base_tf:
            merged = merge_closed(
                base[["date"]].reset_index(drop=True),
                signals,
                base_tf,
                entry.timeframe,
                columns=["direction", "strength"],
            )
            signals = pd.DataFrame(
                {
                    "direction": merged[f"direction_{entry.timeframe}"].to_numpy(),
                    "strength": merged[f"strength_{entry.timeframe}"].to_numpy(),
                }
            )
        else:
            signals = signals[["direction", "strength"]]
        return self._finish(signals, entry, base)

    def _finish(self, signals: DataFrame, entry: RegistryEntry, base: DataFrame) -> DataFrame:
        """NaN during the entry's lookback, then the age; aligned with ``base``."""
        signals = signals.reset_index(drop=True)
        warmup = int(
            entry.lookback_hours * 3600 // timeframe_to_seconds(self.registry.base_timeframe)
        )
        signals.iloc[: min(warmup, len(signals))] = np.nan
        signals["age"] = candles_since_change(signals["direction"].to_numpy())
        signals.index = base.index
        return signals

    @property
    def reads_reference_price(self) -> bool:
        """Whether an enabled strategy reads the reference price (``reads_reference_price``)."""
        return any(
            getattr(strategy, "reads_reference_price", False)
            for strategy in self.strategies.values()
        )

    def compute(
        self,
        base: DataFrame,
        pair: str,
        funding: Series | None = None,
        reference: Series | None = None,
    ) -> DataFrame:
        """
        :param base: base-timeframe candles
        :param pair: the pair
        :param funding: funding rate charged at each base candle's open, for the strategies
            that read it (``funding_rate``); None when there is none
        :param reference: the reference price's close per base candle, for the strategies that
            read it (``reference_close``); None when there is none
        :return: one column per entry and field, named ``<entry.feature_prefix>_<field>``
        """
        parts = {}
        for entry in self.registry.enabled:
            signals = self.entry_signals(entry, base, pair, funding, reference)
            for field in SIGNAL_FIELDS:
                parts[f"{entry.feature_prefix}_{field}"] = signals[field]
        return pd.DataFrame(parts, index=base.index)
