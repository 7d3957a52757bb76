"""Template tests run against moto: dummy credentials, never a real account."""

import os

os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.aws import emptied, template_tables
from tests.support.velocity import velocity_or_skip, warn_in_summary


@pytest.fixture(autouse=True)
def _velocity() -> None:
    velocity_or_skip()


@pytest.fixture(scope="session")
def tables() -> Iterator[Any]:
    """moto's DynamoDB with every table the templates write (details, summary, applied, balances), made once:
    creating them for each of the tier's thousand tests took most of its time."""
    with template_tables() as client:
        yield client


@pytest.fixture
def dynamodb(tables: Any) -> Any:
    """The tables, every item removed before the test."""
    return emptied(tables)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    warn_in_summary(terminalreporter)
