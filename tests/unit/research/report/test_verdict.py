"""Verdicts from distributions: the headline uses the mean over seeds, the ledger counts trials."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meta_strategy.research.report.analysis import RunFigures
from meta_strategy.research.report.plan import RunSpec
from meta_strategy.research.report.trials import (
    LEDGER,
    Trial,
    TrialLedgerError,
    read_trials,
    record_trials,
    trades_fingerprint,
    trials_in,
    trials_of,
)
from meta_strategy.research.report.verdict import judge


def _run(name: str, group: str, sharpe: float, algorithm: str | None = None, seed: int = 0):
    metrics = {"sharpe": sharpe, "total_return": sharpe / 10, "max_drawdown": 0.2}
    return RunFigures(name, group, name, algorithm=algorithm, seed=seed, metrics=metrics)


def _returns(names: list[str]) -> dict[str, pd.Series]:
    rng = np.random.default_rng(1)
    index = pd.date_range("2021-01-01", periods=400, freq="1D")
    return {n: pd.Series(rng.normal(0.002, 0.02, 400), index=index) for n in names}


def test_the_headline_is_the_shipped_mean_over_seeds_not_the_best_seed() -> None:
    figures = [
        _run("meta-ppo-s42", "meta", 0.2, "PPO", 42),
        _run("meta-ppo-s43", "meta", 2.0, "PPO", 43),  # a lucky seed
        _run("meta-ppo-s44", "meta", 0.5, "PPO", 44),
        _run("meta-a2c-s42", "meta", 3.0, "A2C", 42),  # another configuration, not shipped
        _run("OTTStrategy", "strategy", 1.0),
        _run("EqualVoteStrategy", "baseline", 0.4),
        _run("VolatilitySystem-vol-targeted", "baseline", 0.95),
        _run("EqualVoteStrategy-vol-targeted", "baseline", 0.3),
        _run("buy_and_hold", "baseline", 0.6),
        _run("flat", "baseline", 0.0),
    ]
    returns = _returns([f.name for f in figures])
    keys = {f.name: f"key-{f.algorithm}" for f in figures}
    judgement = judge(
        figures, returns, keys, "PPO", trials=9, trial_sharpe_variance=1e-4, period="validation"
    )
    shipped = judgement.configurations[0]
    assert shipped.shipped and shipped.seeds == [42, 43, 44]
    assert shipped.sharpe["mean"] == pytest.approx(0.9)
    assert (shipped.sharpe["worst"], shipped.sharpe["best"]) == (0.2, 2.0)
    verdict = judgement.verdict
    assert verdict["sharpe"]["mean"] == pytest.approx(0.9)
    against = {r["baseline"]: r for r in verdict["against"]}
    assert not against["best_rule"]["beaten"], "0.9 mean does not beat OTT's 1.0"
    assert against["best_vote"]["beaten"] and against["flat"]["beaten"]
    assert against["buy_and_hold"]["beaten"]
    assert not against["best_vol_targeted"]["beaten"], "0.9 does not beat the sized 0.95"
    assert against["best_vol_targeted"]["sharpe"] == 0.95
    assert any("volatility-targeted baseline's 0.95" in f for f in verdict["promotion"]["meta-ppo"])
    # the best seed (2.0) would have beaten OTT: the verdict does not use it
    assert any("best rule strategy's 1.00" in f for f in verdict["promotion"]["meta-ppo"])
    evidence = judgement.evidence_by_run["meta-ppo-s43"]
    assert evidence["config_sharpe_mean"] == pytest.approx(0.9)
    assert evidence["configuration"] == "key-PPO" and evidence["trials"] == 9
    assert evidence["best_rule_sharpe"] == 1.0 and evidence["best_vote_sharpe"] == 0.4
    assert evidence["best_vol_targeted_sharpe"] == 0.95
    assert "deployed_sharpe" not in evidence, "no as-deployed run in this report"
    # the paired comparisons travel with each model, as the report computed them
    paired = {row["baseline"]: row for row in evidence["config_paired"]}
    assert set(paired) == {"best_rule", "best_vote", "best_vol_targeted", "buy_and_hold"}
    assert paired == {
        row["baseline"]: {
            k: row[k] for k in ("baseline", "label", "difference", "ci_low", "ci_high")
        }
        for row in shipped.paired
    }
    assert paired["best_rule"]["label"] == "OTTStrategy"
    assert any("OTTStrategy's on the same days" in f for f in verdict["promotion"]["meta-ppo"])


def test_the_as_deployed_run_counts_in_the_shipped_configurations_verdict() -> None:
    figures = [
        _run("meta-ppo-s42", "meta", 1.5, "PPO", 42),
        _run("meta-ppo-s43", "meta", 1.4, "PPO", 43),
        _run("meta-as-deployed", "deployed", -1.2, "PPO", 42),
        _run("OTTStrategy", "strategy", 1.0),
        _run("EqualVoteStrategy", "baseline", 0.4),
        _run("flat", "baseline", 0.0),
    ]
    keys = {f.name: "key" for f in figures}
    judgement = judge(
        figures, _returns([f.name for f in figures]), keys, "PPO", 9, 1e-4, "validation"
    )
    assert judgement.evidence_by_run["meta-ppo-s42"]["deployed_sharpe"] == -1.2
    assert judgement.configurations[0].label == "Meta PPO (shipped)"
    variant = judge(
        figures, _returns([f.name for f in figures]), keys, "PPO", 9, 1e-4, "validation", True
    )
    assert variant.configurations[0].label == "Meta PPO (variant)", "a meta overlay changed it"
    failed = judgement.verdict["promotion"]["meta-ppo"]
    assert any("as deployed (risk controls on) its Sharpe -1.20" in f for f in failed), failed


def test_with_every_seed_as_deployed_the_verdict_takes_their_mean() -> None:
    figures = [
        _run("meta-ppo-s42", "meta", 1.5, "PPO", 42),
        _run("meta-ppo-s43", "meta", 1.4, "PPO", 43),
        _run("meta-as-deployed", "deployed", 1.2, "PPO", 42),
        _run("meta-as-deployed-s43", "deployed", 0.6, "PPO", 43),
        _run("OTTStrategy-as-deployed", "deployed", 3.0),  # the rules as deployed: no seed
        _run("OTTStrategy", "strategy", 1.0),
        _run("flat", "baseline", 0.0),
    ]
    keys = {f.name: "key" for f in figures}
    judgement = judge(
        figures, _returns([f.name for f in figures]), keys, "PPO", 9, 1e-4, "validation"
    )
    evidence = judgement.evidence_by_run["meta-ppo-s42"]
    assert evidence["deployed_sharpe"] == pytest.approx(0.9) and evidence["deployed_seeds"] == 2
    failed = judgement.verdict["promotion"]["meta-ppo"]
    assert any("its Sharpe 0.90 (mean over 2 seeds) is not above" in f for f in failed), failed


def test_the_ledger_counts_each_configuration_once_per_period(tmp_path: Path) -> None:
    assert read_trials(tmp_path) == []
    first = [
        Trial("validation", "20210101-20240101", "k1", "a"),
        Trial("validation", "20210101-20240101", "k2", "b"),
    ]
    record_trials(tmp_path, first)
    again = record_trials(tmp_path, [*first, Trial("test", "20240101-20251116", "k1", "a")])
    assert trials_in("validation", again) == 2
    assert trials_in("test", again) == 1
    assert len((tmp_path / LEDGER).read_text().splitlines()) == 3
    # a custom timerange that overlaps a period counts for it: it has looked at its data
    wide = record_trials(tmp_path, [Trial("custom", "20210101-20251116", "k3", "c")])
    assert trials_in("validation", wide) == 3 and trials_in("test", wide) == 2
    early = record_trials(tmp_path, [Trial("custom", "20200101-20201231", "k4", "d")])
    assert trials_in("validation", early) == 3 and trials_in("test", early) == 2
    # the fresh period starts where the test period ends: a look at one is not one at the other
    fresh = record_trials(tmp_path, [Trial("fresh", "20251117-20260601", "k5", "e")])
    assert trials_in("fresh", fresh) == 1 and trials_in("test", fresh) == 2
    assert trials_in("fresh", [Trial("custom", "20240101-", "k6", "f")]) == 1, "open: it looks"
    assert all(t.first_run for t in read_trials(tmp_path))


def _trade(opened: int, amount: float = 0.5, profit: float = 10.0) -> dict:
    fills = [{"order_filled_timestamp": opened, "amount": amount}]
    fills.append({"order_filled_timestamp": opened + 3_600_000, "amount": amount})
    return {
        "open_timestamp": opened,
        "close_timestamp": opened + 3_600_000,
        "is_short": False,
        "profit_abs": profit,
        "orders": fills,
    }


def test_the_same_trades_are_one_trial_whatever_the_key() -> None:
    trades = [_trade(0), _trade(7_200_000)]
    same = trades_fingerprint([trades])
    assert same == trades_fingerprint([[dict(t) for t in trades]])
    assert same != trades_fingerprint([[_trade(0), _trade(7_200_000, amount=0.6)]])
    assert same != trades_fingerprint([[_trade(0), _trade(7_200_000, profit=10.5)]])
    assert same != trades_fingerprint([trades[:1]])
    assert trades_fingerprint([trades, []]) != trades_fingerprint([[], trades]), "seed order"
    span = "20210101-20240101"
    rerun = [
        Trial("validation", span, "code-1:VolatilitySystem", "VolatilitySystem", trades=same),
        # the same rule after a change of code elsewhere: another key, the same trades
        Trial("validation", span, "code-2:VolatilitySystem", "VolatilitySystem", trades=same),
        Trial("validation", span, "code-2:OTTStrategy", "OTTStrategy", trades="other"),
        Trial("validation", span, "old-line", "BbandRsi"),  # recorded before fingerprints
    ]
    assert trials_in("validation", rerun) == 3


def test_a_configuration_recorded_before_fingerprints_gets_one_when_it_runs_again(
    tmp_path: Path,
) -> None:
    span = "20210101-20240101"
    old = [Trial("validation", span, f"k{n}", "VolatilitySystem") for n in (1, 2)]
    record_trials(tmp_path, old)
    assert trials_in("validation", read_trials(tmp_path)) == 2
    record_trials(tmp_path, old)  # reused again without trades: nothing new
    assert len(read_trials(tmp_path)) == 2
    # both made the same trades: re-run (their backtests reused), they are one trial
    again = [Trial(t.period, t.timerange, t.configuration, t.name, trades="x") for t in old]
    ledger = record_trials(tmp_path, again)
    assert len(ledger) == 4 and trials_in("validation", ledger) == 1
    assert ledger[2].first_run == ledger[0].first_run, "when it was first run, not now"
    assert len(record_trials(tmp_path, again)) == 4, "a fingerprint is recorded once"
    assert len(record_trials(tmp_path, old)) == 4


class _Result:
    """A finished run as :func:`trials_of` reads it: its spec, key and trades."""

    def __init__(self, spec: RunSpec, configuration: str, trades: dict[str, list]) -> None:
        self.spec, self.configuration, self._trades = spec, configuration, trades

    def stats(self) -> dict:
        return {"strategy": {k: {"trades": v} for k, v in self._trades.items()}}


def test_a_reports_trials_carry_their_trades() -> None:
    a, b, c = [_trade(0)], [_trade(7_200_000)], [_trade(0, profit=-3.0)]
    rules = RunSpec("rules", "rules", ("VolatilitySystem", "OTTStrategy"), ())
    seeds = [
        _Result(
            RunSpec(f"meta-ppo-s{s}", "rl", ("MetaStrategy",), (), algorithm="PPO", seed=s),
            "meta-key",
            {"MetaStrategy": t},
        )
        for s, t in ((43, c), (42, b))
    ]
    deployed = RunSpec(
        "meta-as-deployed",
        "rl",
        ("MetaStrategy",),
        (),
        algorithm="PPO",
        seed=42,
        models_of="meta-ppo-s42",
    )
    results = [
        _Result(rules, "rules-key", {"VolatilitySystem": a, "OTTStrategy": b}),
        *seeds,
        _Result(deployed, "deployed-key", {"MetaStrategy": b}),
    ]
    trials = trials_of(results, "validation", "20210101-20240101")  # type: ignore[arg-type]
    assert [(t.configuration, t.name, t.trades) for t in trials] == [
        ("rules-key:VolatilitySystem", "VolatilitySystem", trades_fingerprint([a])),
        ("rules-key:OTTStrategy", "OTTStrategy", trades_fingerprint([b])),
        ("meta-key", "meta-PPO", trades_fingerprint([b, c])),  # its seeds in order: 42, 43
        ("deployed-key", "meta-as-deployed", trades_fingerprint([b])),
    ]
    # the as-deployed run made the trades OTTStrategy made: one trial, not two
    assert trials_in("validation", trials) == 3


def test_a_corrupt_ledger_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / LEDGER).write_text('{"period": "validation"}\nnot json\n')
    with pytest.raises(TrialLedgerError, match=r"configurations.jsonl, line 1"):
        read_trials(tmp_path)
