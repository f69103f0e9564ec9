"""
Offline replay: the real bot (``freqtrade trade`` in dry-run) against a recorded market.

* :mod:`~meta_strategy.replay.clock`: the bot's clock runs in the recording's time, optionally
  faster than real time;
* :mod:`~meta_strategy.replay.market`: candles, mark prices, funding, tickers and a synthetic
  order book served as known at that time, and injectable faults;
* :mod:`~meta_strategy.replay.exchange`: Freqtrade's exchange fed by the recording;
* :mod:`~meta_strategy.replay.session`: ``bitbot replay`` (its folder, its config overlay,
  resuming after a restart).
"""

from meta_strategy.replay.clock import ReplayClock
from meta_strategy.replay.market import BookModel, FaultState, RecordedMarket
from meta_strategy.replay.session import ReplayError, ReplaySettings, run_replay


__all__ = [
    "BookModel",
    "FaultState",
    "RecordedMarket",
    "ReplayClock",
    "ReplayError",
    "ReplaySettings",
    "run_replay",
]
