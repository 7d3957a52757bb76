"""When pattern 2's buffer may be removed: the rule of the writer's removal guard.

Switching to pattern 1 keeps the buffer queue, its DLQ and the writer, which drain what they hold;
only ``buffer.retired`` removes them. Terraform then invokes the writer with the guard's delete event
before it deletes anything, and a refusal fails the apply with the reason, so that no apply, a bare
``terraform apply -var pattern=1`` included, can delete a queue that holds a delta.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# After a change, the stream function's old configuration may still run (and publish) for up to its
# timeout; after the last message sent, SQS's counts "may not achieve consistency until at least 1 minute
# after the producers stop sending messages"
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html).
# So the guard reads the counts no earlier than the timeout and twice that minute after the change.
SQS_COUNTS_SETTLE_SECONDS = 2 * 60


@dataclass(frozen=True, slots=True)
class BufferState:
    """What the guard reads before the buffer is removed.

    Attributes:
        messages: per queue, the messages it holds (visible, in flight and delayed).
        stream_pattern: the stream function's ``PATTERN``, or None when the function is gone.
        stream_quiet_seconds: how long ago the stream function's configuration last changed.
        stream_timeout_seconds: the stream function's timeout.
    """

    messages: Mapping[str, int]
    stream_pattern: str | None
    stream_quiet_seconds: float
    stream_timeout_seconds: float


def removal_refusal(state: BufferState) -> str | None:
    """Why the buffer must not be removed now, or None when nothing it holds or will be sent can be lost."""
    holding = {name: count for name, count in sorted(state.messages.items()) if count}
    if holding:
        listed = ", ".join(f"{name} holds {count} message(s)" for name, count in holding.items())
        return (
            f"{listed}: let the writer drain the queue, replay the DLQ (ledger-ops dlq replay --queue buffer), "
            "then apply again"
        )
    if state.stream_pattern not in (None, "1"):
        return (
            f"the stream function still publishes to the buffer (PATTERN={state.stream_pattern}): apply pattern 1 "
            "first, let the writer drain the queue, then remove the buffer"
        )
    wait = state.stream_timeout_seconds + SQS_COUNTS_SETTLE_SECONDS - state.stream_quiet_seconds
    if state.stream_pattern is not None and wait > 0:
        return (
            f"the stream function changed {state.stream_quiet_seconds:.0f} s ago: an invocation of its old "
            "configuration may still publish to the buffer, and SQS's counts settle a minute or more after the "
            f"last message: apply again in {wait:.0f} s"
        )
    return None
