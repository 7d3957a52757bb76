"""The currencies the ledger accepts: ISO 4217 codes and their minor units.

Read from ``currencies.json``, the one data file that Terraform renders into the request
templates and that the tests read (``tools/currencies.py`` writes it from ISO 4217).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("currencies.json")


@cache
def minor_units() -> dict[str, int]:
    """ISO 4217 alphabetic code -> the number of decimal places its amounts may have."""
    data: dict[str, int] = json.loads(DATA_FILE.read_text())["minorUnits"]
    return data
