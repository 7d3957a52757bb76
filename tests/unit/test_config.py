"""The functions' settings (ledger_aggregator.config): each wrong value named, the defaults one owner holds."""

from __future__ import annotations

import pytest

from ledger_aggregator.config import ConfigurationError, Settings
from ledger_aggregator.redelivery import (
    DEFAULT_CEILING_SECONDS,
)


@pytest.mark.parametrize("value", ["0", "1.5", "-3", "43201", "soon"])
def test_a_wrong_backoff_ceiling_is_named(value: str) -> None:
    with pytest.raises(ConfigurationError, match="BACKOFF_MAX_SECONDS"):
        Settings.from_env({"PATTERN": "2", "BACKOFF_MAX_SECONDS": value})


def test_the_backoff_ceiling_defaults_to_the_redelivery_ceiling() -> None:
    assert Settings.from_env({"PATTERN": "2"}).backoff_max_seconds == DEFAULT_CEILING_SECONDS
    assert Settings.from_env({"PATTERN": "2", "BACKOFF_MAX_SECONDS": "20"}).backoff_max_seconds == 20


@pytest.mark.parametrize("value", ["queue", "direct", "3", "0", ""])
def test_a_wrong_pattern_is_named(value: str) -> None:
    with pytest.raises(ConfigurationError, match="PATTERN must be 1 or 2"):
        Settings.from_env({"PATTERN": value})


def test_the_pattern_is_the_roots_number_and_has_no_default_of_its_own() -> None:
    assert Settings.from_env({"PATTERN": "1"}).pattern == 1
    assert Settings.from_env({"PATTERN": "2"}).pattern == 2
    assert Settings.from_env({}).pattern is None, "the writer has no pattern"
