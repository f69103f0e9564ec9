"""
End to end: the real bot (``bitbot replay``, i.e. ``freqtrade trade`` in dry-run) on the
recorded Binance perpetual, driven through its REST API with ``freqtrade-client``.

One replay, three lives:

1. at 60x real time: the bot trades on its own; through the API we read status, force an exit,
   lock the pair, force an entry and an exit, read profit and stop it;
2. killed with ``kill -9`` while a trade is open, restarted at 600x: the trade is still open,
   the clock resumed after it, and the restarted bot manages it (the ATR stop moves, an exit
   goes through);
3. faults injected with ``bitbot replay-fault`` into the running bot: candles late, then the
   exchange down. Safe mode flattens, locks the pair and opens nothing; clearing the fault
   resumes trading; every trade written before is still in the database.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meta_strategy.ops.replay.session import newest_db_time
from tests.helpers.freqtrade import REPO, run_bitbot
from tests.helpers.replay_harness import (
    PAIR,
    ReplayBot,
    decision_delays,
    unexpected_tracebacks,
)
from tests.helpers.telegram_stub import TelegramStub


pytestmark = pytest.mark.slow

START = "2025-06-02"


TEST_CONFIG = {
    "force_entry_enable": True,
    "internals": {"process_throttle_secs": 2},
    # Telegram on, at the stub (BITBOT_TELEGRAM_API_URL); a decision message every candle.
    "telegram": {"enabled": True, "allow_custom_messages": True},
    # the volatility stop (off by default) on, so that the restarted bot has a stop to move
    "bitbot": {"decisions": {"notify": "every_candle"}, "risk": {"stop_atr_multiple": 4.0}},
}


@pytest.fixture
def bot(tmp_path: Path, binance_datadir: Path) -> Iterator[ReplayBot]:
    extra = tmp_path / "config.test.json"
    extra.write_text(json.dumps(TEST_CONFIG))
    with TelegramStub() as telegram:
        replay = ReplayBot(tmp_path, binance_datadir, extra, telegram)
        yield replay
        if replay.proc is not None and replay.proc.poll() is None:
            replay.proc.kill()
            replay.proc.wait(timeout=30)


def _db_trades(root: Path) -> dict[int, tuple]:
    with sqlite3.connect(root / "e2e" / "tradesv3.replay.sqlite") as db:
        rows = db.execute(
            "SELECT id, open_date, is_open, close_date, exit_reason, enter_tag FROM trades"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_replay_bot_api_restart_and_safe_mode(bot: ReplayBot) -> None:
    # ---- life 1: 60x real time, the REST API -------------------------------------------------
    bot.start("--start", START, "--speed", "60", "--fresh")
    config = bot.api("show_config")
    assert config["dry_run"] is True and config["runmode"] == "dry_run"
    assert config["exchange"] == "krakenfutures" and config["strategy"] == "EqualVoteStrategy"
    own = bot.wait("the bot's own entry", bot.filled_trades, 120)[0]
    assert own["pair"] == PAIR and own["enter_tag"].startswith("vote_")
    virtual_open = datetime.fromisoformat(own["open_date"]).replace(tzinfo=UTC)
    assert virtual_open.date() == datetime(2025, 6, 2).date()  # the bot lives in the recording

    # Lock the pair so the strategy does not re-enter, then exit and enter by hand.
    until = (virtual_open + timedelta(days=365)).strftime("%Y-%m-%d %H:%M:%SZ")
    added = bot.api("lock_add", PAIR, until, reason="e2e test")
    assert [lk["reason"] for lk in added["locks"]] == ["e2e test"], added
    exit_ = bot.api("forceexit", own["trade_id"])
    assert exit_ == {"result": f"Created exit order for trade {own['trade_id']}."}, exit_
    bot.wait("the forced exit", lambda: not bot.open_trades(), 60)
    side = "short" if own["is_short"] else "long"
    entered = bot.api("forceenter", PAIR, side)
    assert entered["pair"] == PAIR and entered["enter_tag"] == "force_entry", entered
    forced = bot.wait("the forced entry to fill", bot.filled_trades, 60)[0]
    assert forced["trade_id"] == entered["trade_id"] and forced["amount"] > 0
    assert bot.api("forceexit", forced["trade_id"])["result"].startswith("Created exit order")
    bot.wait("the second forced exit", lambda: not bot.open_trades(), 60)
    profit = bot.api("profit")
    assert profit["closed_trade_count"] == 2 and profit["trade_count"] == 2
    trades = {t["trade_id"]: t for t in bot.api("trades")["trades"]}
    assert trades[own["trade_id"]]["exit_reason"] == "force_exit"
    assert trades[forced["trade_id"]]["exit_reason"] == "force_exit"
    assert profit["profit_closed_coin"] == pytest.approx(
        sum(t["profit_abs"] for t in trades.values()), abs=1e-6
    )
    # Unlock: the strategy enters again by itself; then stop it cleanly through the API.
    lock = next(lk for lk in bot.api("locks")["locks"] if lk["reason"] == "e2e test")
    bot.api("delete_lock", lock["id"])
    reentry = bot.wait("the strategy's next entry", bot.filled_trades, 240)[0]  # 60 s under load
    assert reentry["enter_tag"].startswith("vote_")
    assert bot.api("stop") == {"status": "stopping trader ..."}
    bot.wait("state stopped", lambda: "Changing state from RUNNING to: STOPPED" in bot.text())
    bot.api("start")
    bot.wait("running again", lambda: bot.text().count("to: RUNNING") >= 2)

    # ---- life 2: kill -9 with the trade open, restart at 600x ------------------------------
    before = _db_trades(bot.root)
    killed_at = bot.virtual_now()
    bot.kill()
    bot.start("--speed", "600")  # no --start: resumes
    assert "resumes at" in bot.text()
    still = bot.open_trades()
    assert [t["trade_id"] for t in still] == [reentry["trade_id"]]
    newest = newest_db_time(bot.root / "e2e" / "tradesv3.replay.sqlite")
    assert newest is not None and bot.virtual_now() >= max(killed_at, newest)
    # Managed by the new process: its stop follows the price, and an exit goes through.
    first_stop = still[0]["stop_loss_abs"]
    bot.wait(
        "the ATR stop to move",
        lambda: (t := bot.filled_trades()) and t[0]["stop_loss_abs"] != first_stop,
        120,
    )
    assert set(before) <= set(_db_trades(bot.root))

    # ---- Telegram: decision messages arrive; the bot outlives a Telegram outage ----------
    bot.wait("3 decision messages", lambda: len(decision_delays(bot)) >= 3, 120)
    message = next(m for m in bot.telegram.messages() if m.text.startswith(PAIR))
    assert "agree:" in message.text and message.chat_id == "4242", message
    bot.telegram.stop()
    logged = len(bot.decisions)
    bot.wait("2 decisions while Telegram is down", lambda: len(bot.decisions) >= logged + 2, 120)
    assert bot.api("ping") == {"status": "pong"} and bot.open_trades()
    bot.telegram.start()
    received = len(bot.telegram.messages())
    bot.wait(
        "messages again after the outage",
        lambda: any(m.text.startswith(PAIR) for m in bot.telegram.messages()[received:]),
        120,
    )

    # ---- life 2, faults: candles late -> safe mode ----------------------------------------
    bot.wait("a trade open before the fault", bot.filled_trades, 180)
    before_fault = len(bot.text())
    run_bitbot("replay-fault", "candles-late", "--root", str(bot.root), "--name", "e2e")
    bot.wait("safe mode (candles)", lambda: "SAFE MODE (candles)" in bot.text(), 120)
    bot.wait("flat in safe mode", lambda: not bot.open_trades(), 120)
    locks = bot.api("locks")["locks"]
    assert any(lk["reason"] == "bitbot safe mode" and lk["active"] for lk in locks), locks
    # Every trade still open when safe mode began left through it. The candles are late only
    # hours after the freeze; in between the strategy may close the trade itself (its analysis
    # of the last candle lags under load), and then the log says so.
    began = _logged_at(bot.text(), "SAFE MODE (candles)")
    closed = bot.api("trades")["trades"]
    exits = [t for t in closed if t["close_date"] and _at(t["close_date"]) >= began]
    assert all(t["exit_reason"] == "safe_mode" for t in exits), exits
    if not exits:
        assert f"Exit for {PAIR} detected. Reason: exit_signal" in bot.text()[before_fault:]
    count_in_safe_mode = bot.api("profit")["trade_count"]
    time.sleep(5)  # 50 virtual minutes: no new trade while in safe mode
    assert bot.api("profit")["trade_count"] == count_in_safe_mode and not bot.open_trades()

    run_bitbot("replay-fault", "clear", "--root", str(bot.root), "--name", "e2e")
    bot.wait("safe mode off", lambda: "Safe mode cause cleared: candles" in bot.text(), 120)
    bot.wait("trading again", bot.filled_trades, 180)

    # ---- exchange down: safe mode; the bot and its API stay up ---------------------------
    run_bitbot("replay-fault", "exchange-down", "--root", str(bot.root), "--name", "e2e")
    bot.wait(
        "safe mode (exchange)",
        lambda: "ticker requests for BTC/USD:USD in a row failed" in bot.text(),
        180,
    )
    assert bot.api("ping") == {"status": "pong"}
    run_bitbot("replay-fault", "clear", "--root", str(bot.root), "--name", "e2e")
    bot.wait("safe mode off", lambda: "Safe mode cause cleared: exchange" in bot.text(), 120)

    # Nothing lost: every trade written in any life is in the database, closed ones unchanged.
    after = _db_trades(bot.root)
    for trade_id, row in before.items():
        assert trade_id in after
        if not row[1]:  # closed before the kill
            assert after[trade_id] == row
    # Safe mode spoke on Telegram too, and every decision message took well under 5 s.
    texts = [m.text for m in bot.telegram.messages()]
    assert any(t.startswith("SAFE MODE") for t in texts), texts
    delays = decision_delays(bot)
    print(
        f"decision -> Telegram stub: {len(delays)} messages, median "
        f"{sorted(delays)[len(delays) // 2] * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
    )
    assert len(delays) >= 5 and max(delays) < 5.0, delays
    assert bot.interrupt() == 130  # Freqtrade's exit code after SIGINT, once shut down
    assert "SIGINT received, aborting" in bot.text()


def test_replay_meta_strategy_trains_then_decides(tmp_path: Path, binance_datadir: Path) -> None:
    """
    The MetaStrategy in a replay, as ``make replay`` runs it without a promoted model: safe mode
    while FreqAI has no model, FreqAI downloads its training data from the replayed exchange and
    trains (a tiny agent here), then the model decides and Telegram names it.
    """
    extra = tmp_path / "config.test.json"
    tiny = {
        "freqai": {"train_period_days": 30, "rl_config": {"train_cycles": 1, "net_arch": [16, 16]}},
        "telegram": TEST_CONFIG["telegram"],
        "bitbot": TEST_CONFIG["bitbot"],
    }
    extra.write_text(json.dumps(tiny))
    name = f"test-{tmp_path.parent.name}"  # unique per pytest run; its models are removed
    models = REPO / "user_data" / "models" / f"replay-{name}-meta-ppo"
    with TelegramStub() as telegram:
        bot = ReplayBot(
            tmp_path,
            binance_datadir,
            extra,
            telegram,
            strategy="MetaStrategy",
            name=name,
            configs=("user_data/config.json", "user_data/config.freqai.json"),
        )
        try:
            bot.start("--start", START, "--speed", "600", "--fresh")
            bot.wait("safe mode until a model exists", lambda: "SAFE MODE (model)" in bot.text())
            bot.wait("a decision naming the model", lambda: _model_decision(telegram), 240)
            bot.wait("safe mode cleared", lambda: "Safe mode cause cleared: model" in bot.text())
            assert bot.interrupt() == 130
        finally:
            if bot.proc is not None and bot.proc.poll() is None:
                bot.proc.kill()
            shutil.rmtree(models, ignore_errors=True)
    text = bot.text()
    assert "done training BTC/USD:USD" in text
    assert "raised exception" not in text and unexpected_tracebacks(text) == []
    assert any((tmp_path / name / "data").rglob("*.feather"))  # FreqAI's downloads go here


def _at(text: str) -> datetime:
    """:return: a ``YYYY-MM-DD HH:MM:SS`` time (the API's and the log's) as UTC"""
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _logged_at(log: str, message: str) -> datetime:
    """:return: the (virtual) time of the first log line holding ``message``"""
    line = next(line for line in log.splitlines() if message in line)
    return _at(line)


def _model_decision(telegram: TelegramStub) -> str | None:
    """:return: a decision message naming a trained model (``.../cb_btc_<time>``), if any"""
    return next(
        (
            m.text
            for m in telegram.messages()
            if m.text.startswith(PAIR) and "/cb\\_btc\\_" in m.text
        ),
        None,
    )
