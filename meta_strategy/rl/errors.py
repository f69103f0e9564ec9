"""
The one error of a bad meta-learner setting (``freqai.rl_config``, costs, rewards, algorithms).

It is a Freqtrade ``OperationalException``, so a Freqtrade command started by ``bitbot`` stops at
start-up with exit code 2 and the one-line message, not a traceback.
"""

from __future__ import annotations

from freqtrade.exceptions import OperationalException


class RLConfigError(OperationalException, ValueError):
    """A setting of the meta-learner that cannot be used (names the key, value and choices)."""
