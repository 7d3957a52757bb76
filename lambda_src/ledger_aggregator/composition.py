"""The composition root: the settings and the boto3 clients, and the adapters built over them once per
execution environment (``deps()``). ``build`` takes both from its caller, so a test hands the handlers
other settings, clients or a clock without touching a module global."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.config import Config

from .adapters.dynamodb import Backoff, DynamoSummaryStore, StoredTimes
from .adapters.guard import buffer_state
from .adapters.sqs import QueuePublisher, SqsPoisonSink, SqsVisibility
from .config import ConfigurationError, Settings
from .ports import Deliver, DeltaPublisher, PoisonSink, Redelivery, SummaryWriter
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
        """boto3 clients with the functions' retry and timeout settings (AWS_ENDPOINT_URL honoured)."""
        return cls(
            boto3.client("dynamodb", config=_CLIENT_CONFIG),
            boto3.client("sqs", config=_CLIENT_CONFIG),
            boto3.client("lambda", config=_CLIENT_CONFIG),
        )


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


@dataclass(frozen=True)
class Deps:
    """What the handlers work with, built once per execution environment.

    The adapters that need a setting only some deployments have (the buffer queue) are built when first
    asked for, so that a missing setting is named by the invocation that needs it.
    """

    settings: Settings
    summaries: Callable[[float | None], SummaryWriter]  # a writer that waits out throttling until then
    publisher: Callable[[], DeltaPublisher]
    poison: PoisonSink | None
    redelivery: Callable[[], Redelivery]
    buffer_now: Callable[[Sequence[str], str], BufferState]
    clock: WaitClock = field(default_factory=WaitClock)

    def deadline(self, invocation: Invocation) -> float:
        """Until when a throttled write may be waited for: ``WAIT_SHARE`` of the invocation's time left."""
        return self.clock.now() + invocation.get_remaining_time_in_millis() / 1000 * WAIT_SHARE

    def stream_destination(self, until: float | None) -> Deliver:
        """Where the stream function hands its deltas: pattern 2 publishes them, pattern 1 writes them."""
        if self.settings.pattern is None:
            raise ConfigurationError("PATTERN is not set: the stream function needs the root's pattern (1 or 2)")
        if self.settings.pattern == 2:
            return self.publisher().publish
        return self.summaries(until).write


def build(settings: Settings, clients: Clients, clock: WaitClock | None = None) -> Deps:
    """The adapters over ``clients``, configured by ``settings``."""
    wait = clock or WaitClock()
    times = StoredTimes()  # what this execution environment learns of the stored lastTransactionAt

    def summaries(until: float | None) -> SummaryWriter:
        return DynamoSummaryStore(
            clients.dynamodb,
            settings.require("summary_table"),
            settings.require("applied_table"),
            settings.marker_ttl_seconds,
            backoff=Backoff(deadline=until, clock=wait.now, sleep=wait.sleep),
            times=times,
        )

    return Deps(
        settings=settings,
        summaries=summaries,
        publisher=lambda: QueuePublisher(clients.sqs, settings.require("buffer_queue_url")),
        poison=SqsPoisonSink(clients.sqs, settings.dlq_url) if settings.dlq_url else None,
        redelivery=lambda: SqsVisibility(clients.sqs, settings.require("buffer_queue_url")),
        buffer_now=lambda urls, function: buffer_state(clients.sqs, clients.lambda_, urls, function),
        clock=wait,
    )


@cache
def deps() -> Deps:
    """The execution environment's dependencies, from its environment variables (built once)."""
    return build(Settings.from_env(), Clients.from_environment())
