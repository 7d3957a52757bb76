"""The stream function's handler (handlers.stream) over fakes of its ports: no AWS emulation."""

from __future__ import annotations

from typing import Any

import pytest

from ledger_aggregator.config import ConfigurationError, StreamSettings
from ledger_aggregator.handlers import stream
from tests.support.fakes import DLQ_URL, Fakes, stream_settings
from tests.support.fakes import FakeContext as Context
from tests.support.ledger import Ledger, expected_totals, image


def records(count: int = 6) -> Ledger:
    ledger = Ledger()
    for i in range(count):
        ledger.put(image(f"acc-{i % 2}", f"t{i}", "debit" if i % 3 else "credit", f"{i}.25"))
    return ledger


def failed(response: dict[str, Any]) -> set[str]:
    return {f["itemIdentifier"] for f in response["batchItemFailures"]}


def test_pattern_1_writes_the_batch_and_may_wait_half_the_time_left() -> None:
    fakes, ledger = Fakes(), records()
    response = stream.make_handler(fakes.stream_deps())({"Records": ledger.records}, Context(millis_left=4000))
    assert failed(response) == set()
    assert fakes.summaries.totals == expected_totals(ledger)
    assert fakes.deadlines == [102.0], "the fakes' clock reads 100 s: half of the 4 s left"
    assert fakes.queue.messages == []


def test_pattern_2_publishes_and_writes_no_summary() -> None:
    fakes, ledger = Fakes(), records()
    response = stream.make_handler(fakes.stream_deps(stream_settings(pattern=2)))(
        {"Records": ledger.records}, Context()
    )
    assert failed(response) == set()
    assert len(fakes.queue.messages) == 2 and fakes.summaries.writes == 0 and fakes.deadlines == []


def test_a_throttled_account_fails_its_records_only_and_is_not_raised() -> None:
    fakes, ledger = Fakes(), records()
    fakes.summaries.throttled = {"acc-1"}
    response = stream.make_handler(fakes.stream_deps())({"Records": ledger.records}, Context())
    assert failed(response) == {
        r["dynamodb"]["SequenceNumber"] for r in ledger.records if "acc-1" in str(r["dynamodb"]["Keys"])
    }
    fakes.summaries.throttled = {"acc-0", "acc-1"}
    whole = stream.make_handler(fakes.stream_deps())({"Records": ledger.records}, Context())
    assert len(failed(whole)) == len(ledger.records), "a batch failed whole is reported whole, not raised"


def test_poison_is_parked_and_the_rest_written() -> None:
    fakes, ledger = Fakes(), records()
    bad = ledger.put(image("acc-0", "bad", "credit", "NaN"))
    response = stream.make_handler(fakes.stream_deps())({"Records": ledger.records}, Context())
    assert failed(response) == set()
    assert list(fakes.poison.parked) == [bad["eventID"]]
    del ledger.rows[("acc-0", "bad")]
    assert fakes.summaries.totals == expected_totals(ledger)


def test_a_setting_the_pattern_needs_is_named_when_missing() -> None:
    from ledger_aggregator.composition import Clients, build_stream

    unused: Any = object()
    with pytest.raises(ConfigurationError, match="BUFFER_QUEUE_URL is not set for PATTERN=2"):
        deps = build_stream(
            StreamSettings.from_env({"PATTERN": "2", "DLQ_URL": DLQ_URL}), Clients(unused, unused, unused)
        )
        stream.make_handler(deps)({"Records": records().records}, Context())


def test_the_stream_function_without_its_pattern_names_it() -> None:
    fakes = Fakes()
    with pytest.raises(ConfigurationError, match="PATTERN is not set"):
        deps = fakes.stream_deps(StreamSettings.from_env({"DLQ_URL": DLQ_URL, "BUFFER_QUEUE_URL": "b"}))
        stream.make_handler(deps)({"Records": records().records}, Context())
