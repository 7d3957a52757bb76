"""Each function's settings (ledger_aggregator.config): each missing or wrong value named in one line, the
defaults one owner holds."""

from __future__ import annotations

from typing import Any

import pytest

from ledger_aggregator.config import (
    DEFAULT_MARKER_TTL_SECONDS,
    BufferQueue,
    ConfigurationError,
    EventsSettings,
    StreamSettings,
    SummaryTables,
    WriterSettings,
)
from ledger_aggregator.redelivery import (
    DEFAULT_CEILING_SECONDS,
)

TABLES = {"SUMMARY_TABLE": "summary", "APPLIED_TABLE": "applied"}
QUEUES = {"BUFFER_QUEUE_URL": "https://sqs/buffer", "DLQ_URL": "https://sqs/dlq"}
# Each function's settings, the environment its module gives it (what it cannot start without), and how
# a refusal names the function.
FUNCTIONS: dict[str, tuple[Any, dict[str, str], str]] = {
    "stream-1": (StreamSettings, {"PATTERN": "1", **TABLES, "DLQ_URL": "https://sqs/dlq"}, "PATTERN=1"),
    "stream-2": (StreamSettings, {"PATTERN": "2", **QUEUES}, "PATTERN=2"),
    "writer": (WriterSettings, {**TABLES, **QUEUES}, "the writer"),
    "events": (
        EventsSettings,
        {"DEPLOYMENT_NAME": "prod-ledger", "HISTORY_TABLE_ARN": "arn:aws:dynamodb:eu-west-1:1:table/h"},
        "the events enrichment",
    ),
}
REQUIRED = [(function, name) for function, (_, env, _) in FUNCTIONS.items() for name in env]
WRONG = [
    ("stream-1", "MARKER_TTL_SECONDS", "3600"),  # shorter than a day
    ("stream-1", "MARKER_TTL_SECONDS", "two weeks"),
    ("writer", "MARKER_TTL_SECONDS", "-1"),
    ("writer", "BACKOFF_MAX_SECONDS", "0"),
    ("stream-2", "PATTERN", "3"),
]


def writer_env(**more: str) -> dict[str, str]:
    return {**FUNCTIONS["writer"][1], **more}


@pytest.mark.parametrize("value", ["0", "1.5", "-3", "43201", "soon"])
def test_a_wrong_backoff_ceiling_is_named(value: str) -> None:
    with pytest.raises(ConfigurationError, match="BACKOFF_MAX_SECONDS"):
        WriterSettings.from_env(writer_env(BACKOFF_MAX_SECONDS=value))


def test_the_backoff_ceiling_defaults_to_the_redelivery_ceiling() -> None:
    assert WriterSettings.from_env(writer_env()).backoff_max_seconds == DEFAULT_CEILING_SECONDS
    assert WriterSettings.from_env(writer_env(BACKOFF_MAX_SECONDS="20")).backoff_max_seconds == 20


@pytest.mark.parametrize("value", ["queue", "direct", "3", "0", ""])
def test_a_wrong_pattern_is_named(value: str) -> None:
    with pytest.raises(ConfigurationError, match="PATTERN must be 1 or 2"):
        StreamSettings.from_env({**FUNCTIONS["stream-1"][1], "PATTERN": value})


def test_the_pattern_is_the_roots_number_and_has_no_default_of_its_own() -> None:
    assert StreamSettings.from_env(FUNCTIONS["stream-1"][1]).pattern == 1
    assert StreamSettings.from_env(FUNCTIONS["stream-2"][1]).pattern == 2
    assert not hasattr(WriterSettings.from_env(writer_env()), "pattern"), "the writer has no pattern"
    with pytest.raises(ConfigurationError, match="PATTERN is not set for the stream function"):
        StreamSettings.from_env({**TABLES, **QUEUES})


def test_each_function_reads_its_settings_into_their_types() -> None:
    assert StreamSettings.from_env(FUNCTIONS["stream-1"][1]) == StreamSettings(
        SummaryTables("summary", "applied", DEFAULT_MARKER_TTL_SECONDS), "https://sqs/dlq"
    )
    assert StreamSettings.from_env(FUNCTIONS["stream-2"][1]) == StreamSettings(
        BufferQueue("https://sqs/buffer"), "https://sqs/dlq"
    )
    assert WriterSettings.from_env(writer_env(MARKER_TTL_SECONDS="86400")) == WriterSettings(
        SummaryTables("summary", "applied", 86_400), "https://sqs/buffer", "https://sqs/dlq", DEFAULT_CEILING_SECONDS
    )
    assert EventsSettings.from_env(FUNCTIONS["events"][1]) == EventsSettings(
        "prod-ledger", "arn:aws:dynamodb:eu-west-1:1:table/h"
    )


@pytest.mark.parametrize(("function", "name"), REQUIRED)
@pytest.mark.parametrize("absent", ["missing", "empty"])
def test_each_function_refuses_each_missing_setting_in_one_line_naming_it(
    function: str, name: str, absent: str
) -> None:
    settings, env, deployed = FUNCTIONS[function]
    given = {k: v for k, v in env.items() if k != name} | ({name: ""} if absent == "empty" else {})
    with pytest.raises(ConfigurationError) as refused:
        settings.from_env(given)
    message = str(refused.value)
    assert name in message and "\n" not in message, message
    # The pattern says which function it is; an empty one is a wrong value (test_a_wrong_pattern_is_named).
    expected = (
        "PATTERN is not set for the stream function" if name == "PATTERN" else f"{name} is not set for {deployed}"
    )
    assert message.startswith(expected) or (name, absent) == ("PATTERN", "empty"), message


@pytest.mark.parametrize(("function", "name", "value"), WRONG)
def test_each_function_refuses_a_wrong_setting_in_one_line_naming_it(function: str, name: str, value: str) -> None:
    settings, env, _ = FUNCTIONS[function]
    with pytest.raises(ConfigurationError) as refused:
        settings.from_env({**env, name: value})
    message = str(refused.value)
    assert message.startswith(name) and "\n" not in message, message
