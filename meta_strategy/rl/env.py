"""
A perpetual-futures trading environment whose action is a target exposure.

Timing (as Freqtrade's backtester): the agent decides after candle ``t`` closes, seeing the
features of candle ``t`` and its own exposure; the order fills at the **open of candle t+1**.
One step then:

1. marks the position to ``open[t+1]`` and charges funding when a funding event falls on that
   open (``rate`` x position notional at the mark, longs pay a positive rate); a new trade
   opened on that open pays it too, as Freqtrade books it;
2. when the target level differs from the held one, trades to
   ``q = level x leverage x stake_fraction x scale x equity / open`` (``scale`` 1, or the
   volatility-targeting share of the stake known at ``t``'s close) (amounts truncated to the
   exchange's step, :func:`~meta_strategy.rl.costs.traded_quantity`) at the open, paying the
   cost per fill (fee + slippage, :class:`~meta_strategy.rl.costs.CostModel`) on the traded
   notional.
   This is what Freqtrade's backtester does with the same target path: it fills at the open,
   charges ``fee`` on the notional, stakes ``tradable_balance_ratio`` of the wallet, and on a
   flip exits and enters the other side at the same open (``Backtesting.backtest`` calls
   ``backtest_loop`` a second time); a test checks the two equity curves agree;
3. with ``stops`` (the risk layer's volatility stop, ``bitbot.risk.stop_atr_multiple``),
   trails the stop as Freqtrade's backtester does with the strategy's ``custom_stoploss``:
   from the candle's best price (high for longs), by the distance known at ``t``'s close, only
   ever tightening; when the candle's worst price reaches it, the position closes at the stop
   (at the open when the candle opened beyond it; on the candle a trade opened, at Freqtrade's
   pessimistic price) and stays flat until the agent's next decision or a candle whose target
   differs from the one before (the chosen strategy turned), as the strategy holds flat after a
   stop until such a candle re-arms it;
4. checks liquidation at the candle's worst price (low for longs, high for shorts); a
   liquidated account ends the episode with nothing left;
5. marks to ``close[t+1]`` and pays the reward on equity net of every cost.

With a decision clock (:mod:`~meta_strategy.rl.clock`, ``decisions``), one step holds the
chosen target from ``t+1`` through the next decision candle (steps 1, 3, 4 and 5 on each
candle, the trade of step 2 on the first), and pays one reward for the span.

Everything ``step()`` touches is precomputed into plain arrays: no pandas, O(1) per step.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
import pandas as pd
from gymnasium import spaces

from meta_strategy.rl.actions import level_choices
from meta_strategy.rl.clock import next_decisions
from meta_strategy.rl.costs import CostModel, margin_breached, traded_quantity
from meta_strategy.rl.errors import RLConfigError
from meta_strategy.rl.rewards import LogReturnReward, RewardFunction, StepContext


logger = logging.getLogger(__name__)

THREE_LEVELS: tuple[float, ...] = (-1.0, 0.0, 1.0)
FIVE_LEVELS: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0)
EQUITY_FLOOR = 1e-6


def exposure_levels(count: int) -> tuple[float, ...]:
    """
    :param count: 3 (short / flat / long) or 5 (adds half positions)
    :return: the target exposures, action index -> exposure
    """
    if count == 3:
        return THREE_LEVELS
    if count == 5:
        return FIVE_LEVELS
    raise RLConfigError(f"freqai.rl_config.exposure_levels must be 3 or 5, got {count!r}")


def trains_with_stops(rl_config: dict) -> bool:
    """
    :param rl_config: ``freqai.rl_config``
    :return: ``train_with_stops``: whether the training environment trails the risk layer's
        volatility stop (default False)
    :raises RLConfigError: not true or false
    """
    value = rl_config.get("train_with_stops", False)
    if not isinstance(value, bool):
        raise RLConfigError(
            f"freqai.rl_config.train_with_stops must be true or false, got {value!r}"
        )
    return value


def build_observation(features: npt.NDArray[np.floating], exposure: float) -> np.ndarray:
    """
    The agent's observation: the features of the last closed candle and its own exposure.
    Training, backtesting and live trading all build observations with this function.

    :param features: feature vector of one candle (already normalised by FreqAI's pipeline)
    :param exposure: the target exposure the agent holds (-1 .. 1)
    :return: float32 vector
    """
    obs = np.empty(len(features) + 1, dtype=np.float32)
    obs[:-1] = features
    obs[-1] = exposure
    return obs


@dataclass(frozen=True)
class MarketArrays:
    """Prices and funding of the traded contract, one row per candle."""

    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    funding: npt.NDArray[np.float64]
    mark: npt.NDArray[np.float64]

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> MarketArrays:
        """
        :param df: ``open``, ``high``, ``low``, ``close`` and optionally ``funding_rate`` (the
            rate charged at the candle's open; 0 or NaN where there is no funding event) and
            ``mark_open`` (the mark price at the open)
        :return: the arrays
        :raises ValueError: missing columns, NaN or non-positive prices
        """
        missing = [c for c in ("open", "high", "low", "close") if c not in df]
        if missing:
            raise ValueError(f"MarketArrays: missing columns {missing}")
        prices = {c: df[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")}
        for name, values in prices.items():
            if not np.isfinite(values).all() or (values <= 0).any():
                bad = int(np.flatnonzero(~np.isfinite(values) | (values <= 0))[0])
                raise ValueError(f"MarketArrays: {name} is NaN or not positive at row {bad}")
        funding = (
            df["funding_rate"].to_numpy(dtype=np.float64)
            if "funding_rate" in df
            else np.zeros(len(df))
        )
        mark = df["mark_open"].to_numpy(dtype=np.float64) if "mark_open" in df else prices["open"]
        return cls(
            funding=np.nan_to_num(funding),
            mark=np.where(np.isfinite(mark), mark, prices["open"]),
            **prices,
        )

    def __len__(self) -> int:
        return len(self.close)


@dataclass
class AccountState:
    """What the environment tracks between steps."""

    equity: float
    quantity: float = 0.0
    level: float = 0.0
    fees: float = 0.0
    funding: float = 0.0
    trades: int = 0
    liquidated: bool = False
    stop: float = math.nan
    """the open position's stop price (NaN: none yet)"""
    stopped: bool = False
    """a stop closed the position (flat until the next decision or a new target)"""
    stops: int = 0


def _check_per_candle(values: Any, what: str, candles: int) -> None:
    """:raises ValueError: ``values`` (unless None) is not one per candle"""
    if values is not None and len(values) != candles:
        raise ValueError(f"FuturesTradingEnv: {len(values)} {what} for {candles} candles")


class FuturesTradingEnv(gym.Env):
    """
    :param features: (n, k) feature matrix, row ``t`` known at candle ``t``'s close
    :param market: prices and funding, same length
    :param costs: cost per fill, leverage, stake, margin
    :param reward: reward function (default: log return of equity)
    :param levels: target exposures, indexed by action
    :param episode_length: steps per episode; ``None`` runs the whole series from the start,
        otherwise each episode starts at a random row drawn from the seeded generator
    :param initial_equity: account equity at the start of an episode
    :param decisions: per candle, whether the agent decides after its close (the decision
        clock); None: after every candle
    :param choices: the action mode's choice matrix (:mod:`~meta_strategy.rl.actions`): row
        ``t``, column ``a`` is the exposure action ``a`` holds over candle ``t+1``; None: the
        action is the exposure, ``levels[a]``
    :param benchmark: a benchmark combiner's net return over each candle, for the rewards that
        measure against it (:class:`~meta_strategy.rl.rewards.ExcessLogReturnReward`)
    :param scales: the share of the stake a trade decided after each candle takes (volatility
        targeting, :mod:`meta_strategy.trading.sizing`); None: the full stake
    :param stops: the trailing stop's distance from the price known at each candle's close
        (``stop_atr_multiple x ATR``, step 3); None or 0: no stop
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        features: npt.NDArray[np.floating],
        market: MarketArrays,
        costs: CostModel | None = None,
        reward: RewardFunction | None = None,
        levels: tuple[float, ...] = THREE_LEVELS,
        episode_length: int | None = None,
        initial_equity: float = 1.0,
        decisions: npt.NDArray[np.bool_] | None = None,
        choices: npt.NDArray[np.floating] | None = None,
        benchmark: npt.NDArray[np.floating] | None = None,
        scales: npt.NDArray[np.floating] | None = None,
        stops: npt.NDArray[np.floating] | None = None,
    ) -> None:
        super().__init__()
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or len(features) != len(market):
            raise ValueError(
                f"FuturesTradingEnv: features {features.shape} do not match {len(market)} candles"
            )
        if len(market) < 2:
            raise ValueError("FuturesTradingEnv: needs at least two candles")
        if not np.isfinite(features).all():
            row = int(np.flatnonzero(~np.isfinite(features).all(axis=1))[0])
            raise ValueError(f"FuturesTradingEnv: NaN or infinite feature at row {row}")
        self.features = features
        self.market = market
        self.costs = costs or CostModel()
        self.reward_fn = reward or LogReturnReward()
        self.levels = tuple(float(x) for x in levels)
        self.episode_length = episode_length
        self.initial_equity = initial_equity
        # Python lists: scalar indexing is several times faster than on numpy arrays.
        self._o = market.open.tolist()
        self._h = market.high.tolist()
        self._lo = market.low.tolist()
        self._c = market.close.tolist()
        self._f = market.funding.tolist()
        self._m = market.mark.tolist()
        _check_per_candle(decisions, "decision flags", len(market))
        every = np.ones(len(market), dtype=bool) if decisions is None else decisions
        self._next = next_decisions(every).tolist()
        if choices is None:
            choices = level_choices(self.levels, len(market))
        choices = np.asarray(choices, dtype=np.float64)
        if choices.ndim != 2 or len(choices) != len(market) or not np.isfinite(choices).all():
            raise ValueError(
                f"FuturesTradingEnv: choices {choices.shape} must be finite, one row per candle "
                f"({len(market)})"
            )
        self._choices = choices.tolist()
        if benchmark is None and self.reward_fn.uses_benchmark:
            raise ValueError(
                f"FuturesTradingEnv: the reward {type(self.reward_fn).__name__} needs the "
                "benchmark's returns"
            )
        _check_per_candle(benchmark, "benchmark returns", len(market))
        if scales is not None and (
            len(scales) != len(market) or not np.isfinite(np.asarray(scales, float)).all()
        ):
            raise ValueError(
                f"FuturesTradingEnv: scales must be finite, one per candle ({len(market)})"
            )
        self._s = (np.ones(len(market)) if scales is None else np.asarray(scales, float)).tolist()
        _check_per_candle(stops, "stop distances", len(market))
        self._d = None if stops is None else np.nan_to_num(np.asarray(stops, float)).tolist()
        growth = np.zeros(len(market)) if benchmark is None else np.asarray(benchmark, float)
        self._b = np.log1p(np.clip(np.nan_to_num(growth), -1.0 + 1e-12, None)).tolist()
        self.action_space = spaces.Discrete(choices.shape[1])
        self.observation_space = spaces.Box(-np.inf, np.inf, (features.shape[1] + 1,), np.float32)
        self._t = 0
        self._end = len(market) - 1
        self.state = AccountState(equity=initial_equity)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """
        :param seed: seeds the episode-start generator (``gymnasium`` convention)
        :param options: unused
        :return: first observation and info
        """
        super().reset(seed=seed)
        last_start = len(self.market) - 2
        if self.episode_length is None or self.episode_length >= last_start:
            self._t = 0
            self._end = len(self.market) - 1
        else:
            self._t = int(self.np_random.integers(0, last_start - self.episode_length + 1))
            self._end = self._t + self.episode_length
        self.state = AccountState(equity=self.initial_equity)
        self.reward_fn.reset(self.initial_equity)
        return build_observation(self.features[self._t], 0.0), self._info()

    def _info(self) -> dict[str, Any]:
        s = self.state
        return {
            "equity": s.equity,
            "exposure": s.level,
            "quantity": s.quantity,
            "fees": s.fees,
            "funding": s.funding,
            "trades": s.trades,
            "stops": s.stops,
            "liquidated": s.liquidated,
            "tick": self._t,
        }

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """
        :param action: index into ``levels``
        :return: observation, reward, terminated, truncated, info
        """
        s = self.state
        a = int(action)
        equity_before = s.equity
        s.stopped = False  # a decision re-arms entries after a stop
        n = self._t + 1
        last = max(n, min(self._next[self._t], self._end))  # held through the next decision
        turnover = self._candle(n, self._choices[n - 1][a])
        benchmark = self._b[n]
        while n < last and not s.liquidated:
            n += 1
            if self._choices[n - 1][a] != self._choices[n - 2][a]:
                s.stopped = False  # a new target re-arms entries, as the strategy's REARM_TAG
            turnover += self._candle(n, self._choices[n - 1][a])
            benchmark += self._b[n]
        reward = self.reward_fn(
            max(equity_before, EQUITY_FLOOR),
            max(s.equity, EQUITY_FLOOR),
            StepContext(turnover, benchmark),
        )
        self._t = n
        terminated = s.liquidated or s.equity <= EQUITY_FLOOR
        truncated = not terminated and n >= self._end
        obs = build_observation(self.features[n], s.level)
        return obs, float(reward), terminated, truncated, self._info()

    def _candle(self, n: int, target: float) -> float:
        """
        Candle ``n``: mark to its open and pay funding, trade to ``target`` at the open, trail
        the stop, check liquidation at its worst price, mark to its close (steps 1 to 5 above).

        :return: the exposure traded (``|target - held|``, 0 without a trade)
        """
        s = self.state
        if s.stopped:
            target = 0.0
        traded = abs(target - s.level)
        o = self._o[n]
        # 1. mark to the open, funding on the held position
        equity = s.equity + s.quantity * (o - self._c[n - 1])
        if self.costs.funding and s.quantity != 0.0 and self._f[n] != 0.0:
            paid = s.quantity * self._m[n] * self._f[n]
            equity -= paid
            s.funding += paid
        # 2. trade to the target at the open, paying the cost per fill
        opened = False
        if target != s.level:
            costs = self.costs
            stake = costs.stake_fraction * self._s[n - 1]  # sized when the trade was decided
            wanted = target * costs.leverage * stake * max(equity, 0.0) / o
            q_target = traded_quantity(s.quantity, wanted, costs.amount_step)
            fee = costs.fee * abs(q_target - s.quantity) * o
            equity -= fee
            s.fees += fee
            opens_trade = target != 0.0 and target * s.level <= 0.0
            s.quantity = q_target
            s.level = target
            s.trades += 1
            if opens_trade:
                s.stop = math.nan
                opened = True
            if opens_trade and self.costs.funding and self._f[n] != 0.0:
                # Freqtrade counts a trade's funding from its open date inclusive
                # (Exchange.calculate_funding_fees): a trade opened on a funding event pays it.
                paid = s.quantity * self._m[n] * self._f[n]
                equity -= paid
                s.funding += paid
        # 3. the trailing stop
        if self._d is not None and s.quantity != 0.0 and self._d[n - 1] > 0.0:
            equity = self._trail_stop(n, equity, opened)
        # 4. liquidation at the worst price of the candle
        if s.quantity != 0.0:
            worst = self._lo[n] if s.quantity > 0 else self._h[n]
            at_worst = equity + s.quantity * (worst - o)
            if margin_breached(s.quantity, at_worst, worst, self.costs.maintenance_margin):
                s.liquidated = True
                s.quantity = 0.0
                s.level = 0.0
                equity = 0.0
        # 5. mark to the close
        equity += s.quantity * (self._c[n] - o)
        s.equity = max(equity, 0.0)
        return traded

    def _trail_stop(self, n: int, equity: float, opened: bool) -> float:
        """
        Step 3: tighten the stop from the candle's best price, and close the position at the
        stop when the candle reaches it (Freqtrade's ``ft_stoploss_adjust``,
        ``ft_stoploss_reached`` and ``Backtesting._get_close_rate_for_stoploss``).

        :param opened: the position opened at this candle's open
        :return: the equity after the exit's cost (unchanged without an exit)
        """
        s = self.state
        o, high, low, distance = self._o[n], self._h[n], self._lo[n], self._d[n - 1]
        if s.quantity > 0:
            if not s.stop >= low:  # Freqtrade trails only while the stop is below the price
                s.stop = high - distance if math.isnan(s.stop) else max(s.stop, high - distance)
            if not s.stop >= low:
                return equity
            if s.stop > high:
                price = o
            elif opened:  # the trade's first candle: up a tick, then down to the stop
                price = max(low, o * (1.0 - distance / high))
            else:
                price = s.stop
        else:
            if not s.stop <= high:
                s.stop = low + distance if math.isnan(s.stop) else min(s.stop, low + distance)
            if not s.stop <= high:
                return equity
            if s.stop < low:
                price = o
            elif opened:
                price = min(high, o * (1.0 + distance / low))
            else:
                price = s.stop
        equity += s.quantity * (price - o)
        fee = self.costs.fee * abs(s.quantity) * price
        s.fees += fee
        s.quantity, s.level, s.stopped = 0.0, 0.0, True
        s.trades += 1
        s.stops += 1
        return equity - fee

    def action_masks(self) -> list[bool]:
        """:return: every action is allowed (MaskablePPO compatibility)"""
        return [True] * int(self.action_space.n)
