"""The summary item has one owner (summary_item.py): the API's templates read the attributes it names."""

from __future__ import annotations

import re
from pathlib import Path

from ledger_aggregator import summary_item

TEMPLATES = Path(__file__).resolve().parents[2] / "modules" / "api" / "templates"


def test_the_summary_response_template_reads_exactly_the_served_attributes() -> None:
    text = (TEMPLATES / "get_summary.response.vtl").read_text()
    read = set(re.findall(r"\$item\.([A-Za-z]+)\.", text))
    assert read == set(summary_item.SERVED)
    answered = set(re.findall(r'^\s*"([A-Za-z]+)":', text, re.M)) - {"accountId", "balances"}
    assert answered == set(summary_item.SERVED), "the API answers each attribute under its own name"


def test_the_summary_query_filters_on_the_count_attribute() -> None:
    text = (TEMPLATES / "get_summary.request.vtl").read_text()
    assert f'"FilterExpression": "{summary_item.COUNT} > :none"' in text
    assert f"{summary_item.ACCOUNT} = :a" in text and f"{summary_item.CURRENCY} = :c" in text
