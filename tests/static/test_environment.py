"""The functions' environment: every variable the modules set is one the aggregator reads, and back, and
each function's settings read only what Terraform sets for that function.

A renamed variable on one side only would leave the function without a setting (a DLQ it cannot
park in, a marker lifetime at its default) while both sides still pass their own tests; a variable read
by a function that Terraform sets only for another would fail that function's cold start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ledger_aggregator.config import EventsSettings, StreamSettings, WriterSettings

ROOT = Path(__file__).resolve().parents[2]
# The function module adds its variables to every function's. Powertools reads its own POWERTOOLS_* variables.
FUNCTION_MODULE = "modules/function/main.tf"
ASSIGNMENT = re.compile(r"^\s+([A-Z][A-Z0-9_]+)\s+=", re.M)
IN_BLOCK = re.compile(r"\b([A-Z][A-Z0-9_]+)\s+=")
FOR_PATTERN = re.compile(r"var\.pattern == (\d) \? \{(.*?)\}", re.S)  # variables only one pattern sets
# Each function: its settings, the module that sets its environment, and the root's pattern it runs under.
FUNCTIONS: dict[str, tuple[Any, str, int | None]] = {
    "the stream function, pattern 1": (StreamSettings, "modules/stream/main.tf", 1),
    "the stream function, pattern 2": (StreamSettings, "modules/stream/main.tf", 2),
    "the writer": (WriterSettings, "modules/buffer/main.tf", None),
    "the events enrichment": (EventsSettings, "modules/events/main.tf", None),
}
# The function module sets the markers' lifetime on every function; only those that write summaries read it.
SET_FOR_ALL_READ_BY_SOME = {"MARKER_TTL_SECONDS"}
VALUES = {"MARKER_TTL_SECONDS": "1296000", "BACKOFF_MAX_SECONDS": "45"}


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


def set_for(module: str, pattern: int | None) -> set[str]:
    """The variables Terraform sets for the function of ``module`` under ``pattern``."""
    text = (ROOT / module).read_text()
    blocks = {int(number): set(IN_BLOCK.findall(block)) for number, block in FOR_PATTERN.findall(text)}
    own = (
        set(ASSIGNMENT.findall(text))
        .union(*blocks.values())
        .difference(*(names for number, names in blocks.items() if number != pattern))
    )
    names = own | set(ASSIGNMENT.findall((ROOT / FUNCTION_MODULE).read_text()))
    return {name for name in names if not name.startswith("POWERTOOLS_")}


def read_by(settings: Any, given: set[str], pattern: int | None) -> set[str]:
    """The variables ``settings`` read from an environment holding ``given``."""
    env = Recording({name: str(pattern) if name == "PATTERN" else VALUES.get(name, "x") for name in given})
    settings.from_env(env)
    return env.asked


def set_by_terraform() -> set[str]:
    return {name for _, module, pattern in FUNCTIONS.values() for name in set_for(module, pattern)}


def read_by_the_aggregator() -> set[str]:
    return {
        name
        for settings, module, pattern in FUNCTIONS.values()
        for name in read_by(settings, set_for(module, pattern), pattern)
    }


def test_every_variable_the_modules_set_is_read_and_every_one_read_is_set() -> None:
    assert set_by_terraform() == read_by_the_aggregator()


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_reads_only_what_terraform_sets_for_it(function: str) -> None:
    settings, module, pattern = FUNCTIONS[function]
    given = set_for(module, pattern)
    read = read_by(settings, given, pattern)
    assert read <= given, f"{function} reads {sorted(read - given)}, which Terraform does not set for it"
    assert given - read <= SET_FOR_ALL_READ_BY_SOME, f"{function} is given {sorted(given - read)} and reads none"
