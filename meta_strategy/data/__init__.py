"""
Market data: where Freqtrade's files are and whether they are sound, timeframes, markets
snapshots, the synthetic market, and which data a backtest runs on.

* :mod:`~meta_strategy.data.files`: file names and paths, and the data error;
* :mod:`~meta_strategy.data.candles`: reading and checking one candle or funding file, gaps;
* :mod:`~meta_strategy.data.checks`: the pre-flight check of a data folder;
* :mod:`~meta_strategy.data.timeframes`: timeframes, timeranges, closed higher timeframes;
* :mod:`~meta_strategy.data.markets`: markets snapshots (offline market definitions);
* :mod:`~meta_strategy.data.preflight`: the checks before a Freqtrade command, and running it;
* :mod:`~meta_strategy.data.choice`: which data the main backtest and the report run on;
* :mod:`~meta_strategy.data.synthetic`: a deterministic SYNTHETIC market for offline runs.
"""
