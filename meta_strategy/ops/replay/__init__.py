"""
Offline replay: the real bot (``freqtrade trade`` in dry-run) against a recorded market.

* :mod:`~meta_strategy.ops.replay.clock`: the bot's clock runs in the recording's time,
  optionally faster than real time;
* :mod:`~meta_strategy.ops.replay.market`: candles, mark prices, funding, tickers and a
  synthetic order book served as known at that time; :mod:`~meta_strategy.ops.replay.faults`:
  injectable faults;
* :mod:`~meta_strategy.ops.replay.exchange`: Freqtrade's exchange fed by the recording;
* :mod:`~meta_strategy.ops.replay.session`: ``bitbot replay`` (its folder, its config
  overlay, resuming after a restart); :mod:`~meta_strategy.ops.replay.errors`: its errors.
"""
