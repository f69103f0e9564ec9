"""
Reward functions of the futures environment. All receive the step's equity before and after
(net of every cost) and keep whatever state they need; every coefficient comes from config
(``freqai.rl_config.model_reward_parameters``).

* :class:`LogReturnReward` (default): ``log(E_t / E_{t-1})``, so the episode return is the log
  growth of equity.
* :class:`DifferentialSharpeReward`: Moody & Saffell (1998, 2001), "Learning to trade via direct
  reinforcement": with exponential moving estimates ``A`` of the first and ``B`` of the second
  moment of returns (rate ``eta``),
  ``D_t = (B_{t-1} dA_t - A_{t-1} dB_t / 2) / (B_{t-1} - A_{t-1}^2)^{3/2}``.
* :class:`DrawdownPenalisedReward`: log return minus ``penalty`` x the increase of the drawdown
  from the equity peak in this step.
* :class:`ExcessLogReturnReward`: log return minus the log return of a benchmark combiner over
  the same step (``benchmark``: one of :data:`BENCHMARKS`, the combiners of
  :func:`~meta_strategy.rl.actions.combiner_direction`, or ``strategy:<registry entry>``; its
  net return per candle handed over by the strategy), so the agent is paid only for beating
  what a rule gets for free (the active return of portfolio management; Grinold & Kahn 2000).
  Its ``drawdown_penalty`` (default 0) also subtracts that coefficient x the increase of the
  agent's own drawdown in the step, as :class:`DrawdownPenalisedReward` does: a residual agent
  that only matches its base earns nothing, and one that stands aside as its equity falls from
  the peak is paid for the drawdown it avoided.

``log_return`` and ``excess_log_return`` take a ``turnover_penalty``: minus that coefficient x
the exposure traded in the step (``|new - old|`` summed), on top of the costs the equity already
paid: a brake on churning that the costs alone, small per trade, do not apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from meta_strategy.config_keys import check_known_keys
from meta_strategy.rl.actions import COMBINERS, STRATEGY_COMBINER, is_combiner
from meta_strategy.rl.errors import RLConfigError


@dataclass(frozen=True)
class StepContext:
    """
    What else happened in a step, for the rewards that read it.

    :ivar turnover: exposure traded in the step (``|new - old|`` summed over its trades)
    :ivar benchmark_log_return: the benchmark combiner's log return over the step's candles
    """

    turnover: float = 0.0
    benchmark_log_return: float = 0.0


NO_CONTEXT = StepContext()


class RewardFunction:
    """A reward computed from equity before and after one step."""

    uses_benchmark = False
    """Whether the reward needs the benchmark's returns (the strategy hands them over)."""

    def reset(self, equity: float) -> None:
        """:param equity: equity at the start of an episode (stateless rewards ignore it)"""
        return None

    def __call__(
        self, equity_before: float, equity_after: float, context: StepContext = NO_CONTEXT
    ) -> float:
        """
        :param equity_before: equity at the previous step
        :param equity_after: equity now, net of all costs
        :param context: the step's turnover and benchmark return
        :return: the reward
        """
        raise NotImplementedError


def _log_return(before: float, after: float, floor: float = 1e-9) -> float:
    return math.log(max(after, floor) / max(before, floor))


def _non_negative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise RLConfigError(
            f"freqai.rl_config.model_reward_parameters.{name} must be a number >= 0, got {value!r}"
        )
    return float(value)


class LogReturnReward(RewardFunction):
    """``log(E_t / E_{t-1}) - turnover_penalty x turnover``, scaled by ``scale`` (default 1)."""

    def __init__(self, scale: float = 1.0, turnover_penalty: float = 0.0) -> None:
        self.scale = scale
        self.turnover_penalty = _non_negative("turnover_penalty", turnover_penalty)

    def __call__(
        self, equity_before: float, equity_after: float, context: StepContext = NO_CONTEXT
    ) -> float:
        growth = _log_return(equity_before, equity_after)
        return self.scale * (growth - self.turnover_penalty * context.turnover)


BENCHMARKS: tuple[str, ...] = COMBINERS
"""The combiners :class:`ExcessLogReturnReward` can be measured against (and
``strategy:<registry entry>``, one registered strategy)."""


class DrawdownTracker:
    """The drawdown of equity from its running peak, and how much each step deepened it."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.drawdown = 0.0

    def reset(self, equity: float) -> None:
        """:param equity: equity at the start of an episode (the first peak)"""
        self.peak = equity
        self.drawdown = 0.0

    def deepened(self, equity: float) -> float:
        """
        :param equity: equity after the step
        :return: ``max(0, DD_t - DD_{t-1})`` with ``DD_t = 1 - E_t / max_{s<=t} E_s``
        """
        self.peak = max(self.peak, equity)
        drawdown = 1.0 - equity / self.peak if self.peak > 0 else 0.0
        increase = max(0.0, drawdown - self.drawdown)
        self.drawdown = drawdown
        return increase


class ExcessLogReturnReward(LogReturnReward):
    """Log return minus the benchmark's over the step, minus the turnover penalty and the
    drawdown penalty, scaled."""

    uses_benchmark = True

    def __init__(
        self,
        benchmark: str = "equal_vote",
        scale: float = 1.0,
        turnover_penalty: float = 0.0,
        drawdown_penalty: float = 0.0,
    ) -> None:
        if not is_combiner(benchmark):
            raise RLConfigError(
                f"freqai.rl_config.model_reward_parameters.benchmark is {benchmark!r}; "
                f"expected one of {', '.join(BENCHMARKS)} or {STRATEGY_COMBINER}<registry entry>"
            )
        super().__init__(scale, turnover_penalty)
        self.benchmark = benchmark
        self.drawdown_penalty = _non_negative("drawdown_penalty", drawdown_penalty)
        self.drawdown = DrawdownTracker()

    def reset(self, equity: float) -> None:
        self.drawdown.reset(equity)

    def __call__(
        self, equity_before: float, equity_after: float, context: StepContext = NO_CONTEXT
    ) -> float:
        own = super().__call__(equity_before, equity_after, context)
        deepened = self.drawdown.deepened(equity_after)
        return own - self.scale * (context.benchmark_log_return + self.drawdown_penalty * deepened)


class DifferentialSharpeReward(RewardFunction):
    """Moody & Saffell's differential Sharpe ratio with adaptation rate ``eta``."""

    def __init__(self, eta: float = 0.01, scale: float = 1.0) -> None:
        if not 0 < eta < 1:
            raise ValueError(f"DifferentialSharpeReward: eta must be in (0, 1), got {eta}")
        self.eta = eta
        self.scale = scale
        self.a = 0.0
        self.b = 0.0

    def reset(self, equity: float) -> None:
        self.a = 0.0
        self.b = 0.0

    def __call__(
        self, equity_before: float, equity_after: float, context: StepContext = NO_CONTEXT
    ) -> float:
        r = _log_return(equity_before, equity_after)
        delta_a = r - self.a
        delta_b = r * r - self.b
        variance = self.b - self.a * self.a
        reward = 0.0
        if variance > 1e-12:
            reward = (self.b * delta_a - 0.5 * self.a * delta_b) / variance**1.5
        self.a += self.eta * delta_a
        self.b += self.eta * delta_b
        return self.scale * reward


class DrawdownPenalisedReward(RewardFunction):
    """Log return minus ``penalty`` x the increase of drawdown (fraction of the peak)."""

    def __init__(self, penalty: float = 1.0, scale: float = 1.0) -> None:
        self.penalty = penalty
        self.scale = scale
        self.drawdown = DrawdownTracker()

    def reset(self, equity: float) -> None:
        self.drawdown.reset(equity)

    def __call__(
        self, equity_before: float, equity_after: float, context: StepContext = NO_CONTEXT
    ) -> float:
        increase = self.drawdown.deepened(equity_after)
        return self.scale * (_log_return(equity_before, equity_after) - self.penalty * increase)


FREQAI_REWARD_KEYS = frozenset({"rr", "profit_aim", "win_reward_factor"})
"""Keys FreqAI's own environments read from ``model_reward_parameters`` (MetaPPO ignores them)."""

REWARDS: dict[str, type[RewardFunction]] = {
    "log_return": LogReturnReward,
    "differential_sharpe": DifferentialSharpeReward,
    "drawdown_penalised": DrawdownPenalisedReward,
    "excess_log_return": ExcessLogReturnReward,
}


def make_reward(params: dict[str, Any]) -> RewardFunction:
    """
    :param params: ``{"reward": "log_return" | "differential_sharpe" | "drawdown_penalised" |
        "excess_log_return", ...coefficients}`` (FreqAI's ``model_reward_parameters``;
        FreqAI's own keys :data:`FREQAI_REWARD_KEYS` are ignored)
    :return: the reward function
    :raises RLConfigError: unknown reward name, or a key neither the reward nor FreqAI knows
    :raises ValueError: a coefficient out of range
    """
    name = params.get("reward", "log_return")
    if name not in REWARDS:
        raise RLConfigError(
            f"freqai.rl_config.model_reward_parameters.reward: unknown reward {name!r}; choose "
            f"one of {sorted(REWARDS)}"
        )
    cls = REWARDS[name]
    accepted = cls.__init__.__code__.co_varnames[1 : cls.__init__.__code__.co_argcount]
    check_known_keys(
        params,
        {"reward", *accepted, *FREQAI_REWARD_KEYS},
        f"freqai.rl_config.model_reward_parameters (reward {name!r})",
        RLConfigError,
    )
    kwargs = {k: v for k, v in params.items() if k in accepted}
    return cls(**kwargs)
