"""Property-based fuzzing of the deployed API from its OpenAPI document (schemathesis).

30 valid and 30 invalid requests per operation of `docs/openapi.yaml`: no 5xx, no 2xx for a request
the document forbids, and valid requests answered with documented statuses and schemas.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests
import schemathesis
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness.stack import ROOT
from tests.integration.conftest import Deployment

# Every request is signed by the auth hook below; a request without a signature is refused in
# test_ledger.py. Without this, the fuzzer's "missing Authorization header" cases would be signed
# anyway and look like accepted invalid requests.
_DOCUMENT = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
_DOCUMENT.pop("security")
SCHEMA = schemathesis.openapi.from_dict(_DOCUMENT)
EVERY_OPERATION = [
    (path, method.upper())
    for path, methods in SCHEMA.raw_schema["paths"].items()
    for method in methods
    if method != "parameters"
]
# Routes served only with holds on (and the balances with the guard): fuzzed where they are served, with
# holds on (test_holds.py); the others here, on the stack as the session applies it.
WITH_HOLDS = [(path, method) for path, method in EVERY_OPERATION if "/holds" in path or path.endswith("/balances")]
OPERATIONS = [operation for operation in EVERY_OPERATION if operation not in WITH_HOLDS]
MODES = pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
EXAMPLES = 30


class SigV4(requests.auth.AuthBase):
    """Signs every request the fuzzer sends, as AWS_IAM requires."""

    def __init__(self, region: str) -> None:
        self._region = region
        credentials = boto3.Session().get_credentials()
        assert credentials is not None, "no AWS credentials to sign with"
        self._credentials = credentials

    def __call__(self, request: Any) -> Any:
        request.headers.pop("Authorization", None)
        signed = AWSRequest(
            method=request.method, url=request.url, data=request.body or b"", headers=dict(request.headers)
        )
        SigV4Auth(self._credentials, "execute-api", self._region).add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@MODES
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_no_5xx_and_no_2xx_for_what_the_schema_forbids(
    deployed: Deployment, path: str, method: str, mode: GenerationMode
) -> None:
    fuzz(deployed, path, method, mode)


def fuzz(deployed: Deployment, path: str, method: str, mode: GenerationMode) -> None:
    """EXAMPLES requests to one operation, valid or invalid (``mode``), each signed, each answer checked."""
    operation = SCHEMA[path][method]
    auth = SigV4(deployed.env.region)
    checks = (
        [not_a_server_error, negative_data_rejection]
        if mode is GenerationMode.NEGATIVE
        else [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    )

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case: Any) -> None:
        response = case.call(base_url=deployed.api.base_url, auth=auth)
        case.validate_response(response, checks=checks)

    one()
