"""The writer's handler (handlers.writer) over fakes of its ports: no AWS emulation."""

from __future__ import annotations

from typing import Any

from ledger_aggregator.handlers import stream, writer
from tests.support.fakes import FakeContext as Context
from tests.support.fakes import Fakes, stream_settings, writer_settings
from tests.support.ledger import Ledger, expected_totals, two_accounts
from tests.unit.handlers.test_stream import failed


def published(fakes: Fakes, ledger: Ledger) -> dict[str, Any]:
    """What pattern 2's stream function sent for the ledger's records, as the writer's SQS event."""
    stream.make_handler(fakes.stream_deps(stream_settings(pattern=2)))({"Records": ledger.records}, Context())
    return fakes.queue.event()


def test_the_writer_applies_what_the_stream_function_published_once_however_often_delivered() -> None:
    fakes, ledger = Fakes(), two_accounts(4, "2.00")
    event = published(fakes, ledger)
    handler = writer.make_handler(fakes.writer_deps())  # Terraform gives it no PATTERN
    assert failed(handler(event, Context())) == set()
    assert failed(handler(event, Context())) == set()  # SQS delivers again
    assert fakes.summaries.totals == expected_totals(ledger)
    assert fakes.redelivery.deferred == []


def test_a_throttled_message_fails_and_is_deferred_within_the_ceiling() -> None:
    fakes, ledger = Fakes(), two_accounts(4, "2.00")
    event = published(fakes, ledger)
    fakes.summaries.throttled = {"acc-1"}
    handler = writer.make_handler(fakes.writer_deps(writer_settings(backoff_max_seconds=30)))
    response = handler(event, Context())
    throttled = [r for r in event["Records"] if '"acc-1"' in r["body"]]
    assert failed(response) == {r["messageId"] for r in throttled}
    assert [(d.receipt_handle, 0 < d.seconds <= 30) for d in fakes.redelivery.deferred] == [
        (throttled[0]["receiptHandle"], True)
    ]


def test_a_message_that_is_not_a_delta_is_parked_whole_and_not_retried() -> None:
    fakes = Fakes()
    event = {"Records": [{"messageId": "m1", "receiptHandle": "r1", "body": "{}", "attributes": {}}]}
    response = writer.make_handler(fakes.writer_deps())(event, Context())
    assert failed(response) == set() and list(fakes.poison.parked) == ["m1"]
    assert fakes.poison.sources == {"m1": "queue"}
