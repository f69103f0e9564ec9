"""
Trading costs of a perpetual futures position, matched to Freqtrade's backtester.

* **Fee**: ``fee`` x traded notional on every exposure change (Freqtrade charges the config's
  ``fee`` on entry and exit notional).
* **Slippage**: the fill moves against the trade by ``slippage_bps`` basis points plus
  ``slippage_range_fraction`` x the last closed candle's high-low range (as a fraction of its
  close), known when the order is sent.
* **Funding**: at each funding event the position pays ``rate`` x position notional at the mark
  (a positive rate: longs pay shorts), as Freqtrade's ``funding_fees``.
* **Leverage**: target exposure ``e`` in [-1, 1] is a fraction of equity, times ``leverage``.
* **Liquidation** (isolated margin, the account equity as margin): the position is liquidated
  when equity marked at the candle's worst price falls to ``maintenance_margin`` x notional;
  what is left is lost as the liquidation fee. :func:`margin_breached` is this rule, the one
  the environment trains with and the research report applies to every equity curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meta_strategy.paths import FEE


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


@dataclass(frozen=True)
class CostModel:
    """Costs and limits of the simulated account."""

    fee: float = FEE
    slippage_bps: float = 2.0
    slippage_range_fraction: float = 0.05
    leverage: float = 1.0
    maintenance_margin: float = 0.01
    funding: bool = True

    def __post_init__(self) -> None:
        checks = {
            "fee": 0 <= self.fee < 0.01,
            "slippage_bps": 0 <= self.slippage_bps < 100,
            "slippage_range_fraction": 0 <= self.slippage_range_fraction <= 1,
            "leverage": 1 <= self.leverage <= 10,
            "maintenance_margin": 0 < self.maintenance_margin < 0.5,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ValueError(
                f"CostModel: out of range: {values} (fee < 1 %, slippage_bps < 100, "
                "range fraction in [0, 1], leverage in [1, 10], maintenance margin "
                "in (0, 0.5))"
            )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CostModel:
        """
        :param config: Freqtrade configuration: ``fee``, ``bitbot.leverage`` and
            ``freqai.rl_config.costs`` (``slippage_bps``, ``slippage_range_fraction``,
            ``maintenance_margin``, ``funding``)
        :return: the cost model the environment uses
        """
        costs = dict(config.get("freqai", {}).get("rl_config", {}).get("costs", {}))
        unknown = set(costs) - {
            "slippage_bps",
            "slippage_range_fraction",
            "maintenance_margin",
            "funding",
        }
        if unknown:
            raise ValueError(f"freqai.rl_config.costs: unknown keys {sorted(unknown)}")
        if "fee" not in config:
            raise ValueError(
                "The config must set 'fee' explicitly: the environment charges it "
                "on every exposure change, as the backtester does."
            )
        return cls(
            fee=float(config["fee"]),
            leverage=float(config.get("bitbot", {}).get("leverage", 1.0)),
            **costs,
        )

    def slippage(self, prev_high: float, prev_low: float, prev_close: float) -> float:
        """
        :return: adverse price move of a fill, as a fraction of the price
        """
        candle_range = (prev_high - prev_low) / prev_close if prev_close > 0 else 0.0
        return self.slippage_bps / 1e4 + self.slippage_range_fraction * candle_range
