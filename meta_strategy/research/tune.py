"""
``bitbot tune`` / ``make hyperopt``: Freqtrade's hyperopt of one strategy on the resolved data,
with BitBot's loss functions and the parameters applied only when asked.
"""

from __future__ import annotations

import logging

from meta_strategy.data.choice import SYNTHETIC_NOTICE, ensure_data, resolve_backtest_data
from meta_strategy.data.preflight import run_freqtrade_checked
from meta_strategy.freqtrade_bridge import config_args


logger = logging.getLogger(__name__)


def tune(
    strategy: str,
    epochs: int,
    spaces: list[str],
    loss: str,
    timerange: str | None = None,
    extra_args: list[str] | None = None,
    apply: bool = False,
) -> int:
    """
    Hyperopt one strategy on the resolved data with BitBot's loss functions.

    :param strategy: strategy class name
    :param epochs: hyperopt epochs
    :param spaces: hyperopt spaces
    :param loss: hyperopt loss class (Freqtrade's or one in ``hyperopts/``)
    :param timerange: period (default as the main backtest)
    :param extra_args: more Freqtrade arguments
    :param apply: write the best parameters next to the strategy (``<Strategy>.json``), where
        every later backtest and the bot pick them up. Off by default: parameters tuned on a
        period make backtests of that period in-sample.
    :return: exit code
    """
    choice = resolve_backtest_data()
    print(f"bitbot tune: {choice.description}")
    ensure_data(choice)
    argv = [
        "hyperopt",
        *config_args(choice.configs),
        "--datadir",
        str(choice.datadir),
        "--strategy",
        strategy,
        "--hyperopt-loss",
        loss,
        "--hyperopt-path",
        "hyperopts",
        "--epochs",
        str(epochs),
        "--spaces",
        *spaces,
        "-j",
        "1",
        # Indicators depend on the tuned parameters: recompute them every epoch.
        "--analyze-per-epoch",
        # A strategy may have no parameter in a space (VolatilitySystem has no sell space).
        "--ignore-missing-space",
    ]
    if timerange or choice.timerange:
        argv += ["--timerange", timerange or choice.timerange]
    if not apply:
        argv.append("--disable-param-export")
    code = run_freqtrade_checked(argv + (extra_args or []))
    if code == 0 and not apply:
        print(
            f"Parameters were not applied to {strategy}. Re-run with --apply (make hyperopt "
            f"APPLY=1) to write user_data/strategies/{strategy}.json."
        )
    if choice.synthetic:
        print(SYNTHETIC_NOTICE)
    return code
