"""Each function's settings, read from its environment at cold start, with errors that name the variable.

One class per function: ``StreamSettings`` (the stream function), ``WriterSettings`` (pattern 2's summary
writer), ``EventsSettings`` (the balance events' enrichment), ``CloserSettings`` (the scheduled closer) and
``SweeperSettings`` (the holds sweeper). Each reads only the variables that Terraform sets for its function,
and refuses a missing or wrong one with one line naming it, so that a deployment that lacks a setting fails
when the function starts, not at its first record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .redelivery import DEFAULT_CEILING_SECONDS

DEFAULT_MARKER_TTL_SECONDS = 15 * 24 * 3600  # longer than SQS's longest retention (14 days)
DEFAULT_BACKOFF_MAX_SECONDS = DEFAULT_CEILING_SECONDS
MAX_VISIBILITY_SECONDS = 43_200  # SQS's longest visibility timeout


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or wrong."""


@dataclass(frozen=True, slots=True)
class SummaryTables:
    """Where the summaries are written: the summary table, the applied markers' table and a marker's lifetime."""

    summary: str
    applied: str
    marker_ttl_seconds: int = DEFAULT_MARKER_TTL_SECONDS


@dataclass(frozen=True, slots=True)
class BufferQueue:
    """Pattern 2's buffer queue, where the stream function publishes its deltas."""

    url: str


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """The stream function's: where its deltas go (the summary tables or the buffer queue) and its DLQ."""

    destination: SummaryTables | BufferQueue
    dlq_url: str

    @property
    def pattern(self) -> Literal[1, 2]:
        """The root's pattern: 1 writes the summaries, 2 publishes to the buffer queue."""
        return 2 if isinstance(self.destination, BufferQueue) else 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StreamSettings:
        """Read and check the settings; raise ConfigurationError naming what is wrong."""
        source = os.environ if env is None else env
        pattern = source.get("PATTERN")  # no default here: the root's pattern variable owns it
        if pattern is None:
            raise ConfigurationError("PATTERN is not set for the stream function: it needs the root's pattern (1 or 2)")
        if pattern not in ("1", "2"):
            raise ConfigurationError(f"PATTERN must be 1 or 2, got {pattern!r} (the stream function)")
        read = _Reader(source, f"PATTERN={pattern} (the stream function)")
        destination = BufferQueue(read.text("BUFFER_QUEUE_URL")) if pattern == "2" else read.tables()
        return cls(destination=destination, dlq_url=read.text("DLQ_URL"))


@dataclass(frozen=True, slots=True)
class WriterSettings:
    """Pattern 2's summary writer's: the summary tables, the buffer queue it defers in, its DLQ and backoff."""

    tables: SummaryTables
    buffer_queue_url: str
    dlq_url: str
    backoff_max_seconds: int = DEFAULT_BACKOFF_MAX_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WriterSettings:
        """Read and check the settings; raise ConfigurationError naming what is wrong."""
        read = _Reader(os.environ if env is None else env, "the writer")
        return cls(
            tables=read.tables(),
            buffer_queue_url=read.text("BUFFER_QUEUE_URL"),
            dlq_url=read.text("DLQ_URL"),
            backoff_max_seconds=read.seconds(
                "BACKOFF_MAX_SECONDS", DEFAULT_BACKOFF_MAX_SECONDS, 1, MAX_VISIBILITY_SECONDS
            ),
        )


@dataclass(frozen=True, slots=True)
class EventsSettings:
    """The events enrichment's: the deployment's name (the stack's name prefix), which every event carries, and
    the history table's ARN, whose stream's records are day closes (the summary table's are balance changes)."""

    deployment_name: str
    history_table_arn: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EventsSettings:
        """Read and check the settings; raise ConfigurationError naming what is wrong."""
        read = _Reader(os.environ if env is None else env, "the events enrichment")
        return cls(deployment_name=read.text("DEPLOYMENT_NAME"), history_table_arn=read.text("HISTORY_TABLE_ARN"))


@dataclass(frozen=True, slots=True)
class CloserSettings:
    """The scheduled closer's: the tables it reads and writes, and how long after its end a day is sealed."""

    details_table: str
    details_index: str
    summary_table: str
    history_table: str
    seal_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CloserSettings:
        """Read and check the settings; raise ConfigurationError naming what is wrong."""
        read = _Reader(os.environ if env is None else env, "the closer")
        read.text("SEAL_SECONDS")  # no default: the root computes it from the integration timeout
        return cls(
            details_table=read.text("DETAILS_TABLE"),
            details_index=read.text("DETAILS_INDEX"),
            summary_table=read.text("SUMMARY_TABLE"),
            history_table=read.text("HISTORY_TABLE"),
            seal_seconds=read.seconds("SEAL_SECONDS", 0, 1, 86_400),
        )


@dataclass(frozen=True, slots=True)
class SweeperSettings:
    """The holds sweeper's: the tables a release writes, the index of open holds and the guard's epoch (a
    release counts only into a balance item of it)."""

    details_table: str
    holds_table: str
    holds_index: str
    balances_table: str
    guard_epoch: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SweeperSettings:
        """Read and check the settings; raise ConfigurationError naming what is wrong."""
        read = _Reader(os.environ if env is None else env, "the holds sweeper")
        return cls(
            details_table=read.text("DETAILS_TABLE"),
            holds_table=read.text("HOLDS_TABLE"),
            holds_index=read.text("HOLDS_INDEX"),
            balances_table=read.text("BALANCES_TABLE"),
            guard_epoch=read.text("GUARD_EPOCH"),
        )


@dataclass(frozen=True, slots=True)
class _Reader:
    """One function's environment: each refusal names the variable and the function (``deployed``)."""

    source: Mapping[str, str]
    deployed: str

    def text(self, name: str) -> str:
        """A setting the function cannot work without."""
        value = self.source.get(name, "")
        if not value:
            raise ConfigurationError(f"{name} is not set for {self.deployed}")
        return value

    def seconds(self, name: str, default: int, low: int, high: int | None) -> int:
        """A whole number of seconds within ``low``..``high``, ``default`` when not set."""
        text = self.source.get(name, str(default))
        if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
            bounds = f"at least {low}" if high is None else f"{low}-{high}"
            raise ConfigurationError(f"{name} must be a whole number of seconds, {bounds} ({self.deployed})")
        return int(text)

    def tables(self) -> SummaryTables:
        """The summary tables and the markers' lifetime."""
        return SummaryTables(
            summary=self.text("SUMMARY_TABLE"),
            applied=self.text("APPLIED_TABLE"),
            marker_ttl_seconds=self.seconds("MARKER_TTL_SECONDS", DEFAULT_MARKER_TTL_SECONDS, 86_400, None),
        )
