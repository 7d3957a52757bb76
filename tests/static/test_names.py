"""Names, defaults and limits that cross languages have one owner, and every other place is held to it here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2

from ledger_aggregator.config import DEFAULT_MARKER_TTL_SECONDS, MAX_VISIBILITY_SECONDS
from ledger_aggregator.formats import ACCOUNT_ID
from ledger_aggregator.redelivery import DEFAULT_CEILING_SECONDS
from local_account import meter
from tests.support.aws import DETAILS_INDEX
from tests.support.templates import OPERATIONS, api_template

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
    assert set(names) == {"details", "summary", "applied", "balances", "history", "holds"}
    for resource, expression in names.items():
        suffix = expression.removeprefix("${var.name_prefix}")
        assert suffix in meter.ROLES, f"{resource}: {expression} ends in a suffix the local account does not know"
        assert meter.role(f"stack{suffix}") == resource


def test_the_details_index_has_the_name_the_tables_module_gives_it() -> None:
    locals_ = {
        unquoted(k): unquoted(str(v))
        for block in terraform("modules/tables/main.tf")["locals"]
        for k, v in block.items()
    }
    assert locals_["details_index"] == DETAILS_INDEX
    template = (ROOT / "modules/api/templates/list_transactions.request.vtl").read_text()
    assert DETAILS_INDEX not in template and template.count('"IndexName": "${details_index}"') == 1
    main = (ROOT / "modules/api/main.tf").read_text()
    assert '\\"IndexName\\": \\"${var.tables.details.index_name}\\"' in main, "the refusal's index is the module's"
    assert api_template("list_transactions.request.vtl").count(f'"IndexName": "{DETAILS_INDEX}"') == 2


def optional_default(variable: str, attribute: str) -> str:
    """The default of ``optional(type, default)`` for one attribute of a root variable's object type."""
    for block in terraform("variables.tf")["variable"]:
        for name, body in block.items():
            if unquoted(name) == variable:
                found = re.search(rf"\b{attribute} = optional\(\w+, ([^)]+)\)", str(body["type"]))
                assert found, f"{variable}.{attribute} has no optional default"
                return found.group(1)
    raise AssertionError(f"no variable {variable}")


def test_the_functions_defaults_and_limits_are_the_roots() -> None:
    """The Python constants are fallbacks and bounds of what Terraform always sets: they must agree."""
    assert int(optional_default("buffer", "backoff_max_seconds")) == DEFAULT_CEILING_SECONDS
    assert int(optional_default("functions", "marker_ttl_days")) * 86_400 == DEFAULT_MARKER_TTL_SECONDS
    root = (ROOT / "variables.tf").read_text()
    assert f"var.buffer.visibility_timeout_seconds <= {MAX_VISIBILITY_SECONDS}" in root


def test_every_account_id_check_is_the_aggregators() -> None:
    """An account id is checked in the request templates, the access module and the OpenAPI document; each
    check must accept exactly what the aggregator's formats.ACCOUNT_ID accepts."""
    whole = f"^{ACCOUNT_ID.pattern}$"
    templates = [api_template(f"{method}.request.vtl") for method in OPERATIONS]
    checks = [m for t in templates for m in re.findall(r"\$accountId\.matches\('([^']*)'\)", t)]
    assert len(checks) == len(OPERATIONS) == 11 and set(checks) == {whole}, checks
    access = (ROOT / "modules/account_access/variables.tf").read_text()
    assert 'can(regex("^${local.account_id}$", a))' in access
    ids = (ROOT / "modules/account_access/main.tf").read_text()
    assert 'jsondecode(file("${path.module}/../../lambda_src/ledger_aggregator/ids.json")).accountId' in ids
    openapi = (ROOT / "docs/openapi.yaml").read_text()
    assert (
        f"name: accountId\n      in: path\n      required: true\n      schema: {{type: string, pattern: '{whole}'}}"
        in openapi
    )
