"""
End to end: model faults in the real dry-run bot (``bitbot replay``) trading a promoted model.

A tiny FreqAI walk-forward on the Binance perpetual is promoted (``bitbot models promote`` keys
it to the traded BTC/USD:USD), and the replay bot trades the replay's copy of it at 600x. Then:

1. the model file is truncated while the bot runs: within one candle the bot is in safe mode
   (flat, the pair locked with the reason in ``/api/v1/locks``, a SAFE MODE message on
   Telegram); restoring the file lifts it and the model decides again;
2. the model file is deleted: the same, and the same recovery;
3. the bot is restarted with the corrupt file, so FreqAI cannot load the model at all: safe
   mode from the first candle, no traceback, the bot and its API stay up; restoring the file
   lifts it;
4. the bot is restarted with the model's feature list one feature short (a wrong feature
   count; FreqAI checks the list only in backtests and would trade on): safe mode until the
   model's metadata is restored.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from meta_strategy.models.promotion import promote
from meta_strategy.models.registry import ModelRegistry
from meta_strategy.models.store import discover_windows
from tests.helpers.freqtrade import REPO
from tests.helpers.model_files import make_record, tiny_walk_forward
from tests.helpers.replay_harness import PAIR, ReplayBot, unexpected_tracebacks
from tests.helpers.telegram_stub import TelegramStub


pytestmark = pytest.mark.slow

NAME = "model-faults"
SAFE_LOCK = "bitbot safe mode"


@pytest.fixture
def promoted(binance_datadir: Path, tmp_path: Path) -> tuple[Path, Path, int]:
    """
    A tiny walk-forward (two 15-day windows of June 2025), its newest window promoted for
    BTC/USD:USD into its own user directory.

    :return: the user directory, the promotion overlay and the model id
    """
    userdir = tiny_walk_forward(tmp_path, binance_datadir, "ci-faults", "faults")
    window = discover_windows(userdir / "models", "ci-faults")[-1]
    registry = ModelRegistry(tmp_path / "models.sqlite")
    end = np.datetime64(window.trained_timestamp, "s").astype(str)[:10]
    model_id = registry.record(make_record(window.identifier, end, window.model_path, seed=5))
    overlay = promote(
        registry,
        model_id,
        models_root=userdir / "models",
        config_out=tmp_path / "promoted.json",
        pairs=[window.pair, PAIR],
    )
    return userdir, overlay, model_id


@pytest.fixture
def bot(
    tmp_path: Path, binance_datadir: Path, promoted: tuple[Path, Path, int]
) -> Iterator[ReplayBot]:
    userdir, overlay, _ = promoted
    extra = tmp_path / "config.test.json"
    extra.write_text(
        json.dumps(
            {
                # the promoted model's user directory, with the repository's strategies
                "user_data_dir": str(userdir),
                "strategy_path": str(REPO / "user_data" / "strategies"),
                "freqaimodel_path": str(REPO / "user_data" / "freqaimodels"),
                "internals": {"process_throttle_secs": 2},
                "telegram": {"enabled": True, "allow_custom_messages": True},
                "bitbot": {
                    "decisions": {"notify": "every_candle"},
                    "markets_snapshot": str(REPO / "user_data" / "markets" / "krakenfutures.json"),
                },
            }
        )
    )
    with TelegramStub() as telegram:
        replay = ReplayBot(
            tmp_path,
            binance_datadir,
            extra,
            telegram,
            strategy="MetaStrategy",
            name=NAME,
            configs=("user_data/config.json", "user_data/config.freqai.json", str(overlay)),
        )
        yield replay
        if replay.proc is not None and replay.proc.poll() is None:
            replay.proc.kill()
            replay.proc.wait(timeout=30)


def _model_file(userdir: Path, model_id: int) -> Path:
    """:return: the replay's copy of the promoted model (what the bot loads)"""
    folder = userdir / "models" / f"replay-{NAME}-promoted-{model_id}"
    files = list(folder.rglob("cb_*_model.zip"))
    assert len(files) == 1, files
    return files[0]


def _safe_mode_lock(bot: ReplayBot) -> bool:
    locks = bot.api("locks")["locks"]
    return any(lk["reason"] == SAFE_LOCK and lk["active"] for lk in locks)


def _fault_within_a_candle(bot: ReplayBot, fault: str) -> None:
    """Wait for safe mode (model) after ``fault``; it came within one candle of virtual time."""
    start = len(bot.text())
    faulted_at = bot.virtual_now()
    bot.wait(f"safe mode ({fault})", lambda: "SAFE MODE (model)" in bot.text()[start:], 60)
    took = bot.virtual_now() - faulted_at
    print(f"{fault} model: safe mode {took.total_seconds() / 60:.0f} virtual minutes later")
    # the next candle's analysis finds it (plus the 2 s throttle, 20 virtual minutes at 600x)
    assert took <= timedelta(hours=1, minutes=20), (fault, faulted_at, bot.virtual_now())
    bot.wait("the pair locked", lambda: _safe_mode_lock(bot), 60)
    bot.wait("flat in safe mode", lambda: not bot.open_trades(), 60)


def _recovers(bot: ReplayBot, model_id: int) -> None:
    start = len(bot.text())
    bot.wait("safe mode cleared", lambda: "Safe mode cause cleared: model" in bot.text()[start:])
    bot.wait("the lock lifted", lambda: not _safe_mode_lock(bot), 60)
    bot.wait(
        "a decision of the promoted model",
        lambda: f"promoted-{model_id}" in "".join(line for _, line in bot.decisions[-2:]),
        60,
    )


def test_replay_bot_safe_mode_on_a_corrupt_promoted_model(
    bot: ReplayBot, promoted: tuple[Path, Path, int], tmp_path: Path
) -> None:
    userdir, _, model_id = promoted
    bot.start("--speed", "600", "--fresh")
    bot.wait("a decision of the promoted model", lambda: bot.decisions, 120)
    assert f"promoted-{model_id}" in bot.decisions[-1][1], bot.decisions[-1]
    model = _model_file(userdir, model_id)
    good = tmp_path / "good_model.zip"
    shutil.copy(model, good)
    # An open trade, so that "flat" means the bot closed it (safe mode, or the model's own
    # exit on the same candle: which comes first is not fixed).
    bot.api("forceenter", PAIR, "long")
    bot.wait("a filled trade", bot.filled_trades, 60)

    # ---- 1. truncated ----------------------------------------------------------------------
    model.write_bytes(good.read_bytes()[:200])
    _fault_within_a_candle(bot, "truncated")
    shutil.copy(good, model)
    _recovers(bot, model_id)

    # ---- 2. missing ------------------------------------------------------------------------
    model.unlink()
    _fault_within_a_candle(bot, "missing")
    shutil.copy(good, model)
    _recovers(bot, model_id)

    # ---- 3. restarted with a corrupt model: FreqAI cannot load it ---------------------------
    assert bot.interrupt() == 130
    model.write_bytes(b"not a zip file")
    bot.start("--speed", "600")
    bot.wait("safe mode (model)", lambda: "SAFE MODE (model)" in bot.text(), 60)
    bot.wait("the pair locked", lambda: _safe_mode_lock(bot), 60)
    bot.wait("flat in safe mode", lambda: not bot.open_trades(), 60)
    assert bot.api("ping") == {"status": "pong"}
    shutil.copy(good, model)
    _recovers(bot, model_id)
    assert bot.interrupt() == 130

    # ---- 4. restarted with a wrong feature count -------------------------------------------
    metadata_file = next(model.parent.glob("*_metadata.json"))
    good_metadata = metadata_file.read_text()
    metadata = json.loads(good_metadata)
    furnished = len(metadata["training_features_list"])
    metadata["training_features_list"] = metadata["training_features_list"][1:]
    metadata_file.write_text(json.dumps(metadata))
    bot.start("--speed", "600")
    bot.wait("safe mode (model)", lambda: "SAFE MODE (model)" in bot.text(), 60)
    assert (
        f"the model was trained on {furnished - 1} features, the strategy furnishes {furnished}"
    ) in bot.text()
    bot.wait("the pair locked", lambda: _safe_mode_lock(bot), 60)
    bot.wait("flat in safe mode", lambda: not bot.open_trades(), 60)
    metadata_file.write_text(good_metadata)
    _recovers(bot, model_id)
    # (Freqtrade itself logs a traceback when the SIGINT of a restart lands in a database
    # commit: its "Error during cleanup". Any other traceback fails.)
    assert unexpected_tracebacks(bot.log.read_text()) == []
    assert bot.interrupt() == 130

    texts = [m.text for m in bot.telegram.messages()]
    assert sum(t.startswith("SAFE MODE (model)") for t in texts) >= 4, texts
