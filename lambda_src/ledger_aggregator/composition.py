"""The composition root: the settings, the boto3 clients and the adapters over them, built once per
execution environment and handed to the handlers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import boto3
from botocore.config import Config

from .adapters.dynamodb import Backoff, DynamoSummaryStore, StoredTimes
from .adapters.guard import buffer_state
from .adapters.sqs import QueuePublisher, SqsPoisonSink, SqsVisibility
from .config import Settings
from .ports import DeltaSink, PoisonSink, Redelivery
from .retirement import BufferState

# The share of an invocation's remaining time that throttled summary writes may wait through;
# the rest is left for the writes themselves and the answer.
WAIT_SHARE = 0.5
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The function's settings (read once)."""
    return Settings.from_env()


@cache
def client(service: str) -> Any:
    """A shared boto3 client; honours AWS_ENDPOINT_URL like every SDK call."""
    return boto3.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


@dataclass(frozen=True)
class WaitClock:
    """The clock that throttled writes are waited on, and how they wait (a test gives a virtual one)."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


wait_clock = WaitClock()


def deadline(context: Any) -> float | None:
    """Until when a throttled write may be waited for: half the invocation's remaining time."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return wait_clock.now() + float(remaining()) / 1000 * WAIT_SHARE


@cache
def stored_times() -> StoredTimes:
    """What this execution environment has learned of the stored lastTransactionAt (kept warm)."""
    return StoredTimes()


def summary_store(until: float | None = None) -> DynamoSummaryStore:
    """The summary table with its applied-marker table; throttled writes are waited for ``until``."""
    s = settings()
    return DynamoSummaryStore(
        client("dynamodb"),
        s.require("summary_table"),
        s.require("applied_table"),
        s.marker_ttl_seconds,
        backoff=Backoff(deadline=until, clock=wait_clock.now, sleep=wait_clock.sleep),
        times=stored_times(),
    )


def stream_sink(until: float | None = None) -> DeltaSink:
    """Pattern 1 writes summaries; pattern 2 publishes deltas to the buffer queue."""
    s = settings()
    if s.pattern == 2:
        return QueuePublisher(client("sqs"), s.require("buffer_queue_url"))
    return summary_store(until)


def poison_sink() -> PoisonSink | None:
    """The dead-letter queue for poison stream records, when configured."""
    url = settings().dlq_url
    return SqsPoisonSink(client("sqs"), url) if url else None


def redelivery() -> Redelivery:
    """The buffer queue, where the writer defers the messages it could not apply (pattern 2)."""
    return SqsVisibility(client("sqs"), settings().require("buffer_queue_url"))


def buffer_now(queue_urls: list[str], stream_function: str) -> BufferState:
    """The buffer's queues and the stream function as the removal guard sees them now."""
    return buffer_state(client("sqs"), client("lambda"), queue_urls, stream_function)


def reset() -> None:
    """Forget cached settings and clients (tests change the environment)."""
    settings.cache_clear()
    client.cache_clear()
    stored_times.cache_clear()
