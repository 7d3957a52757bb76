"""The composition root: each function's adapters, built at cold start from its own settings.

``build_stream``, ``build_writer`` and ``build_events`` build a function's dependencies from its settings
and the boto3 clients. A handler module builds its function's at import (``stream_from_environment`` and
the like), so a missing or wrong setting fails the cold start with one line naming it; each boto3 client is
made at its first call (``OnFirstUse``). Each takes the
settings and the clients from its caller, so a test hands the handlers other settings, clients or a clock
without touching a module global.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3
from botocore.config import Config

from .adapters.dynamodb import Backoff, DynamoSummaryStore, StoredTimes
from .adapters.guard import buffer_state
from .adapters.sqs import QueuePublisher, SqsPoisonSink, SqsVisibility
from .config import CloserSettings, EventsSettings, StreamSettings, SummaryTables, SweeperSettings, WriterSettings
from .ports import Deliver, DeltaPublisher, HistoryStore, PoisonSink, Redelivery, SummaryWriter
from .retirement import BufferState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

# The share of an invocation's remaining time that throttled summary writes may wait through;
# the rest is left for the writes themselves and the answer.
WAIT_SHARE = 0.5
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@dataclass(frozen=True)
class Clients:
    """The AWS clients the adapters call."""

    dynamodb: DynamoDBClient
    sqs: SQSClient
    lambda_: LambdaClient

    @classmethod
    def from_environment(cls) -> Clients:
        """boto3 clients with the functions' retry and timeout settings (AWS_ENDPOINT_URL honoured), each
        made when first called (``OnFirstUse``): a function makes only those it calls."""
        return cls(
            cast("DynamoDBClient", OnFirstUse("dynamodb")),
            cast("SQSClient", OnFirstUse("sqs")),
            cast("LambdaClient", OnFirstUse("lambda")),
        )


class OnFirstUse:
    """A boto3 client of ``service``, made at its first call (or first ``exceptions`` read), then used.

    Settings are read and checked at cold start; a client costs tens of milliseconds to make, and the stream
    function calls two of the three services at most, so each is made by the first record that needs it."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = boto3.client(self._service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]
        return getattr(self._client, name)


class Invocation(Protocol):
    """What the composition reads of a Lambda invocation's context (Powertools' ``LambdaContext`` is one)."""

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        ...


@dataclass(frozen=True)
class WaitClock:
    """The clock that throttled writes are waited on, and how they wait (a test gives a virtual one)."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def deadline(self, invocation: Invocation) -> float:
        """Until when a throttled write may be waited for: ``WAIT_SHARE`` of the invocation's time left."""
        return self.now() + invocation.get_remaining_time_in_millis() / 1000 * WAIT_SHARE


# A summary writer that waits out throttling until the time given (None: not at all).
Summaries = Callable[[float | None], SummaryWriter]


@dataclass(frozen=True)
class StreamDeps:
    """What the stream function works with: where its deltas go, and where poison records are parked."""

    settings: StreamSettings
    deliver: Callable[[float | None], Deliver]  # pattern 1 writes the summaries, pattern 2 publishes
    poison: PoisonSink
    clock: WaitClock = field(default_factory=WaitClock)


@dataclass(frozen=True)
class WriterDeps:
    """What pattern 2's writer works with: the summaries, its poison sink, redelivery and the buffer's state."""

    settings: WriterSettings
    summaries: Summaries
    poison: PoisonSink
    redelivery: Redelivery
    buffer_now: Callable[[Sequence[str], str], BufferState]
    clock: WaitClock = field(default_factory=WaitClock)


@dataclass(frozen=True)
class EventsDeps:
    """What the events enrichment works with: its settings only (it calls no AWS API)."""

    settings: EventsSettings


def summaries(dynamodb: DynamoDBClient, tables: SummaryTables, clock: WaitClock) -> Summaries:
    """Summary writers over ``tables``, sharing what this execution environment learns of stored times."""
    times = StoredTimes()  # what this execution environment learns of the stored lastTransactionAt

    def until(deadline: float | None) -> SummaryWriter:
        backoff = Backoff(deadline=deadline, clock=clock.now, sleep=clock.sleep)
        return DynamoSummaryStore(
            dynamodb, tables.summary, tables.applied, tables.marker_ttl_seconds, backoff=backoff, times=times
        )

    return until


def build_stream(settings: StreamSettings, clients: Clients, clock: WaitClock | None = None) -> StreamDeps:
    """The stream function's adapters over ``clients``, configured by ``settings``."""
    wait = clock or WaitClock()
    if isinstance(settings.destination, SummaryTables):
        write = summaries(clients.dynamodb, settings.destination, wait)

        def deliver(until: float | None) -> Deliver:
            return write(until).write
    else:
        publisher: DeltaPublisher = QueuePublisher(clients.sqs, settings.destination.url)

        def deliver(until: float | None) -> Deliver:
            return publisher.publish

    return StreamDeps(settings, deliver, SqsPoisonSink(clients.sqs, settings.dlq_url), wait)


def build_writer(settings: WriterSettings, clients: Clients, clock: WaitClock | None = None) -> WriterDeps:
    """The writer's adapters over ``clients``, configured by ``settings``."""
    wait = clock or WaitClock()
    return WriterDeps(
        settings=settings,
        summaries=summaries(clients.dynamodb, settings.tables, wait),
        poison=SqsPoisonSink(clients.sqs, settings.dlq_url),
        redelivery=SqsVisibility(clients.sqs, settings.buffer_queue_url),
        buffer_now=lambda urls, function: buffer_state(clients.sqs, clients.lambda_, urls, function),
        clock=wait,
    )


def build_events(settings: EventsSettings) -> EventsDeps:
    """The events enrichment's dependencies: it reads nothing and writes nothing."""
    return EventsDeps(settings)


@dataclass(frozen=True)
class CloserDeps:
    """What the scheduled closer works with: the history store and the time."""

    settings: CloserSettings
    store: HistoryStore
    now_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    shuffle: Callable[[list[Any]], None] = field(default=random.shuffle)  # the order a run takes the keys in


def build_closer(settings: CloserSettings, clients: Clients) -> CloserDeps:
    """The closer's store over ``clients``: the details index, the summaries' keys and the history table."""
    from .adapters.history import DynamoHistory, HistoryTables  # noqa: PLC0415 - the other functions never load it

    tables = HistoryTables(
        settings.details_table, settings.details_index, settings.summary_table, settings.history_table
    )
    return CloserDeps(settings, DynamoHistory(clients.dynamodb, tables))


@dataclass(frozen=True)
class SweeperDeps:
    """What the holds sweeper works with: DynamoDB, its settings and the time."""

    settings: SweeperSettings
    dynamodb: DynamoDBClient
    now_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))


def stream_from_environment() -> StreamDeps:
    """The stream function's dependencies, from its environment variables (a handler module's cold start)."""
    return build_stream(StreamSettings.from_env(), Clients.from_environment())


def writer_from_environment() -> WriterDeps:
    """The writer's dependencies, from its environment variables (a handler module's cold start)."""
    return build_writer(WriterSettings.from_env(), Clients.from_environment())


def closer_from_environment() -> CloserDeps:
    """The closer's dependencies, from its environment variables (a handler module's cold start)."""
    return build_closer(CloserSettings.from_env(), Clients.from_environment())


def events_from_environment() -> EventsDeps:
    """The events enrichment's dependencies, from its environment variables (a handler module's cold start)."""
    return build_events(EventsSettings.from_env())


def sweeper_from_environment() -> SweeperDeps:
    """The holds sweeper's dependencies, from its environment variables (a handler module's cold start)."""
    return SweeperDeps(SweeperSettings.from_env(), Clients.from_environment().dynamodb)
