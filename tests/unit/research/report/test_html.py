"""The report page's warnings: every look at a confirmation period is counted on the page."""

from __future__ import annotations

import pytest

from meta_strategy.research.report.html import _warnings_html


@pytest.mark.parametrize("period", ["test", "fresh"])
def test_a_confirmation_period_says_how_often_it_was_looked_at(period: str) -> None:
    ledger = {"period": period, f"{period}_period_configurations": 7}
    page = _warnings_html({"settings": {}, "ledger": ledger})
    assert f"{period.upper()} period: 7 configurations have been run on it so far" in page
    assert f"a {period} figure is a confirmation only once" in page


def test_a_validation_report_has_no_warning() -> None:
    ledger = {"period": "validation", "test_period_configurations": 7}
    assert _warnings_html({"settings": {}, "ledger": ledger}) == ""
