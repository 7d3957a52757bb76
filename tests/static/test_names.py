"""Names that cross languages have one owner, and every other place is held to it here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

from sandbox import metering
from tests.support.aws import DETAILS_INDEX

ROOT = Path(__file__).resolve().parents[2]


def terraform(path: str) -> dict[str, Any]:
    with (ROOT / path).open() as handle:
        loaded: dict[str, Any] = hcl2.load(handle)
        return loaded


def table_names() -> dict[str, str]:
    """Each DynamoDB table of the tables module: its resource name and its name expression."""
    found = {}
    for block in terraform("modules/tables/main.tf").get("resource", []):
        for name, body in block.get('"aws_dynamodb_table"', {}).items():
            found[unquoted(name)] = unquoted(body["name"])
    return found


def unquoted(text: str) -> str:
    """python-hcl2 keeps a string's quotes."""
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def test_the_local_account_knows_each_table_by_the_suffix_the_tables_module_gives_it() -> None:
    names = table_names()
    assert set(names) == {"details", "summary", "applied", "balances"}
    for resource, expression in names.items():
        suffix = expression.removeprefix("${var.name_prefix}")
        assert suffix in metering.ROLES, f"{resource}: {expression} ends in a suffix the local account does not know"
        assert metering.role(f"stack{suffix}") == resource


def test_the_details_index_has_the_name_the_tables_module_gives_it() -> None:
    locals_ = {
        unquoted(k): unquoted(str(v))
        for block in terraform("modules/tables/main.tf")["locals"]
        for k, v in block.items()
    }
    assert locals_["details_index"] == DETAILS_INDEX
    template = (ROOT / "modules/api/templates/list_transactions.request.vtl").read_text()
    assert DETAILS_INDEX not in template and template.count('"IndexName": "${details_index}"') == 2
