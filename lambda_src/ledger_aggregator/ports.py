"""Protocols between the pure core and the AWS adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from .domain import Delta, Key, Poison
from .redelivery import Deferral

if TYPE_CHECKING:  # the stream and writer functions never load the history core
    from .history import Close


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What happened to one delta.

    Attributes:
        key: the delta's ``(account, currency)``.
        applied: records whose effect was written now.
        duplicates: records skipped because their effect was already written.
        writes: summary-item writes this delta cost (queue messages, when published).
        error: why the delta was not (fully) applied; None on success.
        throttled: True when the error was capacity (retry later, nothing lost).
    """

    key: Key
    applied: int = 0
    duplicates: int = 0
    writes: int = 0
    error: str | None = None
    throttled: bool = False

    @property
    def ok(self) -> bool:
        """True when every record of the delta is now reflected exactly once."""
        return self.error is None

    @property
    def label(self) -> str:
        """``account/currency``, for messages."""
        return "/".join(self.key)


class SummaryWriter(Protocol):
    """Writes deltas into the summaries, each record's effect once (pattern 1's stream function, and
    pattern 2's writer)."""

    def write(self, deltas: Sequence[Delta]) -> list[ApplyResult]:
        """Write each delta; one result per delta, in order. Must not raise for a delta's failure."""
        ...


class DeltaPublisher(Protocol):
    """Sends deltas on to be written later (pattern 2's stream function, to the buffer queue)."""

    def publish(self, deltas: Sequence[Delta]) -> list[ApplyResult]:
        """Send each delta; one result per delta, in order. Must not raise for a delta's failure."""
        ...


# Where the projector hands a batch's deltas: a SummaryWriter's write or a DeltaPublisher's publish.
Deliver = Callable[[Sequence[Delta]], list[ApplyResult]]


class PoisonSink(Protocol):
    """Where records that can never be processed are parked, with their reason."""

    def park(self, poison: Sequence[Poison], source: str) -> set[str]:
        """Park the records; return the ``record_id`` of each one parked successfully."""
        ...


class Redelivery(Protocol):
    """Sets when failed queue messages come back (pattern 2's writer)."""

    def defer(self, deferrals: Sequence[Deferral]) -> int:
        """Make each message invisible for its delay; return how many were deferred. Must not raise."""
        ...


class Created(Enum):
    """What a create-only write of a close found: nothing there (written), the same close, or another."""

    WRITTEN = "written"
    PRESENT = "present"
    DIFFERS = "differs"


class HistoryStore(Protocol):
    """Where the closer reads booked rows and keys, and writes closes (create-only)."""

    def keys(self) -> Iterable[Key]:
        """Every ``(account, currency)`` that has booked a valid row (the summaries' keys)."""
        ...

    def last_day(self, key: Key) -> Close | None:
        """The key's latest day close, read strongly consistent; None before its first."""
        ...

    def first_booked(self, key: Key, until_ms: int) -> int | None:
        """The ``recordedAt`` of the key's first valid row, when it is at or before ``until_ms`` (the end of a
        sealed day: a row may still be booked before a later one); None otherwise."""
        ...

    def rows(self, account: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """The account's rows (every currency) booked from ``start_ms`` to ``end_ms``, both included."""
        ...

    def month_days(self, key: Key, month: str) -> list[Close]:
        """The key's day closes of a month (``YYYY-MM``), in order, read strongly consistent."""
        ...

    def create(self, close: Close) -> Created:
        """Write a close unless one of its period is there; say which it found."""
        ...
