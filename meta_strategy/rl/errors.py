"""
The one error of a bad meta-learner setting (``freqai.rl_config``, costs, rewards, algorithms),
and the check of ``freqai.rl_config``'s keys.

It is a Freqtrade ``OperationalException``, so a Freqtrade command started by ``bitbot`` stops at
start-up with exit code 2 and the one-line message, not a traceback.
"""

from __future__ import annotations

from freqtrade.exceptions import OperationalException

from meta_strategy.config_keys import check_known_keys


class RLConfigError(OperationalException, ValueError):
    """A setting of the meta-learner that cannot be used (names the key, value and choices)."""


BITBOT_RL_KEYS = frozenset(
    {
        "costs",  # rl.costs
        "exposure_levels",  # rl.env
        "decision_clock",  # rl.clock
        "action_mode",  # rl.actions
        "residual_base",  # rl.actions
        "ensemble",  # rl.ensemble
        "episode_length",  # MetaPPO
        "n_envs",  # rl.vector
        "seed",  # MetaPPO
        "policy_kwargs",  # rl.algorithms
        "train_with_stops",  # rl.env
        "predictors",  # rl.predictors
        "behaviour_cloning",  # rl.imitation
        "synthetic_pretraining",  # rl.pretraining
        "open_trade_returns",  # MetaStrategy (signals.track_record)
    }
)
"""The keys BitBot adds to ``freqai.rl_config``."""


def is_whole_number(value: object, low: int, high: int | None = None) -> bool:
    """
    :param value: a config value
    :return: whether it is an integer (not a bool, not a float) from ``low`` to ``high``
        (no upper bound with None)
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return low <= value and (high is None or value <= high)


def freqai_rl_keys() -> frozenset[str]:
    """:return: the ``rl_config`` keys Freqtrade's config schema declares"""
    from freqtrade.config_schema.config_schema import CONF_SCHEMA

    rl_config = CONF_SCHEMA["definitions"]["freqai"]["properties"]["rl_config"]
    return frozenset(rl_config["properties"])


def check_rl_config_keys(rl_config: dict) -> None:
    """
    :param rl_config: ``freqai.rl_config``
    :raises RLConfigError: a key neither FreqAI nor BitBot reads (a typo such as
        ``trian_cycles`` would otherwise train with the default, without a word)
    """
    check_known_keys(
        rl_config, freqai_rl_keys() | BITBOT_RL_KEYS, "freqai.rl_config", RLConfigError
    )
