"""
Causal scaling of the meta layer's features: each value against its own trailing window.

A feature whose level drifts (volatility in 2021 against 2024, funding in a bull market) leaves
the range a model was trained on; scaled by its trailing mean and standard deviation, it keeps
the range whatever the era. Only candles up to *t* enter the value at *t*.
"""

from __future__ import annotations

import logging

import numpy as np
from pandas import DataFrame


logger = logging.getLogger(__name__)

SCALE_WINDOW = 720
"""Trailing candles of the scaling (30 days at 1h)."""
SCALE_CLIP = 5.0
"""Scaled values are clipped to +- this many standard deviations."""


def rolling_zscore(
    frame: DataFrame, window: int = SCALE_WINDOW, clip: float = SCALE_CLIP
) -> DataFrame:
    """
    ``z_t = (x_t - mean(x_{t-window+1} .. x_t)) / std(...)``, clipped to ``[-clip, clip]``; 0
    where the window did not vary, NaN until it is full.

    :param frame: features, one per column
    :param window: trailing candles, >= 2
    :param clip: bound of the scaled values, > 0
    :return: the scaled features on ``frame.index``
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"scaling window must be a whole number >= 2, got {window!r}")
    if not clip > 0:
        raise ValueError(f"scaling clip must be > 0, got {clip!r}")
    values = frame.astype(np.float64)
    mean = values.rolling(window).mean()
    std = values.rolling(window).std()
    flat = std <= 1e-12 * (1.0 + mean.abs())
    scaled = ((values - mean) / std.mask(flat)).clip(-clip, clip)
    return scaled.mask(flat & std.notna(), 0.0)
