"""Pattern 2's buffer is removed only when nothing it holds or will be sent can be lost."""

from __future__ import annotations

from typing import Any

import pytest

from ledger_aggregator.handlers._common import Handler
from ledger_aggregator.retirement import BufferState, removal_refusal
from tests.support.fakes import FakeContext as Context
from tests.support.fakes import Fakes

EMPTY = {"ledger-buffer": 0, "ledger-buffer-dlq": 0}


def state(messages: dict[str, int] = EMPTY, pattern: str | None = "1", quiet: float = 600) -> BufferState:
    return BufferState(messages, pattern, quiet, stream_timeout_seconds=30)


def test_an_empty_buffer_behind_a_stream_function_long_in_pattern_1_may_go() -> None:
    assert removal_refusal(state()) is None
    assert removal_refusal(state(pattern=None)) is None, "the stream function is gone (a whole stack destroyed)"


@pytest.mark.parametrize(("queue", "count"), [("ledger-buffer", 1), ("ledger-buffer-dlq", 3)])
def test_a_queue_holding_a_message_keeps_the_buffer(queue: str, count: int) -> None:
    refusal = removal_refusal(state({**EMPTY, queue: count}))
    assert refusal is not None and f"{queue} holds {count} message(s)" in refusal


def test_a_stream_function_that_still_publishes_keeps_the_buffer() -> None:
    refusal = removal_refusal(state(pattern="2"))
    assert refusal is not None and "still publishes" in refusal


def test_the_buffer_waits_for_the_stream_functions_last_invocation_and_sqs_counts_to_agree() -> None:
    """An invocation of its old configuration (pattern 2) may still publish for up to its timeout; after the
    last message SQS's counts "may not achieve consistency until at least 1 minute after the producers stop"
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html), so
    the guard waits the timeout and twice that minute. Issue 33 item 14 (at fe9afc6: 2 x 30 s, exactly the
    floor, with a 30 s timeout: the buffer went at 61 s)."""
    refusal = removal_refusal(state(quiet=61))
    assert refusal is not None and "apply again in 89 s" in refusal
    assert removal_refusal(state(quiet=149)) is not None
    assert removal_refusal(state(quiet=150)) is None


def guard_event(action: str, check: bool = True) -> dict[str, Any]:
    queues = ["https://sqs/123/ledger-buffer", "https://sqs/123/ledger-buffer-dlq"]
    event = {"ledgerGuard": "buffer-removal", "check": check, "queueUrls": queues, "streamFunction": "ledger-stream"}
    return {**event, "tf": {"action": action, "prev_input": event}}


def guarded(buffer_now: Any) -> Handler:
    """The writer's handler, reading the buffer through ``buffer_now``."""
    from ledger_aggregator.handlers import writer

    return writer.make_handler(Fakes().writer_deps(buffer_now=buffer_now))


@pytest.mark.parametrize("action", ["create", "update"])
def test_the_guard_arms_itself_on_create_and_update_without_reading_anything(
    action: str,
) -> None:
    handler = guarded(lambda *_: pytest.fail("nothing is read before a delete"))
    assert handler(guard_event(action), Context())["guard"] == "armed"


def test_the_guard_fails_the_delete_while_the_buffer_holds_a_message() -> None:
    from ledger_aggregator.handlers import writer

    asked: list[Any] = []

    def holding_two(*args: Any) -> BufferState:
        asked.append(args)
        return state({**EMPTY, "b": 2})

    holding = guarded(holding_two)
    with pytest.raises(writer.BufferRemovalRefusedError, match="the buffer is kept: b holds 2"):
        holding(guard_event("delete"), Context())
    assert asked == [(guard_event("delete")["queueUrls"], "ledger-stream")]
    assert guarded(lambda *_: state())(guard_event("delete"), Context())["guard"] == "passed"


def test_a_guard_turned_off_lets_a_whole_stack_go() -> None:
    handler = guarded(lambda *_: pytest.fail("turned off: nothing is read"))
    assert handler(guard_event("delete", check=False), Context())["guard"] == "off"
