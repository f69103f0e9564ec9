"""The report's runs must trade the same period before their figures are compared; each run's
result is read once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from meta_strategy.research.report.plan import RunSpec
from meta_strategy.research.report.runs import RunError, RunResult, check_same_period


@dataclass
class _Run:
    """A finished run as ``check_same_period`` reads it: its name and Freqtrade's statistics."""

    name: str
    spans: dict[str, tuple[str, str]]

    @property
    def spec(self) -> SimpleNamespace:
        return SimpleNamespace(name=self.name)

    def stats(self) -> dict:
        return {
            "strategy": {
                strategy: {"backtest_start": start, "backtest_end": end}
                for strategy, (start, end) in self.spans.items()
            }
        }


FULL = ("2021-01-01 00:00:00", "2024-01-01 00:00:00")


def test_runs_over_the_same_period_pass() -> None:
    rules = _Run("rules", {"VolatilitySystem": FULL, "OTTStrategy": FULL})
    check_same_period([rules, _Run("meta-ppo-s42", {"MetaStrategy": FULL})])  # type: ignore[list-item]


def test_a_run_that_freqtrade_started_later_is_named_with_the_first_common_day() -> None:
    # 365 training days and the MetaStrategy's start-up need data from 2019-05; it starts
    # 2019-09-08, so Freqtrade moved the meta runs' start (the report used to fail in pandas)
    rules = _Run("rules", {"VolatilitySystem": FULL, "OTTStrategy": FULL})
    late = ("2021-04-13 16:00:00", "2024-01-01 00:00:00")
    meta = _Run("meta-ppo-s42", {"MetaStrategy": late})
    with pytest.raises(RunError) as e:
        check_same_period([rules, meta])  # type: ignore[list-item]
    message = str(e.value)
    assert "rules:VolatilitySystem, rules:OTTStrategy from 2021-01-01 00:00:00" in message
    assert "meta-ppo-s42:MetaStrategy from 2021-04-13 16:00:00" in message
    assert "--timerange 20210414-" in message and "--train-days" in message


def test_a_runs_backtest_result_is_read_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import freqtrade.data.btanalysis as btanalysis

    read: list[Path] = []
    monkeypatch.setattr(
        btanalysis, "load_backtest_stats", lambda path: read.append(path) or {"strategy": {}}
    )
    spec = RunSpec("rules", "rules", ("VolatilitySystem",), ())
    result = RunResult(spec, "k", tmp_path, tmp_path / "result.zip", 1.0, True, None)
    assert result.stats() is result.stats() and read == [tmp_path / "result.zip"]
    again = RunResult(spec, "k", tmp_path, tmp_path / "result.zip", 1.0, True, None)
    assert again == result, "the cached figures are not part of the run's identity"
