"""The feature patches (local_account/patches/features.py): what moto lacks, added."""

from __future__ import annotations

import json
from typing import Any

from local_account.patches import features
from tests.local_account.conftest import create_function


def test_lambda_invoke_runs_in_the_local_runtime(clients: dict[str, Any]) -> None:
    """moto runs Invoke in Docker, which this machine lacks; the local account routes it to its own runtime."""
    create_function(clients, "e-invoked")
    calls: list[tuple[str, Any]] = []

    def runtime(name: str, event: Any) -> tuple[Any, str | None, str | None]:
        calls.append((name, event))
        return {"handled": event["n"]}, None, None

    routed = list(features.ROUTES)
    try:
        features.route_invocations(runtime)
        answer = clients["lambda"].invoke(FunctionName="e-invoked", Payload=b'{"n": 7}')
        assert (json.loads(answer["Payload"].read()), calls) == ({"handled": 7}, [("e-invoked", {"n": 7})])
        features.route_invocations(lambda name, event: (None, "the runtime stopped", "Stopped"))
        failed = clients["lambda"].invoke(FunctionName="e-invoked", Payload=b"{}")
        assert failed["FunctionError"] == "Unhandled"
    finally:
        features.ROUTES[:] = routed
