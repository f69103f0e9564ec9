"""
BitBot's importable library. Domain packages, whose dependencies point one way (a package
imports only from the packages below it in this list, never from one above):

* :mod:`meta_strategy.cli`: the ``bitbot`` command;
* :mod:`meta_strategy.research` (backtests side by side, tuning, the bias check, metrics, the
  research report) and :mod:`meta_strategy.ops` (credential guard, Telegram, replay);
* :mod:`meta_strategy.trading` (the target-exposure strategy base, leverage, risk, safe mode,
  decision messages), :mod:`meta_strategy.models` (trained models on disk, their registry,
  promotion) and :mod:`meta_strategy.rl` (the futures environment, costs, rewards, algorithm
  presets);
* :mod:`meta_strategy.signals`: indicators, the strategy registry, the signal engine, votes;
* :mod:`meta_strategy.data`: data files and their checks, timeframes, markets snapshots, the
  synthetic market, which data a backtest runs on;
* :mod:`meta_strategy.paths` (every ``user_data`` path and shared constant) and
  :mod:`meta_strategy.freqtrade_bridge` (running Freqtrade, every patch of it), which depend on
  nothing above them.

Strategy files in ``user_data/strategies`` stay thin and import from here.
``tests/unit/test_architecture.py`` holds the dependency rule and finds any import circle.
"""

__version__ = "0.1.0"
