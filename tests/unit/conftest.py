"""Environment for unit tests: moto credentials and Powertools settings, never a real account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "ledger-test",
        "POWERTOOLS_METRICS_NAMESPACE": "LedgerTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # The functions' settings, as Terraform sets them: a handler module builds its dependencies at import.
        "PATTERN": "1",
        "SUMMARY_TABLE": "ledger-test-summary",
        "APPLIED_TABLE": "ledger-test-applied",
        "BUFFER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/ledger-test-buffer",
        "DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/ledger-test-dlq",
        "DEPLOYMENT_NAME": "ledger-test",
        "HISTORY_TABLE_ARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/ledger-test-history",
        "DETAILS_TABLE": "ledger-test-details",
        "DETAILS_INDEX": "byRecordedAt",
        "HISTORY_TABLE": "ledger-test-history",
        "SEAL_SECONDS": "89",
        "HOLDS_TABLE": "ledger-test-holds",
        "HOLDS_INDEX": "openByExpiry",
        "BALANCES_TABLE": "ledger-test-balances",
        "GUARD_EPOCH": "0a1b2c3d4e5f",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from tests.support.aws import (
    create_balances_table,
    create_details_table,
    create_history_table,
    create_holds_table,
    create_tables,
)


@pytest.fixture
def ledger_tables() -> Iterator[Any]:
    """A DynamoDB client under moto with the details, summary and applied-marker tables."""
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client)
        create_details_table(client)
        create_history_table(client)
        yield client


@pytest.fixture
def hold_tables() -> Iterator[Any]:
    """A DynamoDB client under moto with the tables a hold's release writes: details, balances and holds."""
    with mock_aws():
        client = boto3.client("dynamodb")
        create_details_table(client)
        create_balances_table(client)
        create_holds_table(client)
        yield client
