"""The Lambda runtime: the deployed zip, its environment, warm workers, and the timeout."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_account.lambdas import LambdaRuntime

HANDLER = """
import os, time
CALLS = []
def handler(event, context):
    CALLS.append(event)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    remaining = context.get_remaining_time_in_millis() > 0
    return {"setting": os.environ.get("SETTING"), "calls": len(CALLS), "remaining": remaining}
"""


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", source)
    return buffer.getvalue()


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[Any, LambdaRuntime]]:
    with mock_aws():
        iam = boto3.client("iam")
        role = iam.create_role(
            RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )
        client = boto3.client("lambda")
        client.create_function(
            FunctionName="probe",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="probe.handler",
            Code={"ZipFile": package(HANDLER)},
            Timeout=2,
            Environment={"Variables": {"SETTING": "one"}},
        )
        runtime = LambdaRuntime("http://127.0.0.1:1", "eu-west-1", tmp_path / "logs")
        yield client, runtime
        runtime.stop()


def test_the_deployed_code_runs_warm_with_its_environment(deployed: tuple[Any, LambdaRuntime]) -> None:
    _, runtime = deployed
    first, second = runtime.invoke("probe", {}), runtime.invoke("probe", {})
    assert first.result == {"setting": "one", "calls": 1, "remaining": True}
    assert second.result["calls"] == 2, "the second invocation reuses the warm worker"


def test_a_run_past_its_timeout_is_killed_and_is_an_error(deployed: tuple[Any, LambdaRuntime]) -> None:
    _, runtime = deployed
    slow = runtime.invoke("probe", {"sleep": 5})
    assert (slow.ok, slow.error_type) == (False, "Timeout")
    assert 1900 <= slow.duration_ms < 4500
    after = runtime.invoke("probe", {})
    assert after.ok and after.result["calls"] == 1, "a fresh worker replaced the killed one"


def test_a_handler_error_is_reported_and_logged(deployed: tuple[Any, LambdaRuntime], tmp_path: Path) -> None:
    _, runtime = deployed
    failed = runtime.invoke("probe", {"fail": True})
    assert (failed.ok, failed.error, failed.error_type) == (False, "asked to fail", "ValueError")
    assert "ValueError: asked to fail" in (tmp_path / "logs" / "probe.log").read_text()


def test_a_new_deployment_is_picked_up(deployed: tuple[Any, LambdaRuntime]) -> None:
    client, runtime = deployed
    assert runtime.invoke("probe", {}).result["setting"] == "one"
    client.update_function_configuration(FunctionName="probe", Environment={"Variables": {"SETTING": "two"}})
    assert runtime.invoke("probe", {}).result == {"setting": "two", "calls": 1, "remaining": True}
