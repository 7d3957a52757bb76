"""Local-account tests run under moto: dummy credentials, never a real account."""

import os

os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from typing import Any

import pytest

from tests.support.velocity import velocity_or_skip, warn_in_summary


@pytest.fixture
def velocity() -> None:
    """For tests that send requests through the local gateway, which renders with Velocity 1.7."""
    velocity_or_skip()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    warn_in_summary(terminalreporter)
