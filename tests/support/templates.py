"""The API's mapping templates as Terraform renders them (templatefile in modules/api/main.tf)."""

from __future__ import annotations

from pathlib import Path

from ledger_aggregator.currencies import minor_units
from ledger_aggregator.formats import ID_PATTERNS
from ledger_aggregator.items import HOLD_NAMES
from ledger_ops.guard import NAMES
from tests.support.aws import DETAILS_INDEX, HOLDS
from tools.contract import bodies, properties_of

API = Path(__file__).resolve().parents[2] / "modules" / "api"
TEMPLATES = API / "templates"
# The methods that take a body (contract.json, as modules/api/main.tf's models read it).
WITH_BODY = {body["template"] for body in bodies().values()}
# What each method is, as an operation that api.cognito_grants binds to a claim (modules/api/main.tf).
OPERATIONS = {
    "create_transaction": "post",
    "create_transfer": "transfer",
    "get_summary": "read",
    "get_statement": "read",
    "list_transactions": "read",
    "set_limits": "limits",
    "get_balances": "read",
    "create_hold": "hold",
    "capture_hold": "capture",
    "void_hold": "void",
    "get_hold": "read_hold",
}
NO_GRANT = ""
# The table's stage variable and index line of each read method's refusal (modules/api/main.tf's query_refusals).
QUERY_REFUSALS = {
    "list_transactions": {"table": "detailsTable", "index": f'\n  "IndexName": "{DETAILS_INDEX}",'},
    "get_summary": {"table": "summaryTable", "index": ""},
    "get_statement": {"table": "historyTable", "index": ""},
    "get_balances": {"table": "balancesTable", "index": ""},
}
# The holds' settings the templates are rendered with, as modules/api renders its holds object's defaults.
HOLD_CAP = 2
HOLD_MAX_SECONDS = 2_592_000


def minor_units_entries() -> str:
    """``CODE:places`` entries, sorted by code and joined by commas, as the module's locals make them."""
    return ",".join(f"{code}:{places}" for code, places in sorted(minor_units().items()))


def _partial(name: str, **variables: str) -> str:
    text = (TEMPLATES / name).read_text()
    for key, value in variables.items():
        text = text.replace("${" + key + "}", value)
    return text


def _prologue(method: str, claim: str | None, served: bool) -> str:
    """The opening of a method's request template (_prologue.vtl): its account's checks, as ``claim`` says
    (see api_template), and when it is served and has a body, the body's."""
    known = body_check = ""
    if served and method in WITH_BODY:
        fields = ",".join(sorted(properties_of(method)))
        known = _partial("_known_fields.vtl", known_fields=fields)
        body_check = _partial("_body_check.vtl")
    account = ""
    if claim == NO_GRANT:
        account = _partial("_no_grant.vtl")
    elif claim is not None:
        account = _partial("_account_check.vtl", claim=claim, operation=OPERATIONS.get(method, "read"))
    ids = {"account_id": ID_PATTERNS["accountId"], "write_id": ID_PATTERNS["writeId"]}
    return _partial("_prologue.vtl", body_check=body_check, account_check=account, known_fields_check=known, **ids)


def api_template(name: str, claim: str | None = None, guarded: bool = False, holds: bool = False) -> str:
    """A template's text as deployed: the shared partials placed in, the currencies rendered, and
    with COGNITO (``claim``, the claim that api.cognito_grants binds to the method's operation; ``NO_GRANT``
    for none) the account check of that claim; with AWS_IAM (``None``), no account check. ``guarded``: as
    deployed with the balance guard on (the money templates write the balance items); ``holds``: with holds
    on too (docs/holds.md)."""
    units = minor_units_entries()
    method = name.split(".", maxsplit=1)[0]
    prologue = _prologue(method, claim, served=True)
    currency_check = _partial("_currency_check.vtl", minor_units=units)
    ids = {"account_id": ID_PATTERNS["accountId"], "write_id": ID_PATTERNS["writeId"]}
    # The balance item's names by placeholder, as modules/api/guard.tf's local.balance gives them.
    balance = {f"balance.{placeholder.removeprefix('#')}": name for placeholder, name in NAMES.items()}
    generated = {path.stem: path.read_text() for path in (TEMPLATES / "generated").glob("*.vtl")}
    return _partial(
        name,
        **generated,
        prologue=prologue,
        query_refusal=_partial("_query_refusal.vtl", **QUERY_REFUSALS[method]) if method in QUERY_REFUSALS else "",
        **ids,
        money_checks=_partial(
            "_money_checks.vtl",
            currency_check=currency_check,
            amount_check=_partial("_amount_check.vtl", field="amount"),
        ),
        limit_checks=currency_check + "\n" + _partial("_amount_check.vtl", field="overdraftLimit"),
        request_fingerprint=_partial("_request_fingerprint.vtl"),
        format_amount=_partial("_format_amount.vtl"),
        balance_update=_partial("_balance_update.vtl", **balance),
        refusal=_partial("_refusal.vtl"),
        guard=_partial("_guard.vtl", holds="true" if holds else "false"),
        void_checks=currency_check + "\n" + _partial("_amount_check.vtl", field="remaining"),
        hold_cap=str(HOLD_CAP),
        hold_max_seconds=str(HOLD_MAX_SECONDS),
        **{f"hold.{placeholder}": name for placeholder, name in HOLD_NAMES.items()},
        guarded="true" if guarded else "false",
        minor_units_table=f'#set($minorUnits = ",{units},")',
        details_index=DETAILS_INDEX,
        listing_query=_partial("_listing_query.vtl"),
        **balance,
    )


def unserved_template(name: str, reason: str, method: str = "create_hold", claim: str | None = None) -> str:
    """A template of ``method`` while its option is off (not_served.*.vtl), as modules/api renders it: with
    its account's checks (``claim`` as for api_template)."""
    return _partial(name, holds_table=HOLDS, unserved=reason, prologue=_prologue(method, claim, served=False))
