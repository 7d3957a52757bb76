"""Template tests run against moto: dummy credentials, never a real account."""

import os

os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.aws import template_tables
from tests.support.velocity import velocity_or_skip, warn_in_summary


@pytest.fixture(autouse=True)
def _velocity() -> None:
    velocity_or_skip()


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """moto's DynamoDB with every table the templates write: details, summary, applied, balances."""
    with template_tables() as client:
        yield client


def pytest_terminal_summary(terminalreporter: Any) -> None:
    warn_in_summary(terminalreporter)
