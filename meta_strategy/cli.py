"""
The ``bitbot`` command.

``bitbot <freqtrade subcommand> ...`` runs Freqtrade unchanged, with four additions:

* markets and leverage tiers come from a markets snapshot when one is configured or the exchange
  cannot be reached (:mod:`meta_strategy.markets`), so every command works offline;
* ``--datadir`` defaults to ``$BITBOT_DATA`` when that is set;
* commands that read candles first check the data files and stop with a clear error naming the
  file and the problem (:mod:`meta_strategy.data`);
* ``trade`` and ``webserver`` refuse to start the REST API or Telegram with empty, default or
  exposed credentials (:mod:`meta_strategy.security`).

BitBot's own subcommands: ``markets`` (snapshot / build / show), ``synth`` (synthetic market),
``data check``, ``compare`` (the main backtest of ``make backtest``), ``report`` (the
walk-forward research report, :mod:`meta_strategy.report`) and ``models`` (list / promote the
trained meta-models, :mod:`meta_strategy.models`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meta_strategy import markets, models, telegram


logger = logging.getLogger(__name__)

# Freqtrade subcommands that accept --datadir and read candles from it.
DATA_COMMANDS = {
    "backtesting",
    "hyperopt",
    "lookahead-analysis",
    "recursive-analysis",
    "plot-dataframe",
    "edge",
}
# Freqtrade subcommands that accept --datadir at all (ARGS_COMMON or data arguments).
DATADIR_COMMANDS = DATA_COMMANDS | {
    "trade",
    "webserver",
    "list-data",
    "download-data",
    "trades-to-ohlcv",
    "plot-profit",
    "backtesting-analysis",
    "backtesting-show",
    "list-pairs",
    "list-markets",
}
BITBOT_COMMANDS = {
    "markets",
    "synth",
    "data",
    "compare",
    "bias-check",
    "tune",
    "models",
    "report",
    "replay",
    "replay-fault",
}


def _has_option(argv: list[str], *names: str) -> bool:
    return any(a == n or a.startswith(n + "=") for a in argv for n in names)


def inject_datadir(argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    """
    Add ``--datadir $BITBOT_DATA`` to a Freqtrade command line that has no ``--datadir``.

    :param argv: command line without the program name
    :param env: environment (``os.environ`` by default)
    :return: the command line to run
    """
    env = os.environ if env is None else env
    if not argv or argv[0] not in DATADIR_COMMANDS:
        return argv
    data = env.get("BITBOT_DATA")
    if not data or _has_option(argv, "-d", "--datadir", "--data-dir"):
        return argv
    return [*argv, "--datadir", data]


def preflight(argv: list[str]) -> None:
    """
    Check the data files a Freqtrade data command will read, before Freqtrade starts.

    :param argv: Freqtrade command line without the program name
    :raises meta_strategy.data.DataError: a file is missing or broken
    """
    if not argv or argv[0] not in DATA_COMMANDS:
        return
    from freqtrade.commands import Arguments
    from freqtrade.configuration.load_config import load_from_files

    from meta_strategy.data import validate_datadir

    args = Arguments(argv).get_parsed_arg()
    if not args.get("config"):
        return
    try:
        config = load_from_files(args["config"])
    except Exception:  # Freqtrade reports config errors itself, and better.
        return
    exchange = config.get("exchange", {}).get("name", "").lower()
    datadir = args.get("datadir") or config.get("datadir")
    if datadir is None:
        user_data = Path(args.get("user_data_dir") or config.get("user_data_dir") or "user_data")
        datadir = user_data / "data" / exchange
    pairs = args.get("pairs") or config.get("exchange", {}).get("pair_whitelist", [])
    timeframe = args.get("timeframe") or config.get("timeframe")
    detail = args.get("timeframe_detail") or config.get("timeframe_detail")
    if pairs and markets.markets_mode(config) == "snapshot":
        check_pairs_in_snapshot(pairs, config, args["config"])
    if not pairs or not timeframe:
        logger.warning(
            "bitbot: data files not checked before the run (no %s in the config or command "
            "line); Freqtrade will load what it finds.",
            "pairs" if not pairs else "timeframe",
        )
        return
    validate_datadir(
        Path(datadir),
        pairs=list(pairs),
        timeframes=[timeframe, *([detail] if detail else [])],
        trading_mode=config.get("trading_mode", "spot"),
        timerange=args.get("timerange"),
    )


def check_pairs_in_snapshot(pairs: list[str], config: dict[str, Any], files: list[str]) -> None:
    """
    :param pairs: pairs the command will trade or test
    :param config: merged configuration
    :param files: the configuration files (named in the error)
    :raises markets.SnapshotError: a pair is not a market in the snapshot
    """
    path = markets.snapshot_path(config)
    exchange = config["exchange"]["name"].lower()
    snap = markets.load_snapshot(path, exchange=exchange)
    unknown = [p for p in pairs if p not in snap.markets]
    if unknown:
        raise markets.SnapshotError(
            f"Unknown pair {', '.join(unknown)} on {exchange}: not a market in the snapshot "
            f"{path}, which has {', '.join(snap.markets)}. Check --pairs or "
            f"exchange.pair_whitelist in {', '.join(files)}; for a new market, refresh the "
            f"snapshot online with `bitbot markets snapshot --exchange {exchange} --pairs ...`."
        )


def run_freqtrade(argv: list[str]) -> int:
    """
    Run a Freqtrade command in this process with offline markets installed.

    :param argv: command line without the program name
    :return: exit code
    """
    from freqtrade.commands import Arguments
    from freqtrade.main import main as freqtrade_main

    from meta_strategy.data import DataError
    from meta_strategy.security import InsecureConfigError, preflight_security

    markets.install_offline_markets()
    telegram.install_telegram_endpoint()
    argv = inject_datadir(argv)
    try:
        # Freqtrade's main() turns argparse's exit code into 0; check the arguments first.
        Arguments(argv).get_parsed_arg()
        preflight(argv)
        preflight_security(argv)
    except SystemExit as e:  # usage error or --help, already printed by argparse
        return e.code if isinstance(e.code, int) else 2
    except DataError as e:
        print(f"bitbot: data error: {e}", file=sys.stderr)
        return 2
    except markets.SnapshotError as e:
        print(f"bitbot: markets error: {e}", file=sys.stderr)
        return 2
    except InsecureConfigError as e:
        print(f"bitbot: insecure configuration: {e}", file=sys.stderr)
        return 2
    _exit_nonzero_on_configuration_error()
    try:
        freqtrade_main(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


class _NotCaughtHereError(Exception):
    """Stands in for ConfigurationError in ``freqtrade.main``'s first except clause."""


def _exit_nonzero_on_configuration_error() -> None:
    """
    Freqtrade 2026.9's ``main()`` logs a ``ConfigurationError`` and then exits with code 0 (that
    branch never sets ``return_code``). With this, such an error reaches the next branch, which
    logs the same message and exits 2, so scripts and CI see the failure.
    """
    import freqtrade.main

    freqtrade.main.ConfigurationError = _NotCaughtHereError  # type: ignore[attr-defined,misc]


# --------------------------------------------------------------------------------------------
# bitbot markets
# --------------------------------------------------------------------------------------------


def _cmd_markets(ns: argparse.Namespace) -> int:
    if ns.markets_command == "show":
        path = Path(ns.file) if ns.file else markets.default_snapshot_path(ns.exchange)
        snap = markets.load_snapshot(path)
        print(f"{path}: {snap.exchange}, created {snap.created}, source: {snap.source}")
        for symbol, market in snap.markets.items():
            tiers = snap.leverage_tiers.get(symbol, [])
            max_lev = max((t.get("maxLeverage") or 0 for t in tiers), default=None)
            print(
                f"  {symbol:<16} id={market['id']:<12} precision={market['precision']} "
                f"taker={market.get('taker')} maker={market.get('maker')} "
                f"tiers={len(tiers)} max_leverage={max_lev}"
            )
        return 0
    output = Path(ns.output) if ns.output else markets.default_snapshot_path(ns.exchange)
    if ns.markets_command == "snapshot":
        snap = markets.fetch_snapshot(
            ns.exchange,
            ns.pairs,
            ns.trading_mode,
            api_key=os.environ.get("BITBOT_EXCHANGE_KEY"),
            secret=os.environ.get("BITBOT_EXCHANGE_SECRET"),
        )
    else:
        try:
            raw: dict[str, Any] = json.loads(Path(ns.raw).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise markets.SnapshotError(f"Cannot read raw responses {ns.raw}: {e}") from e
        source = raw.pop("_source", f"raw API responses from {ns.raw}")
        snap = markets.build_snapshot_from_raw(
            ns.exchange,
            raw,
            ns.pairs,
            ns.trading_mode,
            source=source,
            notes=(
                f"Built offline by `bitbot markets build --raw {ns.raw}` through ccxt's own "
                "parsers; `bitbot markets snapshot` refreshes it from the live exchange.",
            ),
        )
    markets.save_snapshot(snap, output)
    print(f"Saved {len(snap.markets)} market(s) and their leverage tiers to {output}")
    return 0


# --------------------------------------------------------------------------------------------
# bitbot synth / data check
# --------------------------------------------------------------------------------------------


def _cmd_synth(ns: argparse.Namespace) -> int:
    from meta_strategy.synthetic import SyntheticMarketConfig, generate_market, write_freqtrade_data

    try:
        config = SyntheticMarketConfig(seed=ns.seed, start=ns.start, end=ns.end)
    except ValueError as e:
        print(f"bitbot: synth: {e}", file=sys.stderr)
        return 2
    market = generate_market(config)
    paths = write_freqtrade_data(market, Path(ns.datadir), pair=ns.pair)
    print(f"SYNTHETIC market (seed {ns.seed}, {ns.start} to {ns.end}) written to {ns.datadir}:")
    for p in paths:
        print(f"  {p}")
    return 0


def _cmd_data(ns: argparse.Namespace) -> int:
    from meta_strategy.data import DataError, validate_datadir

    if not ns.datadir:
        print("bitbot: data check needs --datadir or BITBOT_DATA", file=sys.stderr)
        return 2
    try:
        reports = validate_datadir(
            Path(ns.datadir),
            pairs=ns.pairs,
            timeframes=ns.timeframes,
            trading_mode=ns.trading_mode,
            timerange=ns.timerange,
        )
    except DataError as e:
        print(f"bitbot: data error: {e}", file=sys.stderr)
        return 2
    for report in reports:
        print(report)
    return 0


def _cmd_compare(ns: argparse.Namespace) -> int:
    from meta_strategy.runner import compare_strategies

    return compare_strategies(
        strategies=ns.strategies,
        timerange=ns.timerange,
        extra_args=ns.freqtrade_args or [],
        meta=not ns.no_meta,
    )


def _cmd_bias_check(ns: argparse.Namespace) -> int:
    from meta_strategy.runner import bias_check

    return bias_check(strategies=ns.strategies, timerange=ns.timerange)


def _cmd_tune(ns: argparse.Namespace) -> int:
    from meta_strategy.runner import tune

    return tune(
        ns.strategy,
        ns.epochs,
        ns.spaces,
        ns.hyperopt_loss,
        ns.timerange,
        ns.freqtrade_args or [],
        apply=ns.apply,
    )


# --------------------------------------------------------------------------------------------
# bitbot report
# --------------------------------------------------------------------------------------------


def _cmd_report(ns: argparse.Namespace) -> int:
    from dataclasses import replace

    from meta_strategy.report.build import build_report
    from meta_strategy.report.plan import ReportSettings, ReportSettingsError
    from meta_strategy.report.runs import RunError
    from meta_strategy.runner import resolve_backtest_data, trailing_timerange

    try:
        if ns.quick:
            timerange = ns.timerange or trailing_timerange(resolve_backtest_data(), 30)
            settings = ReportSettings.quick_settings(timerange)
        else:
            settings = ReportSettings(timerange=ns.timerange or ReportSettings.timerange)
        overrides = {
            k: v
            for k, v in (
                ("name", ns.name),
                ("algorithms", tuple(ns.algorithms) if ns.algorithms else None),
                ("seeds", tuple(ns.seeds) if ns.seeds else None),
                ("backtest_period_days", ns.window_days),
                ("train_cycles", ns.train_cycles),
            )
            if v is not None
        }
        settings = replace(settings, **overrides)
        build_report(
            settings,
            jobs=ns.jobs,
            rerun=ns.rerun,
            reports_dir=Path(ns.reports_dir),
            registry_path=Path(ns.registry) if ns.registry else None,
        )
    except (ReportSettingsError, RunError, ValueError, OSError, RuntimeError) as e:
        print(f"bitbot: report: {e}", file=sys.stderr)
        return 2
    return 0


# --------------------------------------------------------------------------------------------
# bitbot models
# --------------------------------------------------------------------------------------------


def _fmt_number(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else "-"


def _cmd_models(ns: argparse.Namespace) -> int:
    try:
        registry = models.ModelRegistry(Path(ns.registry))
        if ns.models_command == "list":
            return _models_list(registry, ns.identifier)
        return _models_promote(registry, ns)
    except (models.ModelRegistryError, models.ModelFileError, ValueError) as e:
        print(f"bitbot: models: {e}", file=sys.stderr)
        return 2


def _models_list(registry: models.ModelRegistry, identifier: str | None) -> int:
    records = registry.list(identifier)
    if not records:
        print(
            f"No model recorded in {registry.path}" + (f" for {identifier}" if identifier else "")
        )
        return 0
    header = (
        f"{'':1} {'id':>4}  {'report':<8} {'identifier':<42} {'algorithm':<12} {'seed':>5}  "
        f"{'trained on':<23} {'out of sample':<23} {'window ret':>10} {'run Sharpe':>10} "
        f"{'B&H Sharpe':>10}  file"
    )
    print(f"Models in {registry.path}:")
    print(header)
    for r in records:
        ret = r.window_metrics.get("return")
        print(
            f"{'*' if r.promoted else '':1} {r.id:>4}  {r.report:<8} {r.identifier:<42} "
            f"{r.algorithm:<12} "
            f"{r.seed:>5}  {r.train_start:>10}..{r.train_end:<11} "
            f"{r.oos_start:>10}..{r.oos_end:<11} "
            f"{_fmt_number(ret * 100 if isinstance(ret, int | float) else None, '+.2f'):>9}% "
            f"{_fmt_number(r.run_metrics.get('sharpe'), '.2f'):>10} "
            f"{_fmt_number(r.run_metrics.get('buy_and_hold_sharpe'), '.2f'):>10}  "
            f"{models.file_status(r)}"
        )
    print("* promoted (trades in dry-run / live with the overlay of `bitbot models promote`)")
    return 0


def _models_promote(registry: models.ModelRegistry, ns: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    record = registry.best(ns.report) if ns.best else registry.get(ns.model_id)
    if ns.best:
        print(
            f"Best by the promotion rule: model {record.id} of {record.identifier} "
            f"(run Sharpe {_fmt_number(record.run_metrics.get('sharpe'), '.2f')})"
        )
    pairs = ns.pairs or models.default_pairs(record)
    out = registry.promote(
        record.id,
        models_root=Path(ns.models_dir),
        config_out=Path(ns.output),
        force=ns.force,
        pairs=pairs,
    )
    promoted = json.loads(out.read_text())
    sharpe = _fmt_number(record.run_metrics.get("sharpe"), ".2f")
    hold = _fmt_number(record.run_metrics.get("buy_and_hold_sharpe"), ".2f")
    trained = datetime.fromisoformat(record.train_end[:10]).replace(tzinfo=UTC)
    age = (datetime.now(tz=UTC) - trained).days
    print(
        f"Promoted model {record.id}: {record.identifier}, {record.algorithm} seed {record.seed}, "
        f"trained {record.train_start}..{record.train_end}, out of sample "
        f"{record.oos_start}..{record.oos_end}; run Sharpe {sharpe} vs buy-and-hold {hold}"
        + (" (forced)" if ns.force else "")
    )
    print(f"  model: {promoted['bitbot']['model_path']}")
    print(
        f"  FreqAI identifier {promoted['freqai']['identifier']} "
        f"(pair_dictionary.json for {', '.join(pairs)})"
    )
    print(f"  config overlay: {out}")
    print(
        f"FreqAI will neither retrain nor expire it (live_retrain_hours "
        f"{models.PIN_RETRAIN_HOURS}, expiration_hours 0 in the overlay); its training data "
        f"ends {record.train_end} ({age} days ago). Run it with:\n"
        f"  bitbot trade --dry-run -c user_data/config.json -c user_data/config.freqai.json "
        f"-c {out} --strategy MetaStrategy"
    )
    return 0


# --------------------------------------------------------------------------------------------
# bitbot replay
# --------------------------------------------------------------------------------------------


def _cmd_replay(argv: list[str]) -> int:
    """``bitbot replay``: BitBot's options are parsed here, the rest goes to ``trade``."""
    from freqtrade.loggers import setup_logging_pre

    from meta_strategy.replay import BookModel, ReplayError, ReplaySettings, run_replay
    from meta_strategy.replay.session import REPLAY_ROOT

    ns, trade_argv = build_parser().parse_known_args(argv)
    setup_logging_pre()
    try:
        if not ns.recording:
            raise ReplayError("no recording: give --recording or set BITBOT_DATA")
        book = BookModel(spread_bps=ns.spread_bps, level_amount=ns.book_level_amount)
        start = None
        if ns.start:
            start = parse_utc(ns.start)
        settings = ReplaySettings(
            recording=Path(ns.recording),
            start=start,
            speed=ns.speed,
            recorded_pair=ns.recorded_pair,
            name=ns.name,
            root=Path(ns.root) if ns.root else REPLAY_ROOT,
            fresh=ns.fresh,
            book=book,
            telegram=ns.telegram,
        )
        return run_replay(settings, trade_argv)
    except ValueError as e:  # ReplayError, DataError, SnapshotError, bad book values
        print(f"bitbot: replay error: {e}", file=sys.stderr)
        return 2


def parse_utc(text: str) -> datetime:
    """
    :param text: a date or date-time, UTC unless it says otherwise
    :return: the timezone-aware time
    :raises ReplayError: it is not a date
    """
    from meta_strategy.replay import ReplayError

    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise ReplayError(
            f"--start {text!r} is not a date; e.g. 2025-06-01 or 2025-06-01T12:00"
        ) from e
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _cmd_replay_fault(ns: argparse.Namespace) -> int:
    try:
        return _replay_fault(ns)
    except ValueError as e:  # a corrupt faults or clock file
        print(f"bitbot: replay-fault error: {e}", file=sys.stderr)
        return 2


def _replay_fault(ns: argparse.Namespace) -> int:
    from meta_strategy.replay.market import FaultState, read_faults, write_faults
    from meta_strategy.replay.session import REPLAY_ROOT

    root = Path(ns.root) if ns.root else REPLAY_ROOT
    workdir = root / ns.name
    if not workdir.is_dir():
        print(f"bitbot: no replay {ns.name!r} in {root}", file=sys.stderr)
        return 2
    path = workdir / "faults.json"
    state = read_faults(path) if path.is_file() else FaultState()
    if ns.fault == "exchange-down":
        state = FaultState(True, state.candles_frozen_at)
    elif ns.fault == "candles-late":
        from meta_strategy.replay.clock import read_clock_file

        clock = read_clock_file(workdir / "clock.json")
        if clock is None:
            print(f"bitbot: replay {ns.name!r} has no clock yet", file=sys.stderr)
            return 2
        state = FaultState(state.exchange_down, clock.virtual_now)
    else:
        state = FaultState()
    write_faults(path, state)
    print(f"replay {ns.name}: {state}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """:return: the parser for BitBot's own subcommands"""
    parser = argparse.ArgumentParser(
        prog="bitbot",
        description="BitBot: Freqtrade with offline markets, plus BitBot's own commands. "
        "Any Freqtrade subcommand (backtesting, hyperopt, trade, ...) is passed to Freqtrade.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_markets = sub.add_parser("markets", help="Markets snapshots (offline market definitions)")
    msub = p_markets.add_subparsers(dest="markets_command", required=True)
    for name, helptext in (
        ("snapshot", "Save the live markets and leverage tiers of an exchange (needs network)"),
        ("build", "Build a snapshot offline from saved raw API responses, via ccxt's parsers"),
    ):
        p = msub.add_parser(name, help=helptext)
        p.add_argument("--exchange", required=True, help="ccxt id, e.g. krakenfutures, binance")
        p.add_argument("--pairs", nargs="+", required=True, help="e.g. BTC/USD:USD")
        p.add_argument("--trading-mode", default="futures", choices=("futures", "spot"))
        p.add_argument("--output", help="default: user_data/markets/<exchange>.json")
        if name == "build":
            p.add_argument("--raw", required=True, help="JSON: ccxt raw method name -> response")
    p_show = msub.add_parser("show", help="Print what a snapshot holds")
    p_show.add_argument("--exchange", default="krakenfutures")
    p_show.add_argument("--file", help="snapshot file (default: user_data/markets/<exchange>.json)")

    p_synth = sub.add_parser("synth", help="Write a deterministic SYNTHETIC market (offline demo)")
    p_synth.add_argument("--datadir", default="user_data/data/synthetic")
    p_synth.add_argument("--pair", default="BTC/USD:USD")
    p_synth.add_argument("--seed", type=int, default=42)
    p_synth.add_argument("--start", default="2022-01-01")
    p_synth.add_argument("--end", default="2024-01-01")

    p_data = sub.add_parser("data", help="Check data files (exists, readable, no NaN, ordered)")
    dsub = p_data.add_subparsers(dest="data_command", required=True)
    p_check = dsub.add_parser("check")
    p_check.add_argument("--datadir", default=os.environ.get("BITBOT_DATA"), required=False)
    p_check.add_argument("--pairs", nargs="+", default=["BTC/USD:USD"])
    p_check.add_argument("--timeframes", nargs="+", default=["1h"])
    p_check.add_argument("--trading-mode", default="futures", choices=("futures", "spot"))
    p_check.add_argument("--timerange")

    p_cmp = sub.add_parser(
        "compare", help="Backtest the POC strategies side by side on the resolved data"
    )
    p_cmp.add_argument("--strategies", nargs="+", default=None)
    p_cmp.add_argument("--timerange", default=None)
    p_cmp.add_argument(
        "--no-meta", action="store_true", help="skip the MetaStrategy walk-forward comparison"
    )
    p_cmp.add_argument("freqtrade_args", nargs=argparse.REMAINDER)

    p_bias = sub.add_parser(
        "bias-check", help="lookahead-analysis + recursive-analysis of the POC strategies"
    )
    p_bias.add_argument("--strategies", nargs="+", default=None)
    p_bias.add_argument("--timerange", default=None)

    p_tune = sub.add_parser("tune", help="Hyperopt one strategy on the resolved data")
    p_tune.add_argument("--strategy", required=True)
    p_tune.add_argument("--epochs", type=int, default=30)
    p_tune.add_argument("--spaces", nargs="+", default=["buy", "sell"])
    p_tune.add_argument("--hyperopt-loss", default="CalmarDrawdownLoss")
    p_tune.add_argument("--timerange", default=None)
    p_tune.add_argument(
        "--apply", action="store_true", help="write the best parameters to <Strategy>.json"
    )
    p_tune.add_argument("freqtrade_args", nargs=argparse.REMAINDER)

    p_report = sub.add_parser(
        "report",
        help="Walk-forward research report: the meta-learner per RL algorithm and seed against "
        "buy-and-hold, flat, the POC strategies, the votes and the stacker (HTML, JSON, CSV)",
    )
    p_report.add_argument(
        "--quick",
        action="store_true",
        help="CI variant: last 30 days, every algorithm once, tiny agents (plumbing only)",
    )
    p_report.add_argument("--timerange", help="out-of-sample period (default: 20210101-)")
    p_report.add_argument("--algorithms", nargs="+", help="RL algorithms (default: all five)")
    p_report.add_argument("--seeds", nargs="+", type=int, help="seeds per algorithm (1 2 3)")
    p_report.add_argument("--window-days", type=int, help="days traded per model (90)")
    p_report.add_argument("--train-cycles", type=int, help="RL passes over each window (3)")
    p_report.add_argument("--jobs", type=int, default=2, help="backtests at a time (cores)")
    p_report.add_argument("--name", help="report folder name (full, or quick with --quick)")
    p_report.add_argument("--reports-dir", default="user_data/reports", help="parent folder")
    p_report.add_argument(
        "--registry", help="model registry to record the models in (user_data/models.sqlite)"
    )
    p_report.add_argument(
        "--rerun",
        action="store_true",
        help="rerun the backtests and retrain the models even when saved results match",
    )

    p_models = sub.add_parser("models", help="The trained meta-models: list, promote one")
    modsub = p_models.add_subparsers(dest="models_command", required=True)
    p_list = modsub.add_parser("list", help="Every recorded model, its figures and file status")
    p_list.add_argument("--identifier", help="only the models of this FreqAI identifier")
    p_promote = modsub.add_parser(
        "promote",
        help="Select the model the dry-run / live bot trades with",
        description=models.PROMOTION_RULE,
    )
    which = p_promote.add_mutually_exclusive_group(required=True)
    which.add_argument("model_id", nargs="?", type=int, help="the model's id (`models list`)")
    which.add_argument("--best", action="store_true", help="the best model by the rule above")
    p_promote.add_argument(
        "--report",
        default="full",
        help="with --best: among the models of this report (default: full, `make report`)",
    )
    p_promote.add_argument(
        "--force", action="store_true", help="promote even if the run did not beat buy-and-hold"
    )
    p_promote.add_argument(
        "--pairs",
        nargs="+",
        help="pairs the bot trades with the model (default: its own pair and the pairs of "
        f"{models.LIVE_CONFIG} with the same base currency)",
    )
    p_promote.add_argument(
        "--models-dir", default=str(models.MODELS_ROOT), help="FreqAI's models folder of the bot"
    )
    p_promote.add_argument(
        "--output", default=str(models.PROMOTED_CONFIG), help="the config overlay"
    )
    for p in (p_list, p_promote):
        p.add_argument("--registry", default=str(models.DEFAULT_REGISTRY), help="the registry file")

    p_replay = sub.add_parser(
        "replay",
        allow_abbrev=False,
        help="The real bot (trade, dry-run) against a recorded market, in shifted time",
        description="Runs `freqtrade trade` in dry-run against recorded candles, mark prices, "
        "funding and a synthetic order book, with the bot's clock in the recording's time "
        "(optionally faster). Every other option goes to `freqtrade trade` (-c, -s, "
        "--freqaimodel, ...). A replay resumes where it stopped unless --fresh is given.",
    )
    p_replay.add_argument(
        "--recording",
        default=os.environ.get("BITBOT_DATA"),
        help="Freqtrade data folder with the recorded market (default: $BITBOT_DATA)",
    )
    p_replay.add_argument("--start", help="virtual start, UTC, e.g. 2025-06-01 (new replays)")
    p_replay.add_argument(
        "--speed", type=float, default=1.0, help="virtual seconds per real second (default 1)"
    )
    p_replay.add_argument(
        "--recorded-pair",
        help="pair in the recording standing in for the traded one (default: the traded pair, "
        "or the recording's only pair)",
    )
    p_replay.add_argument("--name", default="default", help="replay name: user_data/replay/NAME")
    # Default: replay.session.REPLAY_ROOT, resolved in the handler (importing the replay package
    # here would add pandas to the start-up of every bitbot command).
    p_replay.add_argument("--root", help="parent folder of replays (default: user_data/replay)")
    p_replay.add_argument(
        "--fresh", action="store_true", help="start over: delete the replay's database and clock"
    )
    p_replay.add_argument(
        "--telegram",
        action="store_true",
        help="keep Telegram on (off by default: replay messages would reach the real chat)",
    )
    p_replay.add_argument("--spread-bps", type=float, default=2.0, help="synthetic spread")
    p_replay.add_argument(
        "--book-level-amount", type=float, default=1.0, help="contracts at the best book level"
    )

    p_fault = sub.add_parser(
        "replay-fault",
        help="Inject a fault into a running replay (exchange down, candles late) or clear it",
    )
    p_fault.add_argument("fault", choices=("exchange-down", "candles-late", "clear"))
    p_fault.add_argument("--name", default="default", help="replay name")
    p_fault.add_argument("--root", help="parent folder of replays (default: user_data/replay)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of the ``bitbot`` console command.

    :param argv: command line without the program name (``sys.argv[1:]`` by default)
    :return: exit code
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        build_parser().print_help()
        print(
            "\nFreqtrade subcommands: run `bitbot <subcommand> --help`, e.g. "
            "`bitbot backtesting --help`."
        )
        return 0
    if argv[0] not in BITBOT_COMMANDS:
        return run_freqtrade(argv)
    if argv[0] == "replay":
        return _cmd_replay(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ns = build_parser().parse_args(argv)
    handlers = {
        "markets": _cmd_markets,
        "synth": _cmd_synth,
        "data": _cmd_data,
        "compare": _cmd_compare,
        "bias-check": _cmd_bias_check,
        "tune": _cmd_tune,
        "models": _cmd_models,
        "report": _cmd_report,
        "replay-fault": _cmd_replay_fault,
    }
    try:
        return handlers[ns.command](ns)
    except markets.SnapshotError as e:
        print(f"bitbot: markets error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
