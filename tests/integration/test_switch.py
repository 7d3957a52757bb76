"""Switching from pattern 2 to pattern 1 loses no delta, those published during the apply included;
the buffer goes only with buffer.retired, and the writer's guard refuses while a delta could be lost.

This module runs last in the session (its pattern-2 deployment is the session's last): it leaves the
stack in pattern 1 with the buffer retired.

- The API keeps posting during the apply; the buffer stays and drains, and every summary is exact.
- `buffer.retired` is refused by the writer's guard while the buffer DLQ holds a message (nothing
  removed), then removes the buffer once it is empty.
- `make lifecycle` (CQRS_LIFECYCLE=full) then switches back to pattern 2 under load: the buffer is made
  again, no table is replaced, and every summary is exact.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

from harness.probes import eventually
from harness.stack import TerraformError
from tests.integration.conftest import Deployment, settled_in_table

pytestmark = pytest.mark.second_stack  # its pattern-2 runs go on the second stack (docs/testing.md)

CREDIT = {"type": "credit", "amount": "1.25", "currency": "EUR"}
FULL = os.environ.get("CQRS_LIFECYCLE") == "full"  # make lifecycle: and back to pattern 2


def post_until(deployed: Deployment, accounts: list[str], stop: threading.Event, created: list[int]) -> None:
    """Post credits round-robin until ``stop`` (at most 600), counting the 201s."""
    for n in range(600):
        if stop.is_set():
            return
        if deployed.api.post_transaction(accounts[n % len(accounts)], CREDIT).status == 201:
            created[0] += 1
        time.sleep(0.02)


def test_switching_to_pattern_1_under_load_keeps_the_buffer_until_it_is_retired(deployed: Deployment) -> None:
    if deployed.pattern != 2:
        pytest.skip("switches a pattern-2 stack to pattern 1")
    stack = deployed.env.stack
    accounts = [deployed.account(f"switch-{i}") for i in range(4)]
    stack.variables["buffer"] = {**stack.variables.get("buffer", {}), "removal_guard": True, "retired": False}
    stop, created = threading.Event(), [0]
    poster = threading.Thread(target=post_until, args=(deployed, accounts, stop, created))
    poster.start()
    try:
        outputs = stack.apply(1)  # the stream function stops publishing while deltas are in flight
    finally:
        stop.set()
        poster.join()
    assert created[0] > 0
    assert outputs["buffer_queue_url"] and outputs["writer_function_name"], "pattern 1 keeps the buffer"
    eventually(lambda: settled_in_table(deployed, accounts), timeout=180)
    assert sum(deployed.stored(a)["EUR"].count for a in accounts) == created[0]

    # Retiring the buffer while its DLQ holds a message is refused by the writer's guard; nothing is removed.
    sqs = deployed.env.client("sqs")
    waiting = sqs.send_message(QueueUrl=outputs["buffer_dlq_url"], MessageBody="an operator's message")
    stack.variables["buffer"] = {**stack.variables["buffer"], "retired": True}
    with pytest.raises(TerraformError, match="the buffer is kept") as refused:
        stack.apply(1)
    assert "holds 1 message" in str(refused.value)
    assert sqs.get_queue_url(QueueName=outputs["buffer_dlq_url"].rsplit("/", 1)[-1])["QueueUrl"]
    received = sqs.receive_message(QueueUrl=outputs["buffer_dlq_url"], WaitTimeSeconds=1)["Messages"]
    assert [m["MessageId"] for m in received] == [waiting["MessageId"]]
    sqs.delete_message(QueueUrl=outputs["buffer_dlq_url"], ReceiptHandle=received[0]["ReceiptHandle"])

    def retire() -> dict[str, Any] | None:
        try:
            return stack.apply(1)
        except TerraformError as error:  # only the stream function's quiet time may still hold it back
            assert "apply again in" in str(error), error
            return None

    retired = eventually(retire, timeout=300, interval=5)  # the guard waits its timeout and two minutes
    assert retired.get("buffer_queue_url") is None and retired.get("writer_function_name") is None, "null outputs"
    assert settled_in_table(deployed, accounts)
    if FULL:
        switch_back_to_pattern_2(deployed, accounts)


def switch_back_to_pattern_2(deployed: Deployment, accounts: list[str]) -> None:
    """The round trip's last leg: pattern 2 again, under load; the buffer is made anew and no table replaced."""
    stack = deployed.env.stack
    tables = {n: deployed.outputs[f"{n}_table"]["arn"] for n in ("details", "summary", "applied", "balances")}
    stack.variables["buffer"] = {**stack.variables["buffer"], "retired": False}
    stop, created = threading.Event(), [0]
    poster = threading.Thread(target=post_until, args=(deployed, accounts, stop, created))
    poster.start()
    try:
        outputs = stack.apply(2)
    finally:
        stop.set()
        poster.join()
    assert outputs["buffer_queue_url"] and outputs["writer_function_name"], "the buffer is made again"
    assert {n: outputs[f"{n}_table"]["arn"] for n in tables} == tables, "no table replaced"
    eventually(lambda: settled_in_table(deployed, accounts), timeout=180)
