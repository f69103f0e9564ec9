"""
Benchmark of ``bitbot replay`` with Telegram on. Prints figures, asserts nothing.

Runs the replay bot (EqualVoteStrategy by default, no model needed) against the recorded
Binance perpetual with Telegram pointed at the local stub (``tests.helpers.telegram_stub``) and
a decision message on every candle, for ``--seconds`` of real time, then prints:

* start-up: from the process start to the REST API answering;
* the delay from each decision (the moment its ``bitbot decision:`` log line reaches this
  process through a pipe) to its message arriving at the stub: count, median, 95th percentile
  and maximum (the issue's target: under 5 s);
* how many candles the bot analysed per real minute at ``--speed``.

Usage: ``.venv/bin/python bench/bench_replay.py [--speed 600] [--seconds 90]`` (real data via
``BITBOT_DATA`` or ``../shared/data/binance``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers.replay_harness import ReplayBot, decision_delays  # noqa: E402
from tests.helpers.telegram_stub import TelegramStub  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", type=float, default=600.0)
    parser.add_argument("--seconds", type=float, default=90.0, help="real seconds to run")
    parser.add_argument("--start", default="2025-06-02")
    parser.add_argument("--strategy", default="EqualVoteStrategy")
    args = parser.parse_args()
    recording = Path(os.environ.get("BITBOT_DATA") or REPO.parent / "shared" / "data" / "binance")
    if not (recording / "futures").is_dir():
        sys.exit(f"no recording at {recording}: set BITBOT_DATA")
    with tempfile.TemporaryDirectory() as tmp, TelegramStub() as telegram:
        root = Path(tmp)
        extra = root / "config.bench.json"
        extra.write_text(
            json.dumps(
                {
                    "telegram": {"enabled": True, "allow_custom_messages": True},
                    "bitbot": {"decisions": {"notify": "every_candle"}},
                }
            )
        )
        bot = ReplayBot(root, recording, extra, telegram, strategy=args.strategy, name="bench")
        began = time.monotonic()
        bot.start("--start", args.start, "--speed", str(args.speed), "--fresh")
        startup = time.monotonic() - began
        time.sleep(args.seconds)
        delays = decision_delays(bot)
        decisions = len(bot.decisions)
        bot.interrupt()
    print(f"bitbot replay, {args.strategy}, {args.speed:g}x real time, {args.seconds:g} s")
    print(f"  start-up to REST API up:      {startup:6.1f} s")
    print(
        f"  candles analysed:             {decisions} ({decisions / args.seconds * 60:.1f} / min)"
    )
    if delays:
        ordered = sorted(delays)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(
            f"  decision -> Telegram stub:    n={len(delays)}, median "
            f"{statistics.median(delays) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
            f"{max(delays) * 1000:.0f} ms (target < 5000 ms)"
        )
    else:
        print("  decision -> Telegram stub:    no message matched a decision")


if __name__ == "__main__":
    main()
