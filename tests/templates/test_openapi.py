"""docs/openapi.yaml describes what is deployed: its value rules are the templates' rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger_aggregator.currencies import minor_units
from tests.support.templates import api_template
from tools.contract import bodies, body_schema

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
SCHEMAS = SPEC["components"]["schemas"]
CREATE = api_template("create_transaction.request.vtl")
TRANSFER = api_template("create_transfer.request.vtl")
LIST = api_template("list_transactions.request.vtl")
SUMMARY = api_template("get_summary.request.vtl")
# The bodies as the contract gives them to the deployed models (and the templates' known fields).
MODELS = {model: body_schema(model) for model in bodies()}
LIMITS = api_template("set_limits.request.vtl")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_body_fields_and_required_set_match_the_deployed_model(name: str) -> None:
    body, model = SCHEMAS[name], MODELS[name]
    assert set(body["properties"]) == set(model["properties"])
    assert body["required"] == model["required"]
    assert body["additionalProperties"] is model["additionalProperties"] is False


def pattern(prop: dict[str, Any]) -> str:
    """A property's pattern, following a $ref to a shared schema."""
    return str(_target(prop)["pattern"])


def _target(prop: dict[str, Any]) -> dict[str, Any]:
    """A property's schema, following a $ref to a shared schema."""
    found: dict[str, Any] = SCHEMAS[prop["$ref"].rsplit("/", 1)[-1]] if "$ref" in prop else prop
    return found


@pytest.mark.parametrize(("name", "template"), [("NewTransaction", CREATE), ("NewTransfer", TRANSFER)])
def test_every_value_pattern_is_the_one_the_template_enforces(name: str, template: str) -> None:
    props = SCHEMAS[name]["properties"]
    patterned = [f for f in props if f != "amount" and "pattern" in _target(props[f])]
    # Every other field is the amount, an enum or a free text, each checked below: none goes unchecked.
    assert all(f in patterned or f == "amount" or {"enum", "maxLength"} & set(props[f]) for f in props)
    for field in patterned:
        inner = pattern(props[field])[1:-1]  # the template matches the JSON text: "<value>"
        assert f"'^\"{inner}\"$'" in template, field
    # The amount's places depend on the currency: the template fills them in; the document gives the widest.
    assert "'^\"(0|[1-9][0-9]{0,14})(\\.[0-9]{1,PLACES})?\"$'" in template
    assert pattern(props["amount"]) == f"^(0|[1-9][0-9]{{0,14}})(\\.[0-9]{{1,{max(minor_units().values())}}})?$"
    assert props["description"]["maxLength"] == 256
    for field in [f for f in props if "maxLength" in props[f]]:  # every free text: a string of at most maxLength
        assert f"$body.{field}.length()) > {props[field]['maxLength']}" in template, field
    if name == "NewTransaction":
        assert props["type"]["enum"] == ["credit", "debit"] and "(credit|debit)" in template


def test_path_and_query_patterns_match_the_templates() -> None:
    account = SPEC["components"]["parameters"]["accountId"]["schema"]["pattern"]
    assert f"'{account}'" in CREATE and f"'{account}'" in LIST and f"'{account}'" in SUMMARY
    currency = SPEC["paths"]["/accounts/{accountId}/summary"]["get"]["parameters"][0]["schema"]["pattern"]
    assert f"'^{currency.removeprefix('^(').removesuffix(')?$')}$'" in SUMMARY
    query = {
        p["name"]: p["schema"]["pattern"]
        for p in SPEC["paths"]["/accounts/{accountId}/transactions"]["get"]["parameters"]
    }
    # Documented as ^(<rule>)?$: API Gateway cannot tell an empty parameter from an absent one.
    assert set(query) == {"limit", "nextToken", "from", "to", "order", "currency", "type"}
    for name, documented in query.items():
        inner = documented.removeprefix("^(").removesuffix(")?$")
        assert f"'^{inner}$'" in LIST, name


def test_a_holds_id_in_the_path_is_checked_against_the_documented_pattern() -> None:
    hold_id = SPEC["components"]["parameters"]["holdId"]["schema"]["pattern"]
    for method in ("get_hold", "capture_hold", "void_hold"):
        template = api_template(f"{method}.request.vtl", guarded=True, holds=True)
        assert f"$holdId.matches('{hold_id}')" in template, method


def test_the_statements_parameters_are_the_ones_its_template_reads_and_checks() -> None:
    statement = (ROOT / "modules/api/templates/get_statement.request.vtl").read_text()
    parameters = {p["name"]: p for p in SPEC["paths"]["/accounts/{accountId}/statement"]["get"]["parameters"]}
    assert set(parameters) == {"currency", "month", "from", "to"}
    for name in parameters:
        assert f"query.get('{name}')" in statement, name
    for name in ("month", "from", "to"):
        assert f"'{parameters[name]['schema']['pattern']}'" in statement, name
    assert parameters["currency"]["required"] and f"'{parameters['currency']['schema']['pattern']}'" in statement


def test_every_method_documents_its_failures() -> None:
    for path in SPEC["paths"].values():
        for name, operation in path.items():
            if name == "parameters":
                continue
            statuses = set(operation["responses"])
            assert {"400", "403", "429", "500"} <= statuses, operation["operationId"]


def test_the_document_describes_every_deployed_method_and_no_other() -> None:
    module = (ROOT / "modules/api/main.tf").read_text()
    deployed = set(re.findall(r'route\s+= "([^"]+)"\n\s+resource\s+= [^\n]+\n\s+http_method = "([A-Z]+)"', module))
    documented = {(path, verb.upper()) for path, item in SPEC["paths"].items() for verb in item if verb != "parameters"}
    assert len(deployed) == 11 and deployed == documented


def test_the_limit_is_an_amount_of_the_currencys_minor_unit_that_may_be_zero() -> None:
    props = SCHEMAS["Limits"]["properties"]
    assert pattern(props["overdraftLimit"]) == pattern(SCHEMAS["NewTransaction"]["properties"]["amount"])
    assert "'^\"(0|[1-9][0-9]{0,14})(\\.[0-9]{1,PLACES})?\"$'" in LIMITS and "$.overdraftLimit" in LIMITS
    assert "'^\"(0|[1-9][0-9]{0,14})\"$'" in LIMITS, "a currency without minor unit takes a whole limit, 0 included"
    assert f"'^\"{pattern(props['currency'])[1:-1]}\"$'" in LIMITS
