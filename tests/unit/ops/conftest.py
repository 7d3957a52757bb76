"""Fixtures of the operator's tests: the tables under moto, and the stack's outputs file the CLI reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.aws import APPLIED, DETAILS, DETAILS_INDEX, HISTORY, SUMMARY, create_stage


@pytest.fixture
def dynamodb(ledger_tables: Any) -> Any:
    return ledger_tables


@pytest.fixture
def outputs(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Writes the stack's outputs file the CLI reads (the test tables, the API's stage with ``stage`` as its
    variables, plus ``extra`` outputs); returns its path."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")

    def write(stage: dict[str, str] | None = None, **extra: Any) -> str:
        named = (("details", DETAILS), ("summary", SUMMARY), ("applied", APPLIED), ("history", HISTORY))
        tables: dict[str, Any] = {f"{k}_table": {"name": n} for k, n in named}
        tables["details_table"]["index_name"] = DETAILS_INDEX
        tables["history"] = {"seal_seconds": 89}
        api, stage_name = create_stage({"detailsTable": DETAILS, "summaryTable": SUMMARY, **(stage or {})})
        found = {**tables, "rest_api_id": api, "stage_name": stage_name, **extra}
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps({"region": "eu-west-1", "terraform": found}))
        return str(path)

    return write
