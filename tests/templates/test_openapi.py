"""docs/openapi.yaml describes what is deployed: its value rules are the templates' rules."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
SCHEMAS = SPEC["components"]["schemas"]
CREATE = (ROOT / "modules/api/templates/create_transaction.request.vtl").read_text()
LIST = (ROOT / "modules/api/templates/list_transactions.request.vtl").read_text()
MODEL = json.loads((ROOT / "modules/api/new_transaction.schema.json").read_text())


def test_the_body_fields_and_required_set_match_the_deployed_model() -> None:
    body = SCHEMAS["NewTransaction"]
    assert set(body["properties"]) == set(MODEL["properties"])
    assert body["required"] == MODEL["required"]
    assert body["additionalProperties"] is MODEL["additionalProperties"] is False


def test_every_value_pattern_is_the_one_the_template_enforces() -> None:
    props = SCHEMAS["NewTransaction"]["properties"]
    for name in ("transactionId", "amount", "currency", "occurredAt"):
        inner = props[name]["pattern"][1:-1]  # the template matches the JSON text: "<value>"
        assert f"'^\"{inner}\"$'" in CREATE, name
    assert props["description"]["maxLength"] == 256 and "length() > 256" in CREATE
    assert props["type"]["enum"] == ["credit", "debit"] and "(credit|debit)" in CREATE


def test_path_and_query_patterns_match_the_templates() -> None:
    account = SPEC["components"]["parameters"]["accountId"]["schema"]["pattern"]
    assert f"'{account}'" in CREATE and f"'{account}'" in LIST
    query = {
        p["name"]: p["schema"]["pattern"]
        for p in SPEC["paths"]["/accounts/{accountId}/transactions"]["get"]["parameters"]
    }
    # Documented as ^(<rule>)?$: API Gateway cannot tell an empty parameter from an absent one.
    for name in ("limit", "nextToken"):
        inner = query[name].removeprefix("^(").removesuffix(")?$")
        assert f"'^{inner}$'" in LIST, name


def test_every_method_documents_its_failures() -> None:
    for path in SPEC["paths"].values():
        for name, operation in path.items():
            if name == "parameters":
                continue
            statuses = set(operation["responses"])
            assert {"400", "403", "429", "500"} <= statuses, operation["operationId"]
