"""
Training curves of the meta-learner from the tensorboard logs that MetaPPO writes per
walk-forward window (``freqai.activate_tensorboard``): SB3's ``rollout/ep_rew_mean`` (reward of
each training episode) and ``eval/mean_reward`` (reward on the window's held-out split).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path


logger = logging.getLogger(__name__)

TAGS = ("rollout/ep_rew_mean", "eval/mean_reward")
WINDOW = re.compile(r"sub-train-\w+?_(\d+)_\d+$")


def read_training_curves(models_root: Path, identifier: str) -> dict[str, dict[str, list]]:
    """
    :param models_root: FreqAI's models folder (``user_data/models``)
    :param identifier: the FreqAI identifier of a run
    :return: ``{window trained timestamp: {tag: [[step, value], ...]}}``; empty when the run
        wrote no logs
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    curves: dict[str, dict[str, list]] = {}
    root = models_root / identifier / "tensorboard"
    if not root.is_dir():
        return curves
    for folder in sorted(p for p in root.glob("*/*") if p.is_dir()):
        match = WINDOW.search(folder.name)
        if not match:
            continue
        events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
        try:
            events.Reload()
        except Exception as e:  # a truncated log must not stop the report
            logger.warning("Unreadable tensorboard log %s: %s", folder, e)
            continue
        available = set(events.Tags().get("scalars", []))
        window = curves.setdefault(match.group(1), {})
        for tag in TAGS:
            if tag in available:
                window[tag] = [[int(e.step), float(e.value)] for e in events.Scalars(tag)]
    return curves
