"""Fixtures of the operator's tests: the tables under moto, and the stack's outputs file the CLI reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.aws import APPLIED, DETAILS, SUMMARY


@pytest.fixture
def dynamodb(ledger_tables: Any) -> Any:
    return ledger_tables


@pytest.fixture
def outputs(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Writes the stack's outputs file the CLI reads (the test tables, plus ``extra`` outputs); returns its path."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")

    def write(**extra: Any) -> str:
        tables = {
            f"{k}_table": {"name": n} for k, n in (("details", DETAILS), ("summary", SUMMARY), ("applied", APPLIED))
        }
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps({"region": "eu-west-1", "terraform": {**tables, **extra}}))
        return str(path)

    return write
