"""``bitbot models list / promote``, in this process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meta_strategy.cli.main import main
from meta_strategy.models.registry import ModelRegistry
from tests.helpers.model_files import T1, T2, T3, fake_run, make_record


def test_cli_list_and_promote(
    saves: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the default paths are user_data/... of the current directory
    paths = fake_run(saves, Path("user_data/models").resolve(), "run-a", (T1, T2, T3))
    registry = ModelRegistry(Path("reg.sqlite"))
    ok = registry.record(make_record("run-a", "2025-07-01", paths[2], sharpe=1.25, hold=0.17))
    missing = registry.record(make_record("run-a", "2025-06-01", paths[0]))
    corrupt = registry.record(make_record("run-a", "2025-06-16", paths[1]))
    paths[0].unlink()
    paths[1].write_bytes(b"PK\x03\x04 not really")

    assert main(["models", "list", "--registry", "empty.sqlite"]) == 0
    assert "No model recorded in empty.sqlite" in capsys.readouterr().out
    assert main(["models", "list", "--registry", "reg.sqlite"]) == 0
    lines = capsys.readouterr().out.splitlines()
    legend = next(i for i, line in enumerate(lines) if line.startswith("* promoted"))
    rows = {int(line.split()[0]): line for line in lines[2:legend]}
    assert "Promotion rule:" in lines[legend + 2]
    assert "full / run-a: promotable" in lines[legend + 3]
    assert rows[missing].endswith("MISSING") and rows[corrupt].endswith("CORRUPT")
    assert rows[ok].endswith("ok") and "run-a" in rows[ok] and "PPO" in rows[ok]
    assert "2025-05-02..2025-07-01" in rows[ok] and "+1.23%" in rows[ok] and "1.25" in rows[ok]

    assert main(["models", "promote", "99", "--registry", "reg.sqlite"]) == 2
    assert "No model 99" in capsys.readouterr().err
    assert main(["models", "promote", str(missing), "--registry", "reg.sqlite"]) == 2
    assert "missing" in capsys.readouterr().err
    assert main(["models", "promote", str(corrupt), "--registry", "reg.sqlite"]) == 2
    assert "not a zip archive" in capsys.readouterr().err

    args = ["models", "promote", "--best", "--report", "full", "--registry", "reg.sqlite"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"Best configuration by mean-over-seeds Sharpe: model {ok}" in out
    assert "user_data/config.promoted.json" in out and "retrained at start-up" in out
    overlay = json.loads(Path("user_data/config.promoted.json").read_text())
    assert overlay["freqai"]["identifier"] == f"promoted-{ok}"
    assert (Path("user_data/models") / f"promoted-{ok}" / "pair_dictionary.json").is_file()
    assert main(["models", "list", "--registry", "reg.sqlite"]) == 0
    promoted = [line for line in capsys.readouterr().out.splitlines() if line.startswith("*")]
    assert len(promoted) == 2 and promoted[0].split()[1] == str(ok)  # the row and the legend

    refused = registry.record(make_record("run-b", "2025-07-01", paths[2], sharpe=0.1, hold=0.17))
    assert main(["models", "promote", str(refused), "--registry", "reg.sqlite"]) == 2
    assert "not above the best rule strategy's 0.50" in capsys.readouterr().err
    args = ["models", "promote", str(refused), "--force", "--registry", "reg.sqlite"]
    assert main([*args, "--pairs", "BTC/USD:USD", "--output", "o.json"]) == 0
    assert "FORCED: --force overrode the promotion rule: mean Sharpe" in capsys.readouterr().out
    # thresholds from the command line
    strict = ["models", "list", "--registry", "reg.sqlite", "--min-deflated-sharpe", "0.9"]
    assert main(strict) == 0
    assert "full / run-a: NOT promotable: deflated Sharpe 0.70" in capsys.readouterr().out
    drawer = json.loads(
        (Path("user_data/models") / f"promoted-{refused}" / "pair_dictionary.json").read_text()
    )
    assert list(drawer) == ["BTC/USD:USD"]

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"x" * 4096)
    assert main(["models", "list", "--registry", str(garbage)]) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err
