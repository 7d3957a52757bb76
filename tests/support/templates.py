"""The API's mapping templates as Terraform renders them (templatefile in modules/api/main.tf)."""

from __future__ import annotations

from pathlib import Path

from ledger_aggregator.currencies import minor_units

TEMPLATES = Path(__file__).resolve().parents[2] / "modules" / "api" / "templates"


def minor_units_entries() -> str:
    """``CODE:places`` entries, sorted by code and joined by commas, as the module's locals make them."""
    return ",".join(f"{code}:{places}" for code, places in sorted(minor_units().items()))


def api_template(name: str, account_claim: str | None = None) -> str:
    """A template's text as deployed: the shared money checks placed in, the currencies rendered, and
    with COGNITO (``account_claim``) the account check of that claim; with AWS_IAM, no account check."""
    checks = (TEMPLATES / "_money_checks.vtl").read_text().replace("${minor_units}", minor_units_entries())
    account = ""
    if account_claim is not None:
        account = (TEMPLATES / "_account_check.vtl").read_text().replace("${claim}", account_claim)
    return (TEMPLATES / name).read_text().replace("${money_checks}", checks).replace("${account_check}", account)
