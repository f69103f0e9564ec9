"""Reading a saved report's ``results.json``: each problem names the file and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meta_strategy.research.report.saved import REPORT_KEYS, SavedReportError, read_results


def test_a_report_result_is_read(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    data = {"period_name": "validation", "configurations": [], "runs": [], "more": 1}
    path.write_text(json.dumps(data))
    assert read_results(path) == data


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, r"not a readable report result \(.*No such file"),
        ("{not json", r"not a readable report result \(Expecting"),
        ("[1, 2]", r"not a results\.json of `bitbot report` \(not an object\)"),
        (json.dumps({"period_name": "test", "runs": []}), r"no 'configurations'"),
    ],
)
def test_a_missing_or_corrupt_result_is_named(tmp_path: Path, content, problem) -> None:
    path = tmp_path / "val-x" / "results.json"
    if content is not None:
        path.parent.mkdir()
        path.write_text(content)
    with pytest.raises(SavedReportError, match=rf"val-x/results\.json: {problem}"):
        read_results(path)


def test_a_caller_asks_only_for_what_it_reads(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"runs": [], "configurations": []}))
    assert read_results(path, ("runs", "configurations"))["runs"] == []
    with pytest.raises(SavedReportError, match="no 'period_name'"):
        read_results(path, REPORT_KEYS)
