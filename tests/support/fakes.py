"""In-memory fakes of the ports (ledger_aggregator.ports), and dependencies built from them, for unit
tests of the projector and the handlers that need no AWS emulation at all.

The fakes keep the ports' contracts, not the adapters' mechanics: the summary writer writes each record's
effect once (as the applied markers make the DynamoDB store do) and can be told to throttle an account;
the publisher encodes each delta as the buffer queue's message, so that what it published can be handed
to the writer's handler.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger_aggregator.codec import delta_id, encode
from ledger_aggregator.composition import StreamDeps, WaitClock, WriterDeps
from ledger_aggregator.config import BufferQueue, StreamSettings, SummaryTables, WriterSettings
from ledger_aggregator.domain import Delta, Key, Poison, Totals
from ledger_aggregator.ports import ApplyResult, Deliver
from ledger_aggregator.redelivery import Deferral
from ledger_aggregator.retirement import BufferState


@dataclass
class FakeContext:
    """A Lambda context: the parts Powertools reads, and the time the invocation has left."""

    function_name: str = "ledger-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:ledger-test"
    aws_request_id: str = "req-1"
    millis_left: int = 4000

    def get_remaining_time_in_millis(self) -> int:
        """The time the invocation has left."""
        return self.millis_left


@dataclass
class FakeSummaries:
    """A SummaryWriter: totals per key, each record's effect written once; ``throttled`` keys refuse."""

    totals: dict[Key, Totals] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)
    throttled: set[str] = field(default_factory=set)  # account ids whose writes are throttled
    writes: int = 0

    def write(self, deltas: Sequence[Delta]) -> list[ApplyResult]:
        """Write each delta's records not written before; a throttled account's delta fails, retryable."""
        return [self._write_one(delta) for delta in deltas]

    def _write_one(self, delta: Delta) -> ApplyResult:
        if delta.account_id in self.throttled:
            return ApplyResult(delta.key, error="throttled", throttled=True)
        new = [c for c in delta.changes if c.marker_id not in self.applied]
        if new:
            total = self.totals.get(delta.key, Totals())
            for change in new:
                total = total + change.totals
            self.totals[delta.key] = total
            self.applied |= {c.marker_id for c in new}
            self.writes += 1
        return ApplyResult(delta.key, applied=len(new), duplicates=len(delta.changes) - len(new), writes=int(bool(new)))


@dataclass
class FakeQueue:
    """A DeltaPublisher: each delta becomes one buffer-queue message, as SQS would hand it to the writer."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    _ids: Any = field(default_factory=itertools.count)

    def publish(self, deltas: Sequence[Delta]) -> list[ApplyResult]:
        """Send each delta as one message."""
        for delta in deltas:
            number = next(self._ids)
            self.messages.append(
                {
                    "messageId": f"m{number}",
                    "receiptHandle": f"r{number}",
                    "body": encode(delta),
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {"deltaId": {"stringValue": delta_id(delta), "dataType": "String"}},
                    "eventSource": "aws:sqs",
                }
            )
        return [ApplyResult(d.key, applied=len(d.changes), writes=1) for d in deltas]

    def event(self) -> dict[str, Any]:
        """What was published, as one SQS event for the writer; the queue is emptied."""
        records, self.messages = self.messages, []
        return {"Records": records}


@dataclass
class FakePoisonSink:
    """A PoisonSink in memory: keeps each parked record's reason, and the source it was parked from."""

    parked: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def park(self, poison: Sequence[Poison], source: str) -> set[str]:
        """Park every record."""
        for p in poison:
            self.parked[p.record_id] = p.reason
            self.sources[p.record_id] = source
        return {p.record_id for p in poison}


@dataclass
class FakeRedelivery:
    """A Redelivery that keeps the deferrals it was asked for."""

    deferred: list[Deferral] = field(default_factory=list)

    def defer(self, deferrals: Sequence[Deferral]) -> int:
        """Defer every message."""
        self.deferred += deferrals
        return len(deferrals)


BUFFER_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/buffer"
DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"


def stream_settings(pattern: int = 1) -> StreamSettings:
    """The stream function's settings of a deployment of ``pattern``, every setting present."""
    destination = BufferQueue(BUFFER_URL) if pattern == 2 else SummaryTables("summary", "applied")
    return StreamSettings(destination=destination, dlq_url=DLQ_URL)


def writer_settings(**changes: Any) -> WriterSettings:
    """The writer's settings, every setting present."""
    given: dict[str, Any] = {"tables": SummaryTables("summary", "applied"), "buffer_queue_url": BUFFER_URL}
    return WriterSettings(**(given | {"dlq_url": DLQ_URL} | changes))


@dataclass
class Fakes:
    """One of each fake, and the dependencies a handler is made over."""

    summaries: FakeSummaries = field(default_factory=FakeSummaries)
    queue: FakeQueue = field(default_factory=FakeQueue)
    poison: FakePoisonSink = field(default_factory=FakePoisonSink)
    redelivery: FakeRedelivery = field(default_factory=FakeRedelivery)
    deadlines: list[float | None] = field(default_factory=list)  # what each writer was asked to wait until

    def stream_deps(self, given: StreamSettings | None = None) -> StreamDeps:
        """The stream function's dependencies over the fakes (pattern 1 unless ``given`` says otherwise)."""
        settings = given or stream_settings()

        def deliver(until: float | None) -> Deliver:
            if settings.pattern == 2:
                return self.queue.publish
            return self._summaries(until).write

        return StreamDeps(settings, deliver, self.poison, CLOCK)

    def writer_deps(
        self, given: WriterSettings | None = None, buffer_now: Callable[[Sequence[str], str], BufferState] | None = None
    ) -> WriterDeps:
        """The writer's dependencies over the fakes."""

        def no_buffer(*_: Any) -> BufferState:
            raise AssertionError("the buffer was read")

        return WriterDeps(
            settings=given or writer_settings(),
            summaries=self._summaries,
            poison=self.poison,
            redelivery=self.redelivery,
            buffer_now=buffer_now or no_buffer,
            clock=CLOCK,
        )

    def _summaries(self, until: float | None) -> FakeSummaries:
        self.deadlines.append(until)
        return self.summaries


CLOCK = WaitClock(now=lambda: 100.0, sleep=lambda _: None)
