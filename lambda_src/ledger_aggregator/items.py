"""The attribute names of the write model's items, by the placeholder their expressions use.

``balance_item.json`` (the balance guard's item, one per account and currency) and ``hold_item.json`` (a
hold's item in the holds table) are read by Terraform too, which renders the names into the API's mapping
templates and limits the API role to them: one file per item, so that no name is copied by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _read(file: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(Path(__file__).with_name(file).read_text())
    return found


def _names(file: str) -> dict[str, str]:
    return {attribute["placeholder"]: attribute["name"] for attribute in _read(file)["attributes"]}


BALANCE_NAMES = _names("balance_item.json")
HOLD_NAMES = _names("hold_item.json")
HOLD_INDEX = str(_read("hold_item.json")["index"]["name"])  # the holds table's sparse index of open holds
