"""The attribute names of the write model's items, by the placeholder their expressions use.

``balance_item.json`` (the balance guard's item, one per account and currency) and ``hold_item.json`` (a
hold's item in the holds table) are read by Terraform too, which renders the names into the API's mapping
templates and limits the API role to them: one file per item, so that no name is copied by hand.
"""

from __future__ import annotations

import json
from pathlib import Path


def _names(file: str) -> dict[str, str]:
    attributes = json.loads(Path(__file__).with_name(file).read_text())["attributes"]
    return {attribute["placeholder"]: attribute["name"] for attribute in attributes}


BALANCE_NAMES = _names("balance_item.json")
HOLD_NAMES = _names("hold_item.json")
