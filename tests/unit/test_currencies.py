"""The currency list is generated from ISO 4217, never edited by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ledger_aggregator.currencies import DATA_FILE

ROOT = Path(__file__).resolve().parents[2]


def test_the_data_file_is_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("currencies_tool", ROOT / "tools" / "currencies.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert DATA_FILE.read_text() == tool.render(), "run `make currencies` after upgrading iso4217"
