"""ledger-ops events resync: each summary's current state published as a resync event, idempotent by id."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from consumer.follower import BalanceFollower, Delivery
from ledger_ops.__main__ import main
from ledger_ops.events import resync
from tests.support.aws import SUMMARY, put_summary

R = 1_796_533_320_680_605  # a revision as a summary item created in 2026 has


@pytest.fixture
def bus(dynamodb: Any) -> tuple[dict[str, Any], Callable[[], list[dict[str, Any]]]]:
    """A bus (moto) whose rule sends every balance event to a queue; the events output, and a reader."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    arn = events.create_event_bus(Name="unit-ledger-events")["EventBusArn"]
    url = sqs.create_queue(QueueName="unit-consumer")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["cqrs-ledger"], "detail-type": ["Balance Changed"]}
    events.put_rule(Name="all", EventBusName="unit-ledger-events", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="all", EventBusName="unit-ledger-events", Targets=[{"Id": "q", "Arn": queue}])
    output = {
        "bus": {"name": "unit-ledger-events", "arn": arn},
        "event": {"source": "cqrs-ledger", "detail_type": "Balance Changed"},
        "deployment": "unit",
    }

    def received() -> list[dict[str, Any]]:
        found = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            found += [json.loads(m["Body"]) for m in got]
            for message in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    return output, received


def test_resync_publishes_each_summarys_state_under_its_changes_id_and_a_follower_takes_it_once(
    dynamodb: Any,
    outputs: Callable[..., str],
    bus: tuple[dict[str, Any], Callable[[], list[dict[str, Any]]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed, received = bus
    put_summary(dynamodb, "a", "130", "0", 2, revision=R)
    put_summary(dynamodb, "b", "5000", "0", 1, currency="JPY", revision=R + 7)
    put_summary(dynamodb, "c", "0", "0", 0)  # no money written: no revision, nothing to publish
    path = outputs(events=feed)
    assert main(["--outputs", path, "--quiet", "events", "resync"]) == 0
    assert "events resync: 2 event(s) published, 1 summary item(s) without a revision skipped, 0 failed" in (
        capsys.readouterr().out
    )
    events = received()
    assert {(e["source"], e["detail-type"]) for e in events} == {("cqrs-ledger", "Balance Changed")}
    details = sorted((e["detail"] for e in events), key=lambda d: d["eventId"])
    assert [d["eventId"] for d in details] == [f"a:EUR:{R}", f"b:JPY:{R + 7}"], "the id of the change it restates"
    assert details[0] == {
        "eventId": f"a:EUR:{R}",
        "deployment": "unit",
        "accountId": "a",
        "currency": "EUR",
        "revision": R,
        "previousRevision": None,
        "correction": False,
        "resync": True,
        "before": None,
        "after": {"balance": "130.00", "credits": "130.00", "debits": "0.00", "held": "0.00", "transactionCount": 2},
        "lastTransactionAt": "2026-01-01T00:00:00.000000Z",
    }
    had, missed = BalanceFollower(), BalanceFollower()
    had.apply({**details[0], "resync": False, "previousRevision": R - 1})  # received the change itself
    assert had.apply(details[0]) is Delivery.DUPLICATE and missed.apply(details[0]) is Delivery.APPLIED
    assert main(["--outputs", path, "--quiet", "events", "resync", "--account", "a"]) == 0
    assert [e["detail"]["eventId"] for e in received()] == [f"a:EUR:{R}"], "again: the same id, one account"


def test_resync_is_refused_on_a_stack_without_events(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    put_summary(dynamodb, "a", "1", "0", 1, revision=R)
    assert main(["--outputs", outputs(events=None), "--quiet", "events", "resync"]) == 2
    assert "events resync: refused: this stack has no balance events" in capsys.readouterr().err


class Bus:
    """PutEvents that refuses the first ``refusals`` entries it is given, whatever they are."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.requests: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.requests.append(Entries)
        answers = []
        for _ in Entries:
            refused, self.refusals = self.refusals > 0, self.refusals - 1
            answers.append({"ErrorCode": "InternalFailure"} if refused else {"EventId": "x"})
        return {"FailedEntryCount": sum("ErrorCode" in a for a in answers), "Entries": answers}


def test_refused_entries_are_put_again_and_what_stays_refused_is_named(dynamodb: Any) -> None:
    for i in range(12):
        put_summary(dynamodb, f"a{i:02d}", "1", "0", 1, revision=R + i)
    retried = Bus(refusals=3)
    done = resync(dynamodb, retried, SUMMARY, {"bus": {"name": "b"}, "deployment": "unit"})
    assert (done.published, done.failed) == (12, [])
    assert [len(r) for r in retried.requests] == [10, 3, 2], "10 entries a request; the 3 refused put again"
    stubborn = Bus(refusals=10**6)
    done = resync(dynamodb, stubborn, SUMMARY, {"bus": {"name": "b"}, "deployment": "unit"}, account="a00")
    assert (done.published, done.failed) == (0, [f"a00:EUR:{R}"])
