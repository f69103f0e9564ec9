"""
MetaStrategy + MetaPPO end to end, offline: FreqAI walk-forward backtests on a short window of
real data with a CI-sized agent, and the same seed giving the same trades.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.freqtrade import (
    REPO,
    backtest_predictions,
    freqai_backtest,
    market_jumping_at,
    without_levers,
)


pytestmark = pytest.mark.slow

CONFIGS = [
    "-c",
    "user_data/config.json",
    "-c",
    "user_data/config.binance.json",
    "-c",
    "user_data/config.freqai.json",
]


def _configs(tmp_path: Path, shipped: bool = False) -> list[str]:
    """
    :param shipped: the shipped meta-learner; else without its levers (``without_levers``): a
        test of one lever adds it to a plain agent, whatever the shipped default turns on
    :return: the ``-c`` arguments of the exchange and meta-learner configs
    """
    if shipped:
        return CONFIGS
    path = tmp_path / "config.freqai.plain.json"
    shipped_freqai = json.loads((REPO / "user_data" / "config.freqai.json").read_text())
    path.write_text(json.dumps(without_levers(shipped_freqai)))
    return [*CONFIGS[:4], "-c", str(path)]


def _small_agent(tmp_path: Path, identifier: str, freqai: dict | None = None, **rl: object) -> str:
    """A CI-sized overlay: one-month training windows, two-week backtest windows, tiny net."""
    path = tmp_path / f"{identifier}.json"
    path.write_text(
        json.dumps(
            {
                "freqai": {
                    **(freqai or {}),
                    "identifier": identifier,
                    "train_period_days": 30,
                    "backtest_period_days": 15,
                    "model_training_parameters": {"n_steps": 256, "batch_size": 64, "n_epochs": 2},
                    "rl_config": {"train_cycles": 1, "net_arch": [16, 16], **rl},
                },
            }
        )
    )
    return str(path)


def _backtest(
    datadir: Path,
    tmp_path: Path,
    identifier: str,
    freqai: dict | None = None,
    shipped: bool = False,
    **rl: object,
) -> list[dict]:
    results = tmp_path / f"results-{identifier}"
    results.mkdir(exist_ok=True)
    freqai_backtest(
        tmp_path,
        identifier,
        [*_configs(tmp_path, shipped), "-c", _small_agent(tmp_path, identifier, freqai, **rl)],
        "MetaStrategy",
        "20250601-20250701",
        results,
        env={"BITBOT_DATA": str(datadir)},
    )
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    stats = load_backtest_stats(results / get_latest_backtest_filename(results))
    return stats["strategy"]["MetaStrategy"]["trades"]


def _trade_key(t: dict) -> tuple:
    return (
        t["open_date"],
        t["close_date"],
        t["is_short"],
        round(t["amount"], 8),
        round(t["profit_abs"], 8),
        round(t["funding_fees"], 10),
    )


def test_walk_forward_backtest_is_deterministic(market_datadir: Path, tmp_path: Path) -> None:
    """Real data when present, else the synthetic market: a checkout without data proves it."""
    binance_datadir = market_datadir
    first = _backtest(binance_datadir, tmp_path, "ci-det-a", shipped=True)
    second = _backtest(binance_datadir, tmp_path, "ci-det-b", shipped=True)
    assert first, "the agent made no trade at all"
    assert [_trade_key(t) for t in first] == [_trade_key(t) for t in second]
    assert any(abs(t["funding_fees"]) > 0 for t in first), "funding must be charged"
    # A second run with the same identifier reuses the trained models and their predictions.
    again = _backtest(binance_datadir, tmp_path, "ci-det-a", shipped=True)
    assert [_trade_key(t) for t in again] == [_trade_key(t) for t in first]


def test_five_exposure_levels_use_half_positions(binance_datadir: Path, tmp_path: Path) -> None:
    trades = _backtest(binance_datadir, tmp_path, "ci-five", seed=7, exposure_levels=5)
    assert trades, "the agent made no trade at all"
    wallet = 10_000  # dry_run_wallet of user_data/config.json
    first_stakes = [t["orders"][0]["cost"] / t["leverage"] for t in trades]
    half = [s for s in first_stakes if s < 0.6 * wallet]
    adjusted = [
        t
        for t in trades
        if sum(o["ft_is_entry"] for o in t["orders"]) > 1
        or sum(not o["ft_is_entry"] for o in t["orders"]) > 1
    ]
    assert half or adjusted, f"no half position in {len(trades)} trades: {first_stakes[:10]}"


def test_a_decision_clock_trades_only_after_its_candles(
    market_datadir: Path, tmp_path: Path
) -> None:
    """decision_clock every 6: every fill is at 01, 07, 13 or 19 h (after the deciding candle)."""
    trades = _backtest(market_datadir, tmp_path, "ci-clock", decision_clock={"every": 6})
    assert trades, "the agent made no trade at all"
    fills = [
        o["order_filled_timestamp"]
        for t in trades
        for o in t["orders"]
        if t["exit_reason"] != "force_exit" or o["ft_is_entry"]  # the backtest's end closes
    ]
    hours = {datetime.fromtimestamp(ms / 1000, UTC).hour for ms in fills}
    assert hours <= {1, 7, 13, 19}, hours


@pytest.mark.parametrize(
    ("mode", "rl"),
    [
        # the select mode, trained under the risk layer's stop (rl.env: train_with_stops)
        ("select", {"action_mode": "select", "train_with_stops": True}),
        # the residual mode, started by imitating follow the leader (rl.imitation)
        (
            "residual",
            {
                "action_mode": "residual",
                "residual_base": "follow_the_leader",
                "behaviour_cloning": {"teacher": "follow_the_leader", "epochs": 2},
            },
        ),
        # one registered strategy as the residual's base, the teacher and the benchmark
        (
            "residual-strategy",
            {
                "action_mode": "residual",
                "residual_base": "strategy:volatility",
                "behaviour_cloning": {"teacher": "strategy:volatility", "epochs": 2},
                "model_reward_parameters": {
                    "reward": "excess_log_return",
                    "benchmark": "strategy:volatility",
                },
            },
        ),
        ("vectorised", {"n_envs": 4}),  # rl.vector: four copies of the environment
        (
            "excess",
            {
                "model_reward_parameters": {
                    "reward": "excess_log_return",
                    "benchmark": "equal_vote",
                    "turnover_penalty": 0.001,
                }
            },
        ),
    ],
)
def test_action_modes_walk_forward(
    mode: str, rl: dict, market_datadir: Path, tmp_path: Path
) -> None:
    """The select and residual modes, training under the stop, a behaviour-cloning start, the
    reward measured against a benchmark and parallel training environments train, predict and
    trade through FreqAI's walk-forward."""
    trades = _backtest(market_datadir, tmp_path, f"ci-mode-{mode}", **rl)
    assert trades, f"the {mode} agent made no trade at all"


def test_stacked_forecasts_come_from_before_their_window(
    market_datadir: Path, tmp_path: Path
) -> None:
    """
    predictors: the agent observes LightGBM and GRU forecasts of the next day. In a backtest
    window they come from models fitted on data before it: prices that jump 20 % 12 hours into
    the second window leave that window's earlier forecasts as they were; later ones move.
    Each window saves its predictors next to its agent.
    """
    second_window = pd.Timestamp("2025-06-16", tz="UTC")  # 20250601-20250701 by 15 days
    jump = second_window + pd.Timedelta(hours=12)
    changed = market_jumping_at(market_datadir, tmp_path / "changed", jump)
    rl = {"predictors": {"models": ["lightgbm", "gru"], "horizon": 24, "folds": 3}}
    _backtest(market_datadir, tmp_path, "ci-stack-a", freqai={"save_backtest_models": True}, **rl)
    _backtest(changed, tmp_path, "ci-stack-b", **rl)
    original = backtest_predictions(tmp_path, "ci-stack-a")
    jumped = backtest_predictions(tmp_path, "ci-stack-b")
    columns = ["forecast_lightgbm", "forecast_gru"]
    assert (original[columns].std() > 0).all() and original["&-action"].notna().all()
    before = (original.index >= second_window) & (original.index < jump)
    assert before.sum() == 12
    pd.testing.assert_frame_equal(
        original.loc[before, columns], jumped.loc[before, columns], check_exact=True
    )
    after = original.index >= jump + pd.Timedelta(days=1)
    assert (original.loc[after, columns] != jumped.loc[after, columns]).any().all()
    models = tmp_path / "userdir-ci-stack-a" / "models" / "ci-stack-a"
    assert len(list(models.rglob("cb_*_model.predictors.joblib"))) == 2


def test_continual_learning_warm_starts_each_window(market_datadir: Path, tmp_path: Path) -> None:
    """freqai.continual_learning: the second window's agent trains on from the first's. With
    synthetic pre-training the first agent trains on the generated market first (its features
    computed by the MetaStrategy, scaled by the window's pipeline); the second one, warm-started,
    is not pre-trained again."""
    results = tmp_path / "results"
    results.mkdir()
    overlay = _small_agent(
        tmp_path,
        "ci-continual",
        {"continual_learning": True},
        synthetic_pretraining={"days": 400, "train_cycles": 1},
    )
    out = freqai_backtest(
        tmp_path,
        "ci-continual",
        [*_configs(tmp_path), "-c", overlay],
        "MetaStrategy",
        "20250601-20250701",
        results,
        env={"BITBOT_DATA": str(market_datadir)},
    )
    assert out.count("MetaPPO: continual learning, training on from the previous agent") == 1
    assert out.count("MetaPPO: synthetic pre-training") == 1


def test_a_seed_ensemble_trains_and_saves_every_member(
    market_datadir: Path, tmp_path: Path
) -> None:
    """Three agents per window vote; each window saves its three members' files."""
    results = tmp_path / "results"
    results.mkdir()
    overlay = _small_agent(
        tmp_path,
        "ci-ensemble",
        {"save_backtest_models": True},
        ensemble={"members": 3, "vote": "majority"},
    )
    freqai_backtest(
        tmp_path,
        "ci-ensemble",
        [*_configs(tmp_path), "-c", overlay],
        "MetaStrategy",
        "20250601-20250701",
        results,
        env={"BITBOT_DATA": str(market_datadir)},
    )
    models = tmp_path / "userdir-ci-ensemble" / "models" / "ci-ensemble"
    for name in ("cb_*_model.zip", "cb_*_model.member1.zip", "cb_*_model.member2.zip"):
        assert len(list(models.rglob(name))) == 2, name  # two walk-forward windows


def test_a_seed_ensemble_walk_forward_is_deterministic(
    market_datadir: Path, tmp_path: Path
) -> None:
    """The same config trains the same three members and votes the same trades (cloned from
    buy-and-hold first, so that CI-sized agents trade at all)."""
    rl = {
        "ensemble": {"members": 3, "vote": "majority"},
        "behaviour_cloning": {"teacher": "buy_and_hold", "epochs": 5},
    }
    first = _backtest(market_datadir, tmp_path, "ci-ens-det-a", **rl)
    second = _backtest(market_datadir, tmp_path, "ci-ens-det-b", **rl)
    assert first, "the ensemble made no trade at all"
    assert [_trade_key(t) for t in first] == [_trade_key(t) for t in second]


def test_agents_trained_on_the_whole_window_keep_their_last_checkpoint(
    market_datadir: Path, tmp_path: Path
) -> None:
    """``test_size`` 0 (``user_data/overlays/whole-window-ensemble3.json``): no held-out split,
    no checkpoint choice; the ensemble's members train on every candle of the window and
    trade (cloned from buy-and-hold first, so that CI-sized agents trade at all)."""
    overlay = json.loads((REPO / "user_data/overlays/whole-window-ensemble3.json").read_text())
    rl = {
        **overlay["freqai"]["rl_config"],
        "behaviour_cloning": {"teacher": "buy_and_hold", "epochs": 5},
    }
    freqai = {
        "data_split_parameters": overlay["freqai"]["data_split_parameters"],
        "save_backtest_models": True,
    }
    trades = _backtest(market_datadir, tmp_path, "ci-whole-window", freqai, **rl)
    assert trades, "the whole-window ensemble made no trade at all"
    models = tmp_path / "userdir-ci-whole-window" / "models" / "ci-whole-window"
    assert len(list(models.rglob("cb_*_model.member2.zip"))) == 2  # two windows, three members
    assert not list(models.rglob("best_model.zip")), "no checkpoint was chosen on a split"


def test_walk_forward_on_the_kraken_config(tmp_path: Path) -> None:
    """The Kraken futures config (BTC/USD:USD, markets from the snapshot) on synthetic data."""
    from meta_strategy.data.synthetic.config import SyntheticMarketConfig
    from meta_strategy.data.synthetic.files import write_freqtrade_data
    from meta_strategy.data.synthetic.simulate import generate_market

    datadir = tmp_path / "kraken"
    # the MetaStrategy warms up for about 218 days (the registry's longest lookback and the 90-day
    # track records) before the 30-day training window
    market = generate_market(SyntheticMarketConfig(seed=3, start="2022-07-01", end="2023-05-01"))
    write_freqtrade_data(market, datadir, pair="BTC/USD:USD", timeframes=("1h",))
    configs = [
        "-c",
        "user_data/config.json",
        "-c",
        "user_data/config.freqai.json",
        "-c",
        _small_agent(tmp_path, "ci-kraken"),
        "--datadir",
        str(datadir),
    ]
    out = freqai_backtest(
        tmp_path,
        "ci-kraken",
        configs,
        "MetaStrategy",
        "20230401-20230501",
        tmp_path,
        env={"BITBOT_MARKETS_SNAPSHOT": "user_data/markets/krakenfutures.json"},
        unset=("BITBOT_DATA",),
    )
    assert "Markets of krakenfutures from snapshot" in out
    assert "Funding rates for BTC/USD:USD" in out
    assert "STRATEGY SUMMARY" in out


def test_lightgbm_stacker_walk_forward(binance_datadir: Path, tmp_path: Path) -> None:
    """The supervised baseline: FreqAI's LightGBM regression on the same features, long and
    short beyond its cost band."""
    overlay = tmp_path / "short.json"
    overlay.write_text(
        json.dumps(
            {
                "freqai": {
                    "identifier": "ci-stacker",
                    "train_period_days": 30,
                    "backtest_period_days": 15,
                }
            }
        )
    )
    configs = [
        "-c",
        "user_data/config.json",
        "-c",
        "user_data/config.binance.json",
        "-c",
        "user_data/config.stacker.json",
        "-c",
        str(overlay),
    ]
    freqai_backtest(
        tmp_path,
        "ci-stacker",
        configs,
        "StackerStrategy",
        "20250601-20250701",
        tmp_path,
        env={"BITBOT_DATA": str(binance_datadir)},
    )
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    stats = load_backtest_stats(tmp_path / get_latest_backtest_filename(tmp_path))
    trades = stats["strategy"]["StackerStrategy"]["trades"]
    assert any(t["is_short"] for t in trades) and any(not t["is_short"] for t in trades)
