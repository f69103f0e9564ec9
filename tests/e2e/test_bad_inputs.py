"""
The bad-input table: each bad input goes through the real ``bitbot`` command and must end with
exit code 2, no traceback, and a message naming the key or file. Keep adding to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from meta_strategy.paths import SIGNAL_STRATEGIES, VOTE_STRATEGIES
from tests.helpers.freqtrade import REPO, run_bitbot, run_freqai_backtest


pytestmark = pytest.mark.slow

BINANCE = ("-c", "user_data/config.json", "-c", "user_data/config.binance.json")
FREQAI = ("-c", "user_data/config.freqai.json")
STACKER = ("-c", "user_data/config.stacker.json")
SHIPPED_STRATEGIES = {
    **dict.fromkeys(SIGNAL_STRATEGIES, ()),
    **dict.fromkeys(VOTE_STRATEGIES, ()),
    "MetaStrategy": FREQAI,
    "StackerStrategy": STACKER,
}


def _registry(change: Callable[[dict], None]) -> dict:
    registry = json.loads((REPO / "user_data" / "strategies_registry.json").read_text())
    change(registry)
    return registry


def _set(index: int, **values: Any) -> Callable[[dict], None]:
    def change(registry: dict) -> None:
        registry["strategies"][index].update(values)

    return change


# name: (config overlay, strategy, registry (dict, text, or None), what the message names)
BACKTEST_CASES: dict[str, tuple[dict, str, Any, str]] = {
    "bitbot key typo": (
        {"bitbot": {"leverag": 2}},
        "OTTStrategy",
        None,
        "'leverag' (did you mean 'leverage'?)",
    ),
    "risk key typo": (
        {"bitbot": {"risk": {"max_exposur": 1}}},
        "OTTStrategy",
        None,
        "bitbot.risk has unknown key(s) 'max_exposur' (did you mean 'max_exposure'?)",
    ),
    "leverage above the ceiling": (
        {"bitbot": {"leverage": 5}},
        "OTTStrategy",
        None,
        "bitbot.leverage is 5, above bitbot.risk.max_leverage 3",
    ),
    "leverage not a number": ({"bitbot": {"leverage": "2x"}}, "BbandRsi", None, "bitbot.leverage"),
    "negative slippage": (
        {"bitbot": {"slippage_bps": -1}},
        "OTTStrategy",
        None,
        "bitbot.slippage_bps must be a number in [0, 100), got -1",
    ),
    "slippage without a fee": (
        {"fee": None},
        "OTTStrategy",
        None,
        "the config sets no 'fee' (bitbot.slippage_bps is 2)",
    ),
    "no fee and no slippage": (
        {"fee": None, "bitbot": {"slippage_bps": 0}},
        "OTTStrategy",
        None,
        "the config sets no 'fee' (bitbot.slippage_bps is 0)",
    ),
    "registry: duplicate names": (
        {},
        "EqualVoteStrategy",
        _registry(_set(1, name="volatility")),
        "duplicate name 'volatility'",
    ),
    "registry: timeframe finer than the base": (
        {},
        "EqualVoteStrategy",
        _registry(_set(0, timeframe="5m")),
        "timeframe 5m is finer than the base timeframe 1h",
    ),
    "registry: lookback too short": (
        {},
        "EqualVoteStrategy",
        _registry(_set(0, lookback_hours=10)),
        "lookback_hours 10 is shorter than the 1000 startup candles VolatilitySystem needs",
    ),
    "registry: parameter of the wrong type": (
        {},
        "EqualVoteStrategy",
        _registry(_set(1, params={"buy_m1": "abc"})),
        "parameter 'buy_m1' of SupertrendStrategy: expected a whole number, got 'abc'",
    ),
    "registry: parameter outside its range": (
        {},
        "EqualVoteStrategy",
        _registry(_set(1, params={"buy_m1": 99})),
        "parameter 'buy_m1' of SupertrendStrategy: 99 is outside its declared range",
    ),
    "registry: unknown parameter": (
        {},
        "EqualVoteStrategy",
        _registry(_set(1, params={"nope": 1})),
        "SupertrendStrategy has no parameter 'nope'",
    ),
    "registry: unknown class": (
        {},
        "EqualVoteStrategy",
        _registry(_set(0, strategy="NoSuchStrategy")),
        "cannot load strategy class 'NoSuchStrategy'",
    ),
    "registry: malformed JSON": ({}, "EqualVoteStrategy", "{ not json", "is not valid JSON"),
    "registry: an external signal file that is not there": (
        {},
        "EqualVoteStrategy",
        _registry(
            lambda r: r["strategies"].append(
                {
                    "name": "sentiment",
                    "type": "external",
                    "source": "/nonexistent/sentiment.csv",
                    "column": "score",
                    "rule": {"kind": "threshold", "long_above": 0.6, "short_below": 0.4},
                    "timeframe": "1h",
                    "lookback_hours": 24,
                }
            )
        ),
        "entry 'sentiment': External signal file /nonexistent/sentiment.csv not found",
    ),
    "registry: an external signal rule without its thresholds": (
        {},
        "EqualVoteStrategy",
        _registry(
            lambda r: r["strategies"].append(
                {
                    "name": "sentiment",
                    "type": "external",
                    "source": "s.csv",
                    "column": "score",
                    "rule": {"kind": "threshold", "long_above": 0.6},
                    "timeframe": "1h",
                    "lookback_hours": 24,
                }
            )
        ),
        "missing: ['short_below']",
    ),
    "config: timeframe other than the registry's base": (
        {"timeframe": "5m"},
        "EqualVoteStrategy",
        None,
        "timeframe '5m' in the config: EqualVoteStrategy and its strategy registry run on 1h",
    ),
    "config: negative dry-run wallet": (
        {"dry_run_wallet": -100},
        "OTTStrategy",
        None,
        "dry_run_wallet must be a positive amount, got -100",
    ),
    "data policy: bad gap limit": (
        {"bitbot": {"data": {"max_gap_candles": -1}}},
        "OTTStrategy",
        None,
        "bitbot.data.max_gap_candles must be a whole number >= 0, got -1",
    ),
    "meta: unknown cost key": (
        {"freqai": {"rl_config": {"costs": {"foo": 1}}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.costs has unknown key(s) 'foo'",
    ),
    "meta: old slippage key in the costs": (
        {"freqai": {"rl_config": {"costs": {"slippage_bps": 2}}}},
        "MetaStrategy",
        None,
        "one setting for the environment and every backtest, bitbot.slippage_bps",
    ),
    "meta: exposure levels 4": (
        {"freqai": {"rl_config": {"exposure_levels": 4}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.exposure_levels must be 3 or 5, got 4",
    ),
    "meta: unknown reward": (
        {"freqai": {"rl_config": {"model_reward_parameters": {"reward": "sharpe"}}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.model_reward_parameters.reward: unknown reward 'sharpe'",
    ),
    "meta: a typo in rl_config": (
        {"freqai": {"rl_config": {"trian_cycles": 3}}},
        "MetaStrategy",
        None,
        "freqai.rl_config has unknown key(s) 'trian_cycles' (did you mean 'train_cycles'?)",
    ),
    "meta: an unknown action mode": (
        {"freqai": {"rl_config": {"action_mode": "pick"}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.action_mode is 'pick'; expected one of target, select, residual",
    ),
    "meta: a decision clock of 0 candles": (
        {"freqai": {"rl_config": {"decision_clock": {"every": 0}}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.decision_clock.every is 0",
    ),
    "meta: an ensemble of no agent": (
        {"freqai": {"rl_config": {"ensemble": {"members": 0}}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.ensemble.members is 0; expected a whole number from 1 to 16",
    ),
    "meta: no training environment": (
        {"freqai": {"rl_config": {"n_envs": 0}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.n_envs: 0 is not a number of environments",
    ),
    "meta: an unknown teacher to imitate": (
        {"freqai": {"rl_config": {"behaviour_cloning": {"teacher": "oracle"}}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.behaviour_cloning.teacher: unknown teacher 'oracle'",
    ),
    "meta: an unknown predictor": (
        {"freqai": {"rl_config": {"predictors": {"models": ["xgb"]}}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.predictors.models: unknown predictor 'xgb'",
    ),
    "meta: train_with_stops not true or false": (
        {"freqai": {"rl_config": {"train_with_stops": "yes"}}},
        "MetaStrategy",
        None,
        "freqai.rl_config.train_with_stops must be true or false, got 'yes'",
    ),
    "meta: a typo in bitbot.sizing": (
        {"bitbot": {"sizing": {"target_vol": 0.4}}},
        "EqualVoteStrategy",
        None,
        "bitbot.sizing has unknown key(s) 'target_vol' (did you mean 'target_volatility'?)",
    ),
    "meta: a reward coefficient the reward does not take": (
        {
            "freqai": {
                "rl_config": {
                    "model_reward_parameters": {
                        "reward": "excess_log_return",
                        "benchmark": "equal_vote",
                        "scal": 9,
                    }
                }
            }
        },
        "MetaStrategy",
        None,
        "has unknown key(s) 'scal' (did you mean 'scale'?)",
    ),
}


def _answer(result: Any, names: str) -> None:
    out = result.stdout
    assert result.returncode == 2, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert names in out, out[-3000:]


@pytest.mark.parametrize("case", list(BACKTEST_CASES))
def test_bad_input_to_a_backtest(case: str, market_datadir: Path, tmp_path: Path) -> None:
    overlay, strategy, registry, names = BACKTEST_CASES[case]
    if registry is not None:
        path = tmp_path / "registry.json"
        path.write_text(registry if isinstance(registry, str) else json.dumps(registry))
        overlay = {**overlay, "bitbot": {**overlay.get("bitbot", {}), "registry": str(path)}}
    (tmp_path / "overlay.json").write_text(json.dumps(overlay))
    configs = (*BINANCE, *SHIPPED_STRATEGIES[strategy], "-c", str(tmp_path / "overlay.json"))
    result = run_bitbot(
        "backtesting",
        *configs,
        "--datadir",
        str(market_datadir),
        "--strategy",
        strategy,
        "--timerange",
        "20250601-20250605",
        "--backtest-directory",
        str(tmp_path),
        timeout=300,
    )
    _answer(result, names)


def test_the_table_names_every_shipped_strategy() -> None:
    shipped = {
        match
        for path in (REPO / "user_data" / "strategies").glob("*.py")
        for match in re.findall(r"^class (\w+)\(", path.read_text(), flags=re.MULTILINE)
    }
    assert shipped == set(SHIPPED_STRATEGIES)


@pytest.mark.parametrize("strategy", list(SHIPPED_STRATEGIES))
def test_dry_run_refuses_leverage_above_the_ceiling(strategy: str, tmp_path: Path) -> None:
    """Every shipped strategy, in ``trade --dry-run`` (the risk layer is not only for backtests)."""
    overlay = tmp_path / "overlay.json"
    overlay.write_text(json.dumps({"bitbot": {"leverage": 5}, "api_server": {"enabled": False}}))
    result = run_bitbot(
        "trade",
        "--dry-run",
        *BINANCE,
        *SHIPPED_STRATEGIES[strategy],
        "-c",
        str(overlay),
        "--strategy",
        strategy,
        "--db-url",
        f"sqlite:///{tmp_path / 'trades.sqlite'}",
        env={"BITBOT_MARKETS_SNAPSHOT": "user_data/markets/binance.json"},
        timeout=120,
    )
    _answer(result, "bitbot.leverage is 5, above bitbot.risk.max_leverage 3")


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (("report", "--jobs", "0"), "argument --jobs: expected at least 1, got 0"),
        (("report", "--jobs", "-2"), "argument --jobs: expected at least 1, got -2"),
        (("report", "--period", "tset"), "unknown period 'tset'"),
        (("report", "--algorithms", "TD3"), "unknown algorithm(s) ['TD3']"),
    ],
)
def test_bad_report_options(argv: tuple[str, ...], names: str) -> None:
    _answer(run_bitbot(*argv, timeout=120), names)


def test_a_failed_training_fails_the_backtest(market_datadir: Path, tmp_path: Path) -> None:
    """FreqAI logs a failed window and goes on; bitbot makes the backtest fail with the cause."""
    overlay = tmp_path / "overlay.json"
    overlay.write_text(
        json.dumps(
            {
                "freqai": {
                    "identifier": "ci-bad-training",
                    "train_period_days": 30,
                    "backtest_period_days": 15,
                    # one environment of one step: PPO refuses a rollout of one transition
                    "model_training_parameters": {"n_steps": 1, "batch_size": 64, "n_epochs": 1},
                    "rl_config": {"train_cycles": 1, "net_arch": [8], "n_envs": 1},
                }
            }
        )
    )
    configs = [*BINANCE, *FREQAI, "-c", str(overlay), "--datadir", str(market_datadir)]
    window = "20250601-20250615"
    result = run_freqai_backtest(
        tmp_path, "bad-training", configs, "MetaStrategy", window, tmp_path, timeout=600
    )
    out = result.stdout
    assert result.returncode == 2, out[-3000:]
    assert "bitbot: training failed in 1 FreqAI window(s)" in out, out[-3000:]


def test_a_gap_in_the_candles_stops_the_backtest(synthetic_datadir: Path, tmp_path: Path) -> None:
    """Freqtrade would fill 10 missing hours with flat candles; the pre-flight names them."""
    import shutil

    import pandas as pd

    datadir = tmp_path / "data"
    shutil.copytree(synthetic_datadir, datadir)
    path = datadir / "futures" / "BTC_USDT_USDT-1h-futures.feather"
    candles = pd.read_feather(path)
    hole = (candles["date"] >= "2025-06-02 00:00") & (candles["date"] < "2025-06-02 10:00")
    candles[~hole].reset_index(drop=True).to_feather(path)
    result = run_bitbot(
        "backtesting",
        *BINANCE,
        "--datadir",
        str(datadir),
        "--strategy",
        "OTTStrategy",
        "--timerange",
        "20250601-20250605",
        "--backtest-directory",
        str(tmp_path),
        timeout=300,
    )
    _answer(result, "has 10 missing 1h candles between 2025-06-01 23:00 and 2025-06-02 10:00")


@pytest.mark.parametrize("strategy", ["PerpSpotBasis", "EqualVoteStrategy"])
def test_a_missing_reference_price_stops_the_backtest(
    strategy: str, market_datadir: Path, tmp_path: Path
) -> None:
    """The spot candles PerpSpotBasis reads (alone, or in the registry) are not there."""
    datadir = tmp_path / "data"
    datadir.mkdir()
    (datadir / "futures").symlink_to(market_datadir / "futures")  # no BTC_USDT-1h.feather
    result = run_bitbot(
        "backtesting",
        *BINANCE,
        "--datadir",
        str(datadir),
        "--strategy",
        strategy,
        "--timerange",
        "20250601-20250605",
        "--backtest-directory",
        str(tmp_path),
        timeout=300,
    )
    _answer(result, f"spot candles of BTC/USDT (1h) as BTC/USDT:USDT's reference price: {datadir}")
    assert "BTC_USDT-1h.feather is missing or empty" in result.stdout


def test_a_timerange_past_the_end_of_the_data(market_datadir: Path, tmp_path: Path) -> None:
    result = run_bitbot(
        "backtesting",
        *BINANCE,
        "--datadir",
        str(market_datadir),
        "--strategy",
        "OTTStrategy",
        "--timerange",
        "20251101-20260301",
        "--backtest-directory",
        str(tmp_path),
        timeout=300,
    )
    _answer(result, "covers only part of timerange 20251101-20260301")


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (("bias-check", "--timerange", "garbage"), 'Incorrect syntax for timerange "garbage"'),
        (("synth", "--start", "2023-13-01", "--end", "2023-02-01"), "month must be in 1..12"),
        (("data", "check", "--datadir", "/nonexistent"), "Data folder /nonexistent does not exist"),
    ],
)
def test_bad_values_to_bitbot_commands(argv: tuple[str, ...], names: str, tmp_path: Path) -> None:
    extra = ("--datadir", str(tmp_path / "synth")) if argv[0] == "synth" else ()
    _answer(run_bitbot(*argv, *extra, timeout=120), names)
