"""
Every ``user_data`` path and shared constant of BitBot, once: the shipped configs and overlays,
the folders Freqtrade and BitBot write to, the traded pairs, the fee and the POC strategies.

Paths are relative to the repository root, where every ``bitbot`` command runs (as Freqtrade's
own ``user_data`` default is). This module depends on nothing else in the package.
"""

from __future__ import annotations

from pathlib import Path


USER_DATA = Path("user_data")
"""Freqtrade's user directory (``--userdir``)."""

# ------------------------------------------------------------------ shipped configuration
KRAKEN_CONFIG = "user_data/config.json"
"""The live / dry-run configuration: Kraken futures BTC/USD:USD (the base of every run)."""
LIVE_CONFIG = Path(KRAKEN_CONFIG)
BINANCE_OVERLAY = "user_data/config.binance.json"
"""Overlay for the research proxy: the Binance BTC/USDT:USDT perpetual."""
FREQAI_OVERLAY = "user_data/config.freqai.json"
"""Overlay of the MetaStrategy: FreqAI with MetaPPO."""
STACKER_OVERLAY = "user_data/config.stacker.json"
"""Overlay of the supervised baseline: FreqAI with LightGBM."""
PROMOTED_CONFIG = USER_DATA / "config.promoted.json"
"""Overlay written by ``bitbot models promote``: the model dry-run / live trade with."""
STRATEGY_REGISTRY = USER_DATA / "strategies_registry.json"
"""The strategies the meta layer listens to (``bitbot.registry`` overrides it)."""
MARKETS_DIR = USER_DATA / "markets"
"""Markets snapshots, ``<exchange>.json``."""

# ------------------------------------------------------------------ what BitBot writes
DATA_DIR = USER_DATA / "data"
"""Freqtrade's data folder; ``<exchange>`` below it."""
SYNTHETIC_DATA_DIR = DATA_DIR / "synthetic"
MODELS_ROOT = USER_DATA / "models"
"""FreqAI's models folder (``<user_data_dir>/models/<identifier>``)."""
MODEL_REGISTRY = USER_DATA / "models.sqlite"
"""The model registry of ``bitbot report`` / ``bitbot models``."""
REPORTS_DIR = USER_DATA / "reports"
REPORT_RESULTS = "results.json"
"""A report's figures in ``<REPORTS_DIR>/<name>/`` (written by ``bitbot report``, read by
``bitbot sweep``)."""
RESULTS_DIR = USER_DATA / "backtest_results" / "compare"
"""Where ``bitbot compare`` exports its backtests."""
REPLAY_ROOT = USER_DATA / "replay"
"""Parent folder of ``bitbot replay`` sessions."""

# ------------------------------------------------------------------ markets and strategies
KRAKEN_PAIR = "BTC/USD:USD"
BINANCE_PAIR = "BTC/USDT:USDT"
REAL_DATA_TIMERANGE = "20220101-"
"""The main backtest's period on real data."""
FEE = 0.0005
"""The ``fee`` per side both shipped configs set (taker fee of the traded perpetuals)."""
POC_STRATEGIES = ("VolatilitySystem", "SupertrendStrategy", "OTTStrategy", "BbandRsi")
"""The four proof-of-concept strategies the meta layer first listened to."""
SIGNAL_STRATEGIES = (
    *POC_STRATEGIES,
    "MovingAverageTrend",
    "DonchianBreakout",
    "VwapReversion",
    "FundingExtremes",
    "PerpSpotBasis",
)
"""Every strategy class of the registry: what ``make backtest`` and ``bitbot bias-check`` run."""
VOTE_STRATEGIES = (
    "EqualVoteStrategy",
    "PortfolioStrategy",
    "PerformanceVoteStrategy",
    "FollowTheLeaderStrategy",
    "WinnersPortfolioStrategy",
)
"""The vote baselines of the registered strategies."""

# ------------------------------------------------------------------ environment variables
ENV_DATADIR = "BITBOT_DATA"
"""A Freqtrade data folder every command reads by default (``--datadir`` beats it)."""


def under_user_data(path: Path, user_data_dir: Path | str | None) -> Path:
    """
    :param path: one of the ``user_data`` paths above
    :param user_data_dir: another user directory (Freqtrade's ``user_data_dir``), or None
    :return: ``path`` in that directory, or ``path`` itself when there is none
    """
    return Path(user_data_dir) / path.relative_to(USER_DATA) if user_data_dir else path
