"""Pattern 2's writer under a summary table with no capacity, and under forged messages.

- The writer's failed messages come back within seconds (not the 31 s visibility timeout) and the
  summaries catch up.
- A forged buffer message is parked in the stream DLQ with its reason and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.probes import eventually
from ledger_aggregator.codec import encode
from ledger_aggregator.domain import coalesce, parse_batch
from ledger_ops.dlq import release
from tests.integration.conftest import (
    TARGET,
    Deployment,
    buffer_output,
    buffer_visibility_timeout,
    injected,
    settled,
)
from tests.integration.test_ops import account_records, post

pytestmark = pytest.mark.second_stack  # its pattern-2 runs go on the second stack (docs/testing.md)


@pytest.mark.skipif(TARGET != "local", reason="capacity is taken away by the local account's faults")
def test_a_writer_without_capacity_retries_within_seconds_and_catches_up(deployed: Deployment) -> None:
    """Reviewed: a message the writer could not apply stayed invisible for the whole visibility timeout."""
    buffer_output(deployed, "buffer_queue_url")
    assert deployed.env.account
    stats = deployed.env.account.mappings.stats
    visibility = buffer_visibility_timeout(deployed)
    account = deployed.account("starved")
    before = stats.redeliveries.after_report
    # One unit a second never pays for a transactional write (2 units): every summary write is refused.
    with injected("throttle=1wcu") as starved:
        post(deployed, account, 3)
        eventually(lambda: stats.redeliveries.after_report >= before + 2, timeout=visibility * 0.6, interval=0.5)
        assert deployed.summary(account) is None and starved.throttled > 0
    assert stats.redeliveries.longest_after_report < visibility / 2
    eventually(lambda: settled(deployed, [account]), timeout=visibility * 0.8)


def test_a_forged_buffer_message_is_parked_with_its_reason_and_changes_nothing(deployed: Deployment) -> None:
    """Reviewed: anyone who could send to the buffer queue could change balances with a well-formed message."""
    queue = buffer_output(deployed, "buffer_queue_url")
    account = deployed.account("forged")
    post(deployed, account, 2)
    eventually(lambda: settled(deployed, [account]))
    want = deployed.expected(account)
    (delta,) = coalesce(parse_batch(account_records(deployed, account)).changes)
    forged = json.loads(encode(delta))
    forged["changes"][0][4] = 7  # one record counted as seven: no stream record makes that
    body = json.dumps(forged)
    sqs = deployed.env.client("sqs")
    sqs.send_message(QueueUrl=queue, MessageBody=body)
    message = eventually(lambda: take_parked(deployed, body), timeout=60)
    assert (message["kind"], message["source"], message["field"]) == ("poison-record", "queue", "changes")
    assert message["reason"], "parked with its reason"
    assert deployed.summary(account) == want


def take_parked(deployed: Deployment, body: str) -> dict[str, Any] | None:
    """The stream DLQ's record of a message (or change) the writer refused with this body, deleted once
    found: the writer parks what it refuses there, since that DLQ outlives every pattern switch."""
    sqs, url = deployed.env.client("sqs"), deployed.outputs["stream_dlq_url"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=5, WaitTimeSeconds=1)
    found, others = None, []
    for message in got.get("Messages", []):
        parsed = json.loads(message["Body"])
        if isinstance(parsed.get("record"), dict) and parsed["record"].get("body") == body:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found = dict(parsed)
        else:  # not this test's: visible again at once
            others.append(message["ReceiptHandle"])
    release(sqs, url, others)
    return found
