"""When a buffer-queue message the writer could not apply comes back: a jittered backoff.

Without it, a message the writer reports failed stays invisible for the queue's whole
visibility timeout. The writer instead sets each failed message's visibility to a delay
that grows with its receive count (``ChangeMessageVisibility``), so that a message
throttled once comes back within seconds, and one throttled again and again backs off
up to ``ceiling`` seconds. The delay is drawn between half the step and the whole step
("equal jitter"): writers that failed together do not come back together, and a delay
never shrinks to nothing.

Every receive counts toward the queue's ``maxReceiveCount``. The shortest time a message
can keep failing before SQS moves it to the DLQ is therefore the sum of the lower bounds
of its delays (``tolerated_seconds``); docs/operations.md, "Pattern 2 under throttling and crashes", has the table.

https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html (failed
messages reappear after the visibility timeout);
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
(ChangeMessageVisibility sets a new timeout from now).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

FIRST_STEP_SECONDS = 2
DEFAULT_CEILING_SECONDS = 25


@dataclass(frozen=True, slots=True)
class Deferral:
    """A failed message and how long it stays invisible before it is received again."""

    message_id: str
    receipt_handle: str
    seconds: int


def step_seconds(receive_count: int, ceiling: int = DEFAULT_CEILING_SECONDS) -> int:
    """The backoff step after the ``receive_count``-th receive: 2, 4, 8, ... seconds, at most ``ceiling``."""
    exponent = min(max(receive_count, 1) - 1, 16)
    return max(1, min(ceiling, FIRST_STEP_SECONDS << exponent))


def delay_seconds(
    receive_count: int,
    ceiling: int = DEFAULT_CEILING_SECONDS,
    draw: Callable[[int, int], int] = random.randint,
) -> int:
    """A whole number of seconds between half the step and the step (both included)."""
    step = step_seconds(receive_count, ceiling)
    return draw((step + 1) // 2, step)


def tolerated_seconds(max_receive_count: int, ceiling: int = DEFAULT_CEILING_SECONDS) -> int:
    """The least time a message that fails every receive spends in the queue before the DLQ."""
    return sum((step_seconds(n, ceiling) + 1) // 2 for n in range(1, max_receive_count + 1))


def deferrals(
    records: Sequence[Mapping[str, object]],
    failed: frozenset[str],
    ceiling: int = DEFAULT_CEILING_SECONDS,
    draw: Callable[[int, int], int] = random.randint,
) -> list[Deferral]:
    """One deferral per failed SQS record of a Lambda event, by its ``ApproximateReceiveCount``."""
    return [
        Deferral(str(r["messageId"]), str(r["receiptHandle"]), delay_seconds(_receive_count(r), ceiling, draw))
        for r in records
        if r.get("messageId") in failed and r.get("receiptHandle")
    ]


def _receive_count(record: Mapping[str, object]) -> int:
    attributes = record.get("attributes")
    text = attributes.get("ApproximateReceiveCount") if isinstance(attributes, Mapping) else None
    return int(text) if isinstance(text, str) and text.isdigit() else 1
