"""
Trading costs of a perpetual futures position, one source for training and for every backtest.

* **Cost per fill** (``fee``): the config's ``fee`` x traded notional on every exposure change,
  exactly what Freqtrade's backtester charges on entry and exit notional. Slippage, which
  Freqtrade's backtester does not model, is one setting, ``bitbot.slippage_bps``, that BitBot
  folds into ``fee`` when it loads a Freqtrade config (:func:`fold_slippage`): every backtest,
  hyperopt, dry-run fill and training environment started by ``bitbot`` pays
  ``fee + slippage_bps / 10,000`` per side, and nothing pays it twice.
* **Funding**: at each funding event the position pays ``rate`` x position notional at the mark
  (a positive rate: longs pay shorts), as Freqtrade's ``funding_fees``.
* **Leverage**: target exposure ``e`` in [-1, 1] is a fraction of the stake, times ``leverage``.
* **Stake**: with ``stake_amount: "unlimited"`` Freqtrade stakes ``tradable_balance_ratio`` of
  the wallet; the environment sizes its positions the same way.
* **Liquidation** (isolated margin, the account equity as margin): the position is liquidated
  when equity marked at the candle's worst price falls to ``maintenance_margin`` x notional;
  what is left is lost as the liquidation fee. :func:`margin_breached` is this rule, the one
  the environment trains with and the research report applies to every equity curve.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from meta_strategy.config_keys import check_known_keys
from meta_strategy.freqtrade_bridge import patch_configuration
from meta_strategy.paths import FEE
from meta_strategy.rl.errors import RLConfigError


logger = logging.getLogger(__name__)


def margin_breached(
    quantity: Any, equity_at_worst: Any, worst_price: Any, maintenance_margin: float
) -> Any:
    """
    The liquidation rule: a position is liquidated when the account equity, marked at the
    candle's worst price for it (the low for a long, the high for a short), is at or below the
    maintenance margin of its notional at that price, ``equity <= mm |q| p_worst``.

    :param quantity: signed position in base currency (floats or numpy arrays)
    :param equity_at_worst: account equity marked at the worst price
    :param worst_price: the candle's worst price for the position
    :param maintenance_margin: fraction of notional
    :return: True where the position (non-zero) is liquidated
    """
    return (quantity != 0) & (equity_at_worst <= maintenance_margin * abs(quantity) * worst_price)


SLIPPAGE_KEY = "slippage_bps"
"""Key of the ``bitbot`` config section: slippage per fill in basis points."""
SIMULATED_RUNMODES = frozenset({"backtest", "hyperopt", "dry_run"})
"""Freqtrade run modes that charge the config's ``fee`` on simulated fills."""
FOLDED_KEY = "fee_without_slippage"
"""Key BitBot sets in the ``bitbot`` section once slippage is folded into ``fee``."""


class CostConfigError(RLConfigError):
    """A cost setting of the config that cannot be used."""


def slippage_bps(config: dict[str, Any]) -> float:
    """
    :param config: Freqtrade configuration
    :return: ``bitbot.slippage_bps`` (0 when unset)
    :raises CostConfigError: not a number in [0, 100)
    """
    value = config.get("bitbot", {}).get(SLIPPAGE_KEY, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 100:
        raise CostConfigError(f"bitbot.{SLIPPAGE_KEY} must be a number in [0, 100), got {value!r}")
    return float(value)


def fold_slippage(config: dict[str, Any]) -> None:
    """
    Fold ``bitbot.slippage_bps`` into the config's ``fee``, once: Freqtrade's backtester and
    dry-run fills then charge it on every fill, and the training environment (which charges
    ``fee``) pays the same. The fee before folding is kept as ``bitbot.fee_without_slippage``.

    :param config: Freqtrade configuration, changed in place
    :raises CostConfigError: a slippage is set, or the command simulates fills (backtesting,
        hyperopt, dry-run), but the config has no explicit ``fee`` (Freqtrade would silently
        take the exchange's, or the snapshot's)
    """
    bitbot = config.setdefault("bitbot", {})
    if FOLDED_KEY in bitbot:
        return
    slippage = slippage_bps(config)
    fee = config.get("fee")
    if fee is None:
        simulated = str(config.get("runmode", "")).lower() in SIMULATED_RUNMODES
        if slippage > 0 or simulated:
            raise CostConfigError(
                f"the config sets no 'fee' (bitbot.{SLIPPAGE_KEY} is {slippage:g}): set the "
                "exchange's fee explicitly; every simulated fill and the training environment "
                "charge it plus the slippage"
            )
        return
    bitbot[FOLDED_KEY] = float(fee)
    config["fee"] = float(fee) + slippage / 10_000
    logger.info(
        "Costs per fill: fee %.4f%% + slippage %g bp (bitbot.%s) = %.4f%%",
        float(fee) * 100,
        slippage,
        SLIPPAGE_KEY,
        config["fee"] * 100,
    )


def install_slippage_folding() -> None:
    """Fold the slippage into the fee of every config Freqtrade loads in this process."""
    patch_configuration(fold_slippage)


def explicit_fee(config: dict[str, Any]) -> float:
    """
    :param config: Freqtrade configuration
    :return: its ``fee``
    :raises CostConfigError: the config sets none
    """
    if config.get("fee") is None:
        raise CostConfigError(
            "The config must set 'fee' explicitly: the environment and every backtest charge it "
            "on every exposure change."
        )
    return float(config["fee"])


def cost_per_fill(config: dict[str, Any]) -> float:
    """
    :param config: Freqtrade configuration, folded or not
    :return: what one fill costs as a fraction of its notional: ``fee`` plus the slippage not
        yet folded into it
    :raises CostConfigError: no explicit ``fee``
    """
    fee = explicit_fee(config)
    if FOLDED_KEY in config.get("bitbot", {}):
        return fee
    return fee + slippage_bps(config) / 10_000


def traded_quantity(held: float, wanted: float, step: float) -> float:
    """
    The position after an order that trades from ``held`` towards ``wanted`` with amounts
    truncated to ``step``, as Freqtrade sizes orders: a new position (from flat, or the other
    side after a flip) is ``wanted`` truncated; a change on the same side (a position
    adjustment) moves by the truncated difference.

    :param held: signed position before the order
    :param wanted: signed position the target asks for
    :param step: amount step (0: no rounding)
    :return: the signed position after the order
    """
    if step <= 0:
        return wanted
    if held != 0.0 and held * wanted > 0.0:
        delta = wanted - held
        return held + math.copysign(math.floor(abs(delta) / step + 1e-9) * step, delta)
    return math.copysign(math.floor(abs(wanted) / step + 1e-9) * step, wanted)


def stake_fraction(config: dict[str, Any]) -> float:
    """
    :param config: Freqtrade configuration
    :return: the fraction of the equity staked at full exposure: ``tradable_balance_ratio``
        (Freqtrade's default 0.99) with ``stake_amount: "unlimited"``, else 1
    """
    if config.get("stake_amount") != "unlimited":
        return 1.0
    return float(config.get("tradable_balance_ratio", 0.99))


@dataclass(frozen=True)
class CostModel:
    """
    Costs and limits of the simulated account.

    :param fee: cost of a fill as a fraction of its notional, slippage included
    :param leverage: notional / stake at full exposure
    :param stake_fraction: fraction of the equity staked at full exposure (Freqtrade's
        ``tradable_balance_ratio``)
    :param maintenance_margin: fraction of the notional below which the position is liquidated
    :param funding: whether funding is charged
    :param amount_step: the exchange's amount step in base currency (Freqtrade truncates every
        order amount to it); 0: no rounding
    """

    fee: float = FEE
    leverage: float = 1.0
    stake_fraction: float = 1.0
    maintenance_margin: float = 0.01
    funding: bool = True
    amount_step: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "fee": 0 <= self.fee < 0.02,
            "leverage": 1 <= self.leverage <= 10,
            "stake_fraction": 0 < self.stake_fraction <= 1,
            "maintenance_margin": 0 < self.maintenance_margin < 0.5,
            "amount_step": self.amount_step >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ValueError(
                f"CostModel: out of range: {values} (fee incl. slippage < 2 %, leverage in "
                "[1, 10], stake fraction in (0, 1], maintenance margin in (0, 0.5), "
                "amount step >= 0)"
            )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CostModel:
        """
        :param config: Freqtrade configuration: ``fee`` (exactly what the backtest of the same
            config charges: slippage included once ``bitbot`` folded it, the bare fee in plain
            ``freqtrade``), ``bitbot.leverage``, ``tradable_balance_ratio`` and
            ``freqai.rl_config.costs`` (``maintenance_margin``, ``funding``)
        :return: the cost model the environment uses
        """
        costs = dict(config.get("freqai", {}).get("rl_config", {}).get("costs", {}))
        moved = {"slippage_bps", "slippage_range_fraction"} & set(costs)
        if moved:
            raise CostConfigError(
                f"freqai.rl_config.costs: {sorted(moved)} no longer apply: slippage is one "
                f"setting for the environment and every backtest, bitbot.{SLIPPAGE_KEY}"
            )
        check_known_keys(
            costs, ("maintenance_margin", "funding"), "freqai.rl_config.costs", CostConfigError
        )
        return cls(
            fee=explicit_fee(config),
            leverage=float(config.get("bitbot", {}).get("leverage", 1.0)),
            stake_fraction=stake_fraction(config),
            **costs,
        )


def exchange_amount_step(exchange: Any, pair: str) -> float:
    """
    :param exchange: Freqtrade's exchange object (None in unit tests)
    :param pair: the traded pair
    :return: the exchange's amount step of ``pair`` in base currency (what Freqtrade truncates
        order amounts to), 0 when the markets do not say
    """
    from ccxt import TICK_SIZE

    try:
        precision = exchange.get_precision_amount(pair)
        contract = exchange.get_contract_size(pair) or 1.0
        mode = exchange.precisionMode
    except Exception:  # no exchange (unit tests) or no market: no rounding
        return 0.0
    if precision is None:
        return 0.0
    step = precision if mode == TICK_SIZE else 10.0**-precision
    return float(step) * float(contract)
