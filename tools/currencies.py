"""Write the ledger's currency list (ISO 4217 codes and their minor units) from the iso4217 package.

The list is the one data file every part reads: Terraform renders it into the request templates,
the aggregator validates rows against it, and the tests read it. Run ``make currencies`` after
upgrading iso4217; a test fails while the file differs from what this script writes.

Codes without a minor unit (precious metals, SDRs, bond-market units, XTS, XXX) are left out: they
have no defined smallest amount, so a ledger cannot bound an amount's decimal places for them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import iso4217

TARGET = Path(__file__).resolve().parent.parent / "lambda_src" / "ledger_aggregator" / "currencies.json"


def currencies() -> dict[str, int]:
    """Active ISO 4217 alphabetic codes with a minor unit, sorted: code -> decimal places."""
    return {c.code: c.exponent for c in sorted(iso4217.Currency, key=lambda c: c.code) if c.exponent is not None}


def render() -> str:
    """The file's text."""
    body = {"source": f"ISO 4217 via iso4217 {iso4217.__version__}", "minorUnits": currencies()}
    return json.dumps(body, indent=1) + "\n"


def main() -> int:
    """Write the file and say how many codes it holds."""
    TARGET.write_text(render())
    print(f"{TARGET.name}: {len(currencies())} currencies (ISO 4217 via iso4217 {iso4217.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
