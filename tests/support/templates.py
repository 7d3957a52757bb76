"""The API's mapping templates as Terraform renders them (templatefile in modules/api/main.tf)."""

from __future__ import annotations

from pathlib import Path

from ledger_aggregator.currencies import minor_units

TEMPLATES = Path(__file__).resolve().parents[2] / "modules" / "api" / "templates"


def minor_units_entries() -> str:
    """``CODE:places`` entries, sorted by code and joined by commas, as the module's locals make them."""
    return ",".join(f"{code}:{places}" for code, places in sorted(minor_units().items()))


def api_template(name: str) -> str:
    """A template's text as deployed: the shared money checks placed in, the currencies rendered."""
    checks = (TEMPLATES / "_money_checks.vtl").read_text().replace("${minor_units}", minor_units_entries())
    return (TEMPLATES / name).read_text().replace("${money_checks}", checks)
