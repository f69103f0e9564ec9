"""
Benchmark of the research report (``bitbot report``). Prints figures, asserts nothing.

For every backtest of the report it prints the wall time of the run (measured when it ran and
kept in its ``run.json``; a reused run shows the time it took then), then the totals: the sum of
the runs (one core), the elapsed time of the runs stage with ``--jobs`` at a time, the analysis
(equity, metrics, bootstrap intervals) and the writing (HTML, JSON, CSV, registry).

* default: the ``--quick`` report, every run forced to rerun (``--rerun``) so all times are
  fresh;
* ``--period validation|test``: the default report of that period (the shipped meta-learner,
  3 seeds, plus the baselines, as ``make report``); saved runs are reused unless ``--rerun``,
  and their recorded times are shown.

Usage: ``.venv/bin/python bench/bench_report.py [--period validation] [--rerun] [--jobs 2]``
(real data via ``BITBOT_DATA``, as ``make report``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from meta_strategy.data.choice import resolve_backtest_data, trailing_timerange  # noqa: E402
from meta_strategy.research.report.build import build_report  # noqa: E402
from meta_strategy.research.report.plan import ReportSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--period", help="validation or test: the default report of that period (reuses runs)"
    )
    parser.add_argument("--rerun", action="store_true", help="rerun saved runs")
    parser.add_argument("--jobs", type=int, default=2)
    ns = parser.parse_args()
    os.chdir(REPO)
    logging.basicConfig(level=logging.WARNING)
    if ns.period:
        settings, rerun = ReportSettings.for_period(ns.period), ns.rerun
    else:
        settings = ReportSettings.quick_settings(trailing_timerange(resolve_backtest_data(), 30))
        settings, rerun = replace(settings, name="bench-quick"), True
    started = time.perf_counter()
    out = build_report(settings, jobs=ns.jobs, rerun=rerun, log=lambda _: None)
    elapsed = time.perf_counter() - started
    timings = out.results["timings_s"]
    print(
        f"bitbot report ({settings.name}): {out.results['data']}, {out.results['period']}, "
        f"{os.cpu_count()} cores, {ns.jobs} backtests at a time"
    )
    print(f"{'run':<26}{'wall s':>10}  {'(reused: time when it ran)'}")
    for name, wall in sorted(timings["per_run"].items(), key=lambda kv: -kv[1]):
        print(f"{name:<26}{wall:>10.1f}  {'reused' if name in timings['reused'] else ''}")
    total_runs = sum(timings["per_run"].values())
    print(f"{'sum of runs (1 core)':<26}{total_runs:>10.1f}")
    print(f"{'runs stage, this call':<26}{timings['runs']:>10.1f}")
    print(f"{'analysis':<26}{timings['analysis']:>10.1f}")
    print(f"{'HTML/JSON/CSV/registry':<26}{timings['write']:>10.1f}")
    print(f"{'report, this call':<26}{elapsed:>10.1f}")
    if not timings["reused"]:
        print(f"parallel speed-up of the runs stage: {total_runs / timings['runs']:.2f}x")
    else:
        print(
            f"estimated from scratch with {ns.jobs} at a time: "
            f"{total_runs / ns.jobs / 60:.1f} min (sum of runs / jobs; a lower bound)"
        )


if __name__ == "__main__":
    main()
