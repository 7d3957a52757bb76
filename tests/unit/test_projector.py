"""The projector (ledger_aggregator.projector) on fakes: which items fail, what is parked, what is counted."""

from __future__ import annotations

from decimal import Decimal

from ledger_aggregator.domain import Totals
from ledger_aggregator.projector import project, stream_items
from tests.support.fakes import FakePoisonSink, FakeQueue, FakeSummaries
from tests.support.ledger import Ledger, expected_totals, image, two_accounts


def test_the_items_of_a_failed_delta_fail_and_the_rest_are_written() -> None:
    ledger = two_accounts(6, "1.50")
    summaries = FakeSummaries(throttled={"acc-1"})
    changes, poison = stream_items(ledger.records)
    outcome = project(changes, poison, summaries.write, FakePoisonSink(), "stream")
    assert outcome.failed_items == {
        r["eventID"] for r in ledger.records if r["dynamodb"]["Keys"]["accountId"]["S"] == "acc-1"
    }
    assert (outcome.applied, outcome.throttled, outcome.deltas) == (3, 1, 1)
    assert summaries.totals == {("acc-0", "EUR"): Totals(Decimal("4.50"), Decimal(0), 3)}
    summaries.throttled.clear()
    again = project(changes, poison, summaries.write, FakePoisonSink(), "stream")
    assert (again.failed_items, again.applied, again.duplicates) == (frozenset(), 3, 3)
    assert summaries.totals == expected_totals(ledger)


def test_poison_is_parked_with_its_source_and_does_not_fail_its_item() -> None:
    ledger = two_accounts(6, "1.50")
    bad = ledger.put(image("acc-0", "bad", "refund", "1"))
    dlq = FakePoisonSink()
    changes, poison = stream_items(ledger.records)
    outcome = project(changes, poison, FakeSummaries().write, dlq, "stream")
    assert outcome.failed_items == frozenset() and outcome.poison_parked == 1
    assert dlq.parked == {bad["eventID"]: "NewImage: type must be credit, debit, hold, capture or release"}
    assert dlq.sources == {bad["eventID"]: "stream"}


def test_without_a_dead_letter_queue_poison_fails_its_item_rather_than_vanish() -> None:
    ledger = Ledger()
    bad = ledger.put(image("acc-0", "bad", "refund", "1"))
    changes, poison = stream_items(ledger.records)
    assert project(changes, poison, FakeSummaries().write, None, "stream").failed_items == {bad["eventID"]}


def test_published_deltas_count_as_messages_not_summary_writes() -> None:
    queue, summaries = FakeQueue(), FakeSummaries()
    changes, poison = stream_items(two_accounts(6, "1.50").records)
    outcome = project(changes, poison, queue.publish, None, "stream")
    assert (outcome.deltas, outcome.writes, len(queue.messages), summaries.writes) == (2, 2, 2, 0)
