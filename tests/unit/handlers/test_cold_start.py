"""Each handler module builds its function's dependencies at import, the cold start: a missing or wrong
setting fails the import with one line naming it, not the first record."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType, SimpleNamespace

import pytest

from ledger_aggregator.composition import Clients
from ledger_aggregator.config import ConfigurationError

# Each handler module and the variables its function cannot start without (tests/unit/conftest.py sets
# them all, as Terraform sets them for the function; the stream function's under PATTERN=1).
REQUIRED = {
    "ledger_aggregator.handlers.stream": ["PATTERN", "SUMMARY_TABLE", "APPLIED_TABLE", "DLQ_URL"],
    "ledger_aggregator.handlers.writer": ["SUMMARY_TABLE", "APPLIED_TABLE", "BUFFER_QUEUE_URL", "DLQ_URL"],
    "ledger_aggregator.handlers.events": ["DEPLOYMENT_NAME", "HISTORY_TABLE_ARN"],
    "ledger_aggregator.handlers.closer": [
        "DETAILS_TABLE",
        "DETAILS_INDEX",
        "SUMMARY_TABLE",
        "HISTORY_TABLE",
        "SEAL_SECONDS",
    ],
}


def cold_start(module: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``module`` afresh, as Lambda does at a cold start (the one imported before is put back after)."""
    package, _, name = module.rpartition(".")
    parent = importlib.import_module(package)
    monkeypatch.setattr(parent, name, getattr(parent, name, None), raising=False)
    monkeypatch.delitem(sys.modules, module, raising=False)
    return importlib.import_module(module)


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, names in REQUIRED.items() for n in names])
def test_a_handler_module_without_a_setting_fails_at_import_naming_it(
    module: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(name)
    with pytest.raises(ConfigurationError, match=f"^{name} is not set for [^\n]+$"):
        cold_start(module, monkeypatch)


def test_a_wrong_setting_fails_the_stream_functions_import() -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PATTERN", "queue")
        with pytest.raises(ConfigurationError, match=r"^PATTERN must be 1 or 2, got 'queue'"):
            cold_start("ledger_aggregator.handlers.stream", monkeypatch)


@pytest.mark.parametrize("module", sorted(REQUIRED))
def test_a_handler_module_with_its_settings_imports_with_its_handler_built(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert callable(cold_start(module, monkeypatch).handler)


@pytest.mark.parametrize("module", list(REQUIRED))
def test_a_cold_start_checks_the_settings_and_makes_no_client_until_a_record_calls_one(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: each handler module made its three boto3 clients at import, and the cold import went from
    1.29x boto3's to 2.2x (make bench), the stream function making a Lambda client it never calls."""
    made: list[str] = []

    def client(service: str, **_: object) -> SimpleNamespace:
        made.append(service)
        return SimpleNamespace(meta=service)

    monkeypatch.setattr("boto3.client", client)
    cold_start(module, monkeypatch)
    assert made == []
    clients = Clients.from_environment()
    assert clients.sqs.meta is not None and made == ["sqs"], "the first call makes the client, once"
    assert clients.sqs.meta is not None and made == ["sqs"]
