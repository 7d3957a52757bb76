"""The API's contract (modules/api/contract.json) is rendered into the templates and the OpenAPI document."""

from __future__ import annotations

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
