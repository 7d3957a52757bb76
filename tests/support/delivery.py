"""Event-source delivery with faults: Lambda's stream and SQS semantics, driven by a seeded RNG.

``Crash`` stands for an invocation that dies (timeout, out of memory) before it
can answer: the event source then retries the whole batch, bisecting it as
``BisectBatchOnFunctionError`` does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


class Crash(BaseException):
    """The invocation died; nothing it returned is seen."""


@dataclass
class Faults:
    """Probabilities of each fault, per call or per delivery."""

    throttle: float = 0.0
    crash_before_write: float = 0.0
    crash_after_write: float = 0.0
    duplicate_batch: float = 0.0


WRITE_CALLS = frozenset({"transact_write_items", "update_item", "send_message_batch", "put_item"})


class FaultyClient:
    """Wraps a boto3 client; write calls may be throttled or crash before or after they take effect."""

    def __init__(self, client: Any, faults: Faults, rng: random.Random) -> None:
        self._client = client
        self._faults = faults
        self._rng = rng
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if name not in WRITE_CALLS:
            return target

        def call(**kwargs: Any) -> Any:
            if self._rng.random() < self._faults.throttle:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, name)
            if self._rng.random() < self._faults.crash_before_write:
                raise Crash(name)
            result = target(**kwargs)
            self.calls[name] = self.calls.get(name, 0) + 1
            if self._rng.random() < self._faults.crash_after_write:
                raise Crash(name)
            return result

        return call


Invoke = Callable[[list[dict[str, Any]]], set[str]]


@dataclass
class StreamShard:
    """One shard's records, delivered in order from a checkpoint, as Lambda's stream poller does."""

    records: Sequence[dict[str, Any]]
    position: int = 0
    invocations: int = 0
    crashes: int = 0

    def drain(self, invoke: Invoke, rng: random.Random, faults: Faults, max_batch: int, limit: int = 10_000) -> None:
        """Deliver until every record is checkpointed (or ``limit`` invocations)."""
        retry_size: int | None = None
        while self.position < len(self.records) and self.invocations < limit:
            size = retry_size or rng.randint(1, max_batch)
            batch = list(self.records[self.position : self.position + size])
            retry_size = None
            try:
                failed = self._invoke(invoke, batch)
            except Crash:
                self.crashes += 1
                retry_size = max(1, len(batch) // 2)  # bisect on function error
                continue
            ids = [r["eventID"] for r in batch]
            self.position += min((ids.index(i) for i in failed), default=len(batch))
            if rng.random() < faults.duplicate_batch:
                self._redeliver(invoke, rng)

    def _invoke(self, invoke: Invoke, batch: list[dict[str, Any]]) -> set[str]:
        self.invocations += 1
        return invoke(batch)

    def _redeliver(self, invoke: Invoke, rng: random.Random) -> None:
        """Deliver again any subset of what is already checkpointed (a duplicate delivery)."""
        done = list(self.records[: self.position])
        if not done:
            return
        subset = sorted(rng.sample(range(len(done)), rng.randint(1, min(len(done), 20))))
        try:
            self._invoke(invoke, [done[i] for i in subset])
        except Crash:
            self.crashes += 1


@dataclass
class StandardQueue:
    """An SQS standard queue: at-least-once and unordered. Collects what is sent to it."""

    rng: random.Random
    messages: dict[str, str] = field(default_factory=dict)
    _next: int = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Accept every entry (boto3's call shape)."""
        for entry in Entries:
            self._next += 1
            self.messages[f"m{self._next:06d}"] = entry["MessageBody"]
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def drain(self, invoke: Invoke, faults: Faults, limit: int = 10_000) -> int:
        """Deliver in random order and batch size until empty; successes may be delivered again."""
        invocations = 0
        while self.messages and invocations < limit:
            ids = self.rng.sample(sorted(self.messages), min(len(self.messages), self.rng.randint(1, 10)))
            batch = [{"messageId": i, "body": self.messages[i]} for i in ids]
            invocations += 1
            try:
                failed = invoke(batch)
            except Crash:
                continue
            for message_id in ids:
                if message_id not in failed and self.rng.random() >= faults.duplicate_batch:
                    del self.messages[message_id]
        return invocations
