"""The functions' environment: every variable the modules set is one the aggregator reads, and back.

A renamed variable on one side only would leave the function without a setting (a DLQ it cannot
park in, a marker lifetime at its default) while both sides still pass their own tests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ledger_aggregator.config import Settings

ROOT = Path(__file__).resolve().parents[2]
# The modules that set a function's environment: the stream and the writer, and what the function
# module adds to both. Powertools reads its own POWERTOOLS_* variables.
SETTERS = ["modules/stream/main.tf", "modules/buffer/main.tf", "modules/function/main.tf"]
ASSIGNMENT = re.compile(r"^\s+([A-Z][A-Z0-9_]+)\s+=", re.M)


class Recording(dict[str, str]):
    """An environment that remembers every name it was asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def set_by_terraform() -> set[str]:
    names = {name for path in SETTERS for name in ASSIGNMENT.findall((ROOT / path).read_text())}
    return {name for name in names if not name.startswith("POWERTOOLS_")}


def read_by_the_aggregator() -> set[str]:
    env = Recording({"PATTERN": "2", "MARKER_TTL_SECONDS": "1296000", "BACKOFF_MAX_SECONDS": "45"})
    Settings.from_env(env)
    return env.asked


def test_every_variable_the_modules_set_is_read_and_every_one_read_is_set() -> None:
    assert set_by_terraform() == read_by_the_aggregator()
