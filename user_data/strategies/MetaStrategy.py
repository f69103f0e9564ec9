"""
MetaStrategy: the registered strategies' signals become FreqAI features, and a learned meta
layer (``--freqaimodel MetaPPO``) chooses the one position to hold: short, flat or long (or
half positions with ``freqai.rl_config.exposure_levels: 5``).

Features (all known at the candle's close):

* for every enabled entry of ``user_data/strategies_registry.json``: ``direction``, ``strength``
  and ``age`` (``meta_strategy.signals.engine``), each strategy at its own timeframe;
* for every entry, its track record: the net return (fees and funding included) of following
  its direction over the trailing 7, 30 and 90 days and its 30-day Sharpe ratio
  (``meta_strategy.signals.track_record``);
* the market regime: trend efficiency, volatility percentile and one of ranging, trending,
  volatile, trending-volatile (``meta_strategy.signals.regimes``);
* context: log returns over 1, 4, 24 and 168 candles, realised volatility over 24 and 168,
  ATR(14) as a fraction of price, the funding rate and its 24-candle sum, and the distance of
  the close from the EMA(50) of closed 4h candles, each as a z-score against its own trailing
  30 days (``meta_strategy.signals.scaling``), so that an era of other volatility or funding
  stays in the range the model was trained on.

The model's action becomes a target exposure; the strategy turns it into entries, exits and
position adjustments. Run it with the FreqAI overlay::

    bitbot backtesting -c user_data/config.json -c user_data/config.binance.json \\
        -c user_data/config.freqai.json --strategy MetaStrategy --freqaimodel MetaPPO \\
        --timerange 20241117-20251116
"""

import copy
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.exchange import timeframe_to_msecs
from pandas import DataFrame, Series

from meta_strategy.data.reference import ReferencePriceError
from meta_strategy.data.synthetic.config import SyntheticMarket
from meta_strategy.data.synthetic.provider import SyntheticMarketData
from meta_strategy.data.timeframes import days_to_candles, merge_closed, resample_ohlcv
from meta_strategy.models.promotion import PromotedInputError, check_promoted_inputs
from meta_strategy.rl.actions import (
    CHOICE_PREFIX,
    ActionMode,
    check_combiner_entries,
    combiner_direction,
    held_exposure,
    level_choices,
)
from meta_strategy.rl.clock import DecisionClock
from meta_strategy.rl.costs import explicit_fee
from meta_strategy.rl.ensemble import EnsembleConfig, member_path
from meta_strategy.rl.env import exposure_levels, trains_with_stops
from meta_strategy.rl.errors import RLConfigError
from meta_strategy.rl.imitation import CloningConfig
from meta_strategy.rl.rewards import make_reward
from meta_strategy.signals.allocation import allocation_features, allocation_warmup
from meta_strategy.signals.indicators import atr
from meta_strategy.signals.scaling import SCALE_WINDOW, rolling_zscore
from meta_strategy.signals.track_record import following_returns
from meta_strategy.trading.config import BitBotConfigError
from meta_strategy.trading.exposure import DECISION_TAG, EXPOSURE_TAG, TargetExposureStrategy
from meta_strategy.trading.safe_mode import model_problem, prediction_problem


logger = logging.getLogger(__name__)

SCALED_CONTEXT = (
    "%-ret_1",
    "%-ret_4",
    "%-ret_24",
    "%-ret_168",
    "%-vol_24",
    "%-vol_168",
    "%-atr_pct",
    "%-funding",
    "%-funding_24",
    "%-trend_4h",
)
"""Market-context features whose level drifts with the era: scaled by their trailing 30 days."""


class MetaStrategy(TargetExposureStrategy):
    process_only_new_candles = True
    size_by_exposure = True
    position_adjustment_enable = True
    max_entry_position_adjustment = -1
    startup_candle_count = 1400
    entry_tag_prefix = "meta"
    candles_per_day = 24  # of the base timeframe, the registry's 1h
    # track records and regimes (90 days, and a week's volatility ranked over 90 days) outlast
    # the market context (EMA(50) of 4h candles, 168-candle returns and volatility, scaled over
    # SCALE_WINDOW candles)
    extra_warmup = max(allocation_warmup(candles_per_day), 4 * 50 + 168 + SCALE_WINDOW)

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        rl_config = (config.get("freqai") or {}).get("rl_config", {})
        self.levels = exposure_levels(int(rl_config.get("exposure_levels", 3)))
        self.decision_clock = DecisionClock.from_rl_config(rl_config)
        self.action_mode = ActionMode.from_rl_config(rl_config)
        self.ensemble = EnsembleConfig.from_rl_config(rl_config)
        self.train_with_stops = trains_with_stops(rl_config)
        self.open_trade_returns = rl_config.get("open_trade_returns", False)
        """whether the agent sees each strategy's open trade's return (a feature per entry)"""
        if not isinstance(self.open_trade_returns, bool):
            raise RLConfigError(
                "freqai.rl_config.open_trade_returns must be true or false, got "
                f"{self.open_trade_returns!r}."
            )
        if self.train_with_stops and self.risk_limits.stop_atr_multiple <= 0:
            logger.warning(
                "freqai.rl_config.train_with_stops is on but bitbot.risk.stop_atr_multiple is 0 "
                "(the stop is off): the agent trains without a stop."
            )
        self.teacher = CloningConfig.from_rl_config(rl_config).teacher
        """the combiner the agent imitates before it learns (None: no behaviour cloning)"""
        reward = make_reward(rl_config.get("model_reward_parameters", {}))
        self.benchmark: str | None = getattr(reward, "benchmark", None)
        """the combiner the reward measures the agent against (None: no benchmark)"""
        residual = self.action_mode.residual_base if self.action_mode.mode == "residual" else None
        check_combiner_entries(
            [residual, self.teacher, self.benchmark], [e.name for e in self.registry.enabled]
        )
        self.candle_tables: dict[str, DataFrame] = {}
        """pair -> by candle date, the decision clock's candles (:data:`DECISION_TAG`) and the
        action mode's choice matrix (columns 0 ..): FreqAI hands back the predictions without
        the features they were computed from"""
        self.promoted_model = (config.get("bitbot") or {}).get("model_id")
        self.furnished_features: dict[str, list[str]] = {}
        """pair -> the features this strategy furnished FreqAI last (see set_freqai_targets)"""
        if self.promoted_model and self.trading_live:
            try:  # the files the promoted configuration was evaluated with are unchanged
                check_promoted_inputs(config.get("bitbot") or {})
            except PromotedInputError as e:
                raise BitBotConfigError(str(e)) from e

    # ------------------------------------------------------------------ FreqAI features

    def feature_engineering_expand_all(
        self, dataframe: DataFrame, period: int, metadata: dict, **kwargs: Any
    ) -> DataFrame:
        """No per-period features: everything is in feature_engineering_standard."""
        return dataframe

    def feature_engineering_expand_basic(
        self, dataframe: DataFrame, metadata: dict, **kwargs: Any
    ) -> DataFrame:
        """No per-timeframe features: everything is in feature_engineering_standard."""
        return dataframe

    def feature_engineering_standard(
        self, dataframe: DataFrame, metadata: dict, **kwargs: Any
    ) -> DataFrame:
        """
        Signals of every registered strategy, market context, and the raw prices and funding
        the environment trades on and the decision clock's candles (``%-raw_*``, removed from
        the observation by MetaPPO).
        """
        pair = metadata["pair"]
        funding = self.funding_rates(dataframe, pair)
        signals = self.registry_signals(dataframe, pair, funding)
        features = {
            column: np.log1p(values) if column.endswith("_age") else values
            for column, values in signals.items()
        }
        allocation = allocation_features(
            dataframe,
            signals,
            self.registry,
            funding,
            explicit_fee(self.config),
            self.candles_per_day,
            self.open_trade_returns,
        )
        features.update(allocation.items())
        features.update(self.market_context(dataframe, funding).items())
        # one insert, not one per column (hundreds of single inserts fragment the frame)
        dataframe = pd.concat(
            [dataframe.drop(columns=[c for c in features if c in dataframe]), DataFrame(features)],
            axis=1,
        )
        return self.environment_columns(dataframe, signals, funding, pair)

    def market_context(self, dataframe: DataFrame, funding: Series) -> DataFrame:
        """
        :return: the market context: returns over 1, 4, 24 and 168 candles, volatility, ATR,
            funding, the distance to the closed 4h candles' EMA(50); :data:`SCALED_CONTEXT`
            z-scored over a trailing window
        """
        close = dataframe["close"]
        log_close = np.log(close)
        context = DataFrame(index=dataframe.index)
        for horizon in (1, 4, 24, 168):
            context[f"%-ret_{horizon}"] = log_close - log_close.shift(horizon)
        one = context["%-ret_1"]
        context["%-vol_24"] = one.rolling(24).std()
        context["%-vol_168"] = one.rolling(168).std()
        context["%-atr_pct"] = atr(dataframe, 14) / close
        context["%-funding"] = funding.replace(0.0, np.nan).ffill().fillna(0.0)
        context["%-funding_24"] = funding.rolling(24, min_periods=1).sum()
        four_hour = resample_ohlcv(
            dataframe[["date", "open", "high", "low", "close", "volume"]], "4h", self.timeframe
        )
        four_hour["ema50"] = four_hour["close"].ewm(span=50, adjust=False).mean()
        merged = merge_closed(dataframe[["date"]], four_hour, self.timeframe, "4h", ["ema50"])
        context["%-trend_4h"] = close.to_numpy() / merged["ema50_4h"].to_numpy() - 1.0
        context[list(SCALED_CONTEXT)] = rolling_zscore(context[list(SCALED_CONTEXT)])
        return context

    def environment_columns(
        self, dataframe: DataFrame, signals: DataFrame, funding: Series, pair: str
    ) -> DataFrame:
        """
        The columns the environment trades on and MetaPPO removes from the observation
        (``%-raw_*``): prices, funding, the decision clock's candles, the benchmark's net
        return when the reward measures against one, the volatility-targeting share of the
        stake when ``bitbot.sizing`` is on, the stop's distance with ``train_with_stops``, the
        imitated combiner's exposure with ``behaviour_cloning``, and the action mode's choices.
        """
        close = dataframe["close"]
        raw = {
            "%-raw_open": dataframe["open"],
            "%-raw_high": dataframe["high"],
            "%-raw_low": dataframe["low"],
            "%-raw_close": close,
            "%-raw_funding": funding,
        }
        directions = signals[[c for c in signals.columns if c.endswith("_direction")]]
        fee = explicit_fee(self.config)
        combiner = (directions, close, funding, dataframe["date"], fee)
        leader_window = days_to_candles(90, self.timeframe)
        base = self.action_mode.base_direction(*combiner, leader_window)
        raw["%-raw_decision"] = self.decision_clock.decision_candles(
            dataframe["date"], timeframe_to_msecs(self.timeframe), directions, base
        ).astype(np.float64)
        if self.benchmark is not None:  # the reward measures the agent against it
            held = combiner_direction(self.benchmark, *combiner, leader_window)
            raw["%-raw_benchmark"] = following_returns(held, close, funding, fee).fillna(0.0)
        if self.teacher is not None:  # the agent imitates it first (behaviour cloning)
            raw["%-raw_teacher"] = combiner_direction(self.teacher, *combiner, leader_window)
        if self.volatility_target.active:  # the environment sizes as custom_stake_amount does
            raw["%-raw_scale"] = self.volatility_target.scale(close, self.timeframe)
        if self.train_with_stops:  # the environment trails the stop custom_stoploss trails
            limits = self.risk_limits
            raw["%-raw_stop"] = limits.stop_atr_multiple * atr(dataframe, limits.atr_period)
        table = {DECISION_TAG: np.asarray(raw["%-raw_decision"]) > 0}
        if self.action_mode.mode != "target":
            choices = self.action_mode.choices(self.levels, directions, base)
            for action in range(choices.shape[1]):
                raw[f"{CHOICE_PREFIX}{action}"] = table[action] = choices[:, action]
        self.candle_tables[pair] = DataFrame(table, index=dataframe["date"].to_numpy())
        # one insert, not one per column (the frame holds every feature already)
        return pd.concat([dataframe, DataFrame(raw, index=dataframe.index)], axis=1)

    def synthetic_features(self, market: SyntheticMarket, pair: str) -> DataFrame:
        """
        :param market: a generated market (synthetic pre-training,
            :mod:`meta_strategy.rl.pretraining`)
        :return: :meth:`feature_engineering_standard` on its candles, with its own funding and
            reference prices; this strategy's state (data provider, candle tables) untouched
        """
        twin = copy.copy(self)
        twin.dp = SyntheticMarketData(market, pair)
        twin.candle_tables = {}
        candles = market.candles_at(self.timeframe)
        return twin.feature_engineering_standard(candles, {"pair": pair})

    def action_count(self, pair: str) -> int:
        """:return: how many actions the agent has (the levels, or the choice matrix's)"""
        known = self.candle_tables.get(pair)
        if self.action_mode.mode == "target" or known is None:
            return len(self.levels)
        return known.shape[1] - 1

    def candle_table(self, dataframe: DataFrame, pair: str) -> DataFrame:
        """
        :return: per candle of ``dataframe``, its decision flag and the action mode's choices;
            rebuilt from the candles when FreqAI reused saved predictions (it then computes
            features on the last candle only)
        """
        rows = DataFrame(index=dataframe["date"].to_numpy())
        if self.action_mode.mode == "target" and self.decision_clock.every_candle:
            return rows.assign(**{DECISION_TAG: True})  # nothing to rebuild: no clock, no choices
        known = self.candle_tables.get(pair)
        if known is None or not rows.index.isin(known.index).all():
            candles = dataframe[["date", "open", "high", "low", "close", "volume"]].copy()
            self.feature_engineering_standard(candles, {"pair": pair})
            known = self.candle_tables[pair]
        return rows.join(known)

    def exposure_of_actions(self, dataframe: DataFrame, table: DataFrame) -> np.ndarray:
        """
        :param table: :meth:`candle_table` of the dataframe
        :return: per candle, the exposure the predicted action holds (the action mode's choice,
            :mod:`meta_strategy.rl.actions`); 0 where FreqAI flagged the prediction or the action
            is not one of the mode's
        """
        choices = level_choices(self.levels, len(dataframe))
        if self.action_mode.mode != "target":
            choices = np.nan_to_num(table.drop(columns=DECISION_TAG).to_numpy(dtype=np.float64))
            if choices.shape[1] == 0:
                return np.zeros(len(dataframe))
        action = dataframe["&-action"].fillna(-1).astype(int).to_numpy()
        return held_exposure(action, dataframe["do_predict"].to_numpy() == 1, choices)

    def set_freqai_targets(self, dataframe: DataFrame, metadata: dict, **kwargs: Any) -> DataFrame:
        """
        Reinforcement learning has no label; FreqAI needs the column to exist. FreqAI calls this
        last, on every feature: the strategy notes which it furnishes (FreqAI's rule: a ``%`` in
        the name, ``:`` removed) for the dry-run / live check against the model's.
        """
        self.furnished_features[metadata["pair"]] = [
            c.replace(":", "") for c in dataframe.columns if "%" in c
        ]
        dataframe["&-action"] = 0
        return dataframe

    # ------------------------------------------------------------------ signals

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        try:
            dataframe = self.freqai.start(dataframe, metadata, self)
        except Exception as e:  # Freqtrade would log it and go on without safe mode
            if not self.trading_live:
                raise
            # the registry's reference price (spot or index) missing is a data problem, not
            # the model's: safe mode names it so, and clears it once the price is back
            cause = "reference" if isinstance(e, ReferencePriceError) else "model"
            what = "read the reference price" if cause == "reference" else "load or run the model"
            logger.error("FreqAI could not %s for %s: %s", what, metadata["pair"], e)
            dataframe[EXPOSURE_TAG] = 0.0
            problem = f"FreqAI could not {what}: {type(e).__name__}: {e}"
            self.report_safe_mode(cause, problem, datetime.now(tz=UTC))
            return dataframe
        table = self.candle_table(dataframe, metadata["pair"])
        dataframe[EXPOSURE_TAG] = self.exposure_of_actions(dataframe, table)
        dataframe[DECISION_TAG] = table[DECISION_TAG].fillna(False).to_numpy(dtype=bool)
        if self.trading_live and not dataframe.empty:
            self.report_safe_mode("reference", None, datetime.now(tz=UTC))  # it was read
            self.check_model_and_prediction(dataframe, metadata["pair"])
        return dataframe

    def check_model_and_prediction(self, dataframe: DataFrame, pair: str) -> None:
        """
        Dry-run / live: safe mode while the model file (or an ensemble member's) or its latest
        prediction is bad, or the model was trained on other features than the strategy
        furnishes.
        """
        now = datetime.now(tz=UTC)
        info = self.freqai.dd.pair_dict.get(pair, {}) if getattr(self, "freqai", None) else {}
        path = None
        if info.get("data_path") and info.get("model_filename"):
            path = Path(info["data_path"]) / f"{info['model_filename']}_model.zip"
        problem = model_problem(
            path,
            info.get("trained_timestamp"),
            now,
            # promoted or not, the model retrains on the walk-forward's schedule
            self.safe_mode_config.max_model_age_hours,
            furnished=self.furnished_features.get(pair),
        )
        for member in range(1, self.ensemble.members if path is not None else 1):
            if problem is None:  # every member's file, as the ensemble loads them
                member_problem = model_problem(member_path(path, member), None, now, None)
                if member_problem is not None:
                    problem = f"ensemble member {member}: {member_problem}"
        self.report_safe_mode("model", problem, now)
        last = dataframe.iloc[-1]
        actions = range(self.action_count(pair))
        self.report_safe_mode(
            "prediction",
            prediction_problem(last["&-action"], last["do_predict"], actions),
            now,
        )

    def decision_model_id(self, pair: str) -> str | None:
        """
        :param pair: the traded pair
        :return: ``promoted-<bitbot.model_id>`` for a promoted model, else the FreqAI
            identifier and the model file in use (``meta-ppo/cb_btc_1757203200``)
        """
        if self.promoted_model:
            return f"promoted-{self.promoted_model}"
        freqai = getattr(self, "freqai", None)
        info = freqai.dd.pair_dict.get(pair, {}) if freqai is not None else {}
        identifier = (self.config.get("freqai") or {}).get("identifier")
        filename = info.get("model_filename")
        return f"{identifier}/{filename}" if identifier and filename else identifier
