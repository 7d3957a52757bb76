"""The API's contract (modules/api/contract.json) is rendered into the templates and the OpenAPI document."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from tools import contract


def test_the_generated_files_are_what_the_contract_renders() -> None:
    assert contract.stale() == [], "run `make contract` after editing modules/api/contract.json"


def test_every_row_attribute_has_its_own_placeholder() -> None:
    placeholders = [attribute["placeholder"] for attribute in contract.attributes()]
    assert len(placeholders) == len(set(placeholders))


def test_every_field_a_body_writes_is_in_the_fingerprint() -> None:
    """docs/api.md: a repetition is the same value in every field of the body."""
    assert all(a.get("fingerprint") for a in contract.attributes() if a.get("from_body"))


def test_only_the_last_text_of_the_fingerprint_is_sent_as_it_is() -> None:
    kinds = [attribute["fingerprint"] for attribute in contract.fingerprinted()]
    assert kinds.count("last") <= 1 and "last" not in kinds[:-1]


def with_reference(body: Mapping[str, object], attribute: Mapping[str, object]) -> dict[str, Any]:
    """The contract with a ``reference`` field added as a contributor might: its body property and row attribute."""
    data: dict[str, Any] = copy.deepcopy(contract.contract())
    data["bodies"]["NewTransaction"]["properties"]["reference"] = body
    data["row"]["attributes"].append({"name": "reference", "placeholder": "rf", "from_body": True, **attribute})
    return data


def test_the_contract_as_written_has_no_fault() -> None:
    assert contract.faults(contract.contract()) == []


@pytest.mark.parametrize(
    ("body", "attribute", "fault"),
    [
        # Written as sent, a quote in it would end the JSON string and add a value of the client's choosing.
        ({"type": "string", "maxLength": 64}, {"fingerprint": "text"}, "row.reference: a free text must be escaped"),
        ({"type": "string", "maxLength": 64}, {"escape": True, "fingerprint": "text"}, "unknown keys ['escape']"),
        # Fingerprinted plain, "a|+b" and then "a" with a description "b|-" would read as the same request (409).
        (
            {"type": "string", "maxLength": 64},
            {"escaped": True, "fingerprint": "plain"},
            "row.reference: a free text is fingerprinted as text or last (it may hold |)",
        ),
        ({"type": "string"}, {"escaped": True, "fingerprint": "text"}, "NewTransaction.reference: a free text needs"),
        ({"type": "integer"}, {"fingerprint": "plain"}, "row.reference: written unescaped, so it needs a pattern"),
    ],
)
def test_a_field_that_would_reach_the_write_unchecked_is_refused(
    body: dict[str, object], attribute: dict[str, object], fault: str
) -> None:
    found = contract.faults(with_reference(body, attribute))
    assert any(fault in f for f in found), found


def test_a_field_with_a_pattern_may_be_written_unescaped_and_fingerprinted_plain() -> None:
    body = {"type": "string", "pattern": "^[a-z]{1,8}$"}
    assert contract.faults(with_reference(body, {"fingerprint": "plain"})) == []


def test_yaml_words_and_numbers_are_written_as_yaml_reads_them_back() -> None:
    values = ["null", "on", "No", "plain", "it's", 1.5, 3, True]
    assert yaml.safe_load("[" + ", ".join(contract._yaml(v) for v in values) + "]") == values
