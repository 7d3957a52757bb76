"""Property tests: whatever the delivery does, every summary equals the fold of its rows."""

from __future__ import annotations

import random
from decimal import Decimal

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from ledger_aggregator.adapters.dynamodb import DynamoSummaryStore
from ledger_aggregator.adapters.sqs import QueuePublisher
from ledger_aggregator.domain import Totals, coalesce, parse_batch
from ledger_aggregator.projector import project, queue_items, stream_items
from tests.support.aws import APPLIED, SUMMARY, create_tables, nonzero, summaries
from tests.support.delivery import Faults, FaultyClient, ListPoisonSink, StandardQueue, StreamShard
from tests.support.ledger import Ledger, expected_totals, image

ACCOUNTS = ("acc-1", "acc-2", "acc-3", "acc_4")
amounts = st.one_of(
    st.integers(min_value=1, max_value=10**6).map(lambda c: str(Decimal(c) / 100)),
    st.just("999999999999999"),
    st.just("9999999999999.99"),
    st.just("0.01"),
)
operation = st.tuples(
    st.sampled_from(["put", "put", "put", "remove", "poison"]),
    st.sampled_from(ACCOUNTS),
    st.integers(min_value=0, max_value=6),
    st.sampled_from(["credit", "debit"]),
    amounts,
    st.integers(min_value=0, max_value=59),
)


def build_ledger(ops: list[tuple[str, str, int, str, str, int]]) -> Ledger:
    """Apply generated operations: inserts, corrections (MODIFY), deletions and poison rows."""
    ledger = Ledger()
    for kind, account, tx, side, amount, minute in ops:
        txid = f"t{tx}"
        at = f"2026-03-01T10:{minute:02d}:00Z"
        if kind == "remove":
            if (account, txid) in ledger.rows:
                ledger.remove(account, txid)
        elif kind == "poison":
            bad = image(account, txid, side, amount, at)
            bad["amount"] = {"N": "abc"} if minute % 2 else {"S": amount}
            ledger.put(bad)
        else:
            ledger.put(image(account, txid, side, amount, at))
    return ledger


def poison_record_ids(ledger: Ledger) -> list[str]:
    """The records that have an invalid image: exactly these must reach the DLQ."""
    return [p.record_id for p in parse_batch(ledger.records).poison]


@given(st.lists(operation, max_size=60))
def test_one_clean_pass_over_the_stream_folds_to_the_rows(ops: list[tuple[str, str, int, str, str, int]]) -> None:
    ledger = build_ledger(ops)
    totals: dict[str, Totals] = {}
    for delta in coalesce(parse_batch(ledger.records).changes):
        totals[delta.account_id] = totals.get(delta.account_id, Totals()) + delta.totals
    got = nonzero({a: (t.credits, t.debits, t.count) for a, t in totals.items()})
    assert got == expected_totals(ledger)


@given(st.lists(operation, max_size=40), st.randoms(use_true_random=False))
def test_coalescing_keeps_every_amount_once_even_with_duplicated_records(ops, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    records = build_ledger(ops).records
    doubled = records + [rng.choice(records) for _ in range(len(records) // 2)] if records else []
    changes = parse_batch(doubled).changes
    deltas = coalesce(changes)
    assert len(deltas) == len({c.account_id for c in changes})
    unique = {c.record_id: c.totals for c in changes}
    assert sum((d.totals for d in deltas), Totals()) == sum(unique.values(), Totals())


fault_profiles = st.builds(
    Faults,
    throttle=st.sampled_from([0.0, 0.1, 0.3]),
    crash_before_write=st.sampled_from([0.0, 0.05, 0.15]),
    crash_after_write=st.sampled_from([0.0, 0.05, 0.15]),
    duplicate_batch=st.sampled_from([0.0, 0.2, 0.5]),
)
slow = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@slow
@given(st.lists(operation, min_size=1, max_size=50), fault_profiles, st.randoms(use_true_random=False))
def test_pattern_1_is_exact_under_retries_duplicates_bisection_and_crashes(ops, faults, rng) -> None:  # type: ignore[no-untyped-def]
    ledger = build_ledger(ops)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb)
        store = DynamoSummaryStore(FaultyClient(dynamodb, faults, rng), SUMMARY, APPLIED, 86_400 * 15)

        dlq = ListPoisonSink()

        def invoke(batch):  # type: ignore[no-untyped-def]
            changes, poison = stream_items(batch)
            return set(project(changes, poison, store, dlq, "stream").failed_items)

        shard = StreamShard(ledger.records)
        shard.drain(invoke, rng, faults, max_batch=12)
        assert shard.position == len(ledger.records), "the shard never drained"
        assert nonzero(summaries(dynamodb)) == expected_totals(ledger)
        assert set(dlq.parked) == set(poison_record_ids(ledger))


@slow
@given(st.lists(operation, min_size=1, max_size=50), fault_profiles, st.randoms(use_true_random=False))
def test_pattern_2_is_exact_under_duplicates_reordering_and_crashes(ops, faults, rng) -> None:  # type: ignore[no-untyped-def]
    ledger = build_ledger(ops)
    queue = StandardQueue(rng)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb)
        publisher = QueuePublisher(FaultyClient(queue, faults, rng), "queue-url", changes_per_message=3)
        store = DynamoSummaryStore(FaultyClient(dynamodb, faults, rng), SUMMARY, APPLIED, 86_400 * 15)

        def stream_invoke(batch):  # type: ignore[no-untyped-def]
            changes, _ = stream_items(batch)
            return set(project(changes, [], publisher, None, "stream").failed_items)

        def queue_invoke(batch):  # type: ignore[no-untyped-def]
            changes, poison = queue_items(batch)
            assert not poison, "the stream side produced an undecodable message"
            return set(project(changes, [], store, None, "queue").failed_items)

        shard = StreamShard(ledger.records)
        shard.drain(stream_invoke, rng, faults, max_batch=12)
        assert shard.position == len(ledger.records)
        queue.drain(queue_invoke, faults)
        assert not queue.messages, "the queue never drained"
        assert nonzero(summaries(dynamodb)) == expected_totals(ledger)
