"""A consumer's side of the balance events' delivery contract (docs/events.md): ``BalanceFollower``.

Standard library only, and nothing of the aggregator: copy this file into the consumer, or import it from
here. Feed it each event's ``detail`` (``apply``); it keeps the highest revision of each (account,
currency) and names the revisions that were never delivered (``gaps``), for which the consumer resyncs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["BalanceFollower", "Delivery", "Gap"]


class Delivery(Enum):
    """What one delivered event was to a follower."""

    APPLIED = "applied"  # the highest revision of its key so far: its ``after`` is now the key's state
    LATE = "late"  # received after a higher revision of its key: kept out of the state, closes a hole
    DUPLICATE = "duplicate"  # received before, or settled (below a creation or a resync of its key)


@dataclass(frozen=True, slots=True)
class Gap:
    """A revision of a key that an event names as its previous one, still not delivered after the bound."""

    account_id: str
    currency: str
    revision: int
    missed_for: float  # seconds since an event named it

    def describe(self) -> str:
        """``account currency: revision R missing for S s``, for messages."""
        return f"{self.account_id} {self.currency}: revision {self.revision} missing for {self.missed_for:.0f} s"


@dataclass(slots=True)
class _Chain:
    """What a follower knows of one key's revisions, linked by ``previousRevision``.

    ``settled``: every revision at or below it is accounted for (received, or before a creation or a resync
    received). ``after``: for each revision received above it, the revision whose previous it is, so that
    ``settled`` moves up the chain as holes close and memory stays small. ``missing``: revisions above it that
    a received event names as its previous and that nothing has brought yet, with when that was noticed.
    """

    latest: Mapping[str, Any]
    settled: int | None = None
    after: dict[int | None, int] = field(default_factory=dict)
    received: set[int] = field(default_factory=set)
    missing: dict[int, float] = field(default_factory=dict)

    def known(self, revision: int) -> bool:
        return revision in self.received or (self.settled is not None and revision <= self.settled)

    def receive(self, revision: int, previous: int | None, baseline: bool, now: float) -> None:
        """Take in a revision not known before; ``baseline``: nothing at or below it matters any more."""
        self.missing.pop(revision, None)
        self.received.add(revision)
        self.after[previous] = revision
        if baseline or previous is None:  # a resync, or a creation (nothing of the key came before it)
            self.settle_at(revision)
            return
        if not self.known(previous):
            self.missing.setdefault(previous, now)
        while self.settled is not None and self.settled in self.after:
            self._settle(self.after[self.settled])

    def settle_at(self, revision: int) -> None:
        """Every revision at or below ``revision`` is accounted for (a resync of it was received)."""
        self._settle(revision)
        while self.settled is not None and self.settled in self.after:
            self._settle(self.after[self.settled])

    def _settle(self, revision: int) -> None:
        if self.settled is not None and revision <= self.settled:
            return
        self.settled = revision
        self.received = {r for r in self.received if r > revision}
        self.missing = {r: t for r, t in self.missing.items() if r > revision}
        self.after = {p: r for p, r in self.after.items() if r > revision}


@dataclass
class BalanceFollower:
    """The consumer's side of the delivery contract (docs/events.md), exact without order.

    Each event carries the whole state of its key (``after``), so the highest revision received wins: an
    event below it changes nothing. Revisions never repeat for a key and a later summary item of a key has
    higher ones (``summary_item``), so this holds across deletions and rebuilds too. Nothing assumes a
    revision is one more than the last: the events are chained by ``previousRevision``, and a revision an
    event names as its previous that has not been delivered is *missing*; one that arrives later is a late
    delivery, one still missing ``late_bound`` seconds after it was noticed is a *gap* (``gaps``), for which
    the consumer resynchronises. A creation (``previousRevision`` null) or a resync event of a key settles
    every revision below it. ``late_bound`` must cover how late a delivery can be: the rule target's
    maximum event age (EventBridge's default, 24 hours) and the consumer's own redeliveries.
    """

    late_bound: float = 24 * 3600.0
    clock: Callable[[], float] = time.monotonic
    _chains: dict[tuple[str, str], _Chain] = field(default_factory=dict)

    @property
    def latest(self) -> dict[tuple[str, str], Mapping[str, Any]]:
        """The detail of the highest revision received, per (account, currency): the key's state."""
        return {key: chain.latest for key, chain in self._chains.items()}

    def apply(self, detail: Mapping[str, Any]) -> Delivery:
        """Follow one event's detail; what it was (applied, late or a duplicate)."""
        key = (str(detail["accountId"]), str(detail["currency"]))
        revision, previous = int(detail["revision"]), detail.get("previousRevision")
        chain = self._chains.get(key)
        if chain is None:
            chain = self._chains[key] = _Chain(detail)
        elif chain.known(revision):
            if detail.get("resync") is True:  # a baseline even when its revision came before
                chain.settle_at(revision)
            return Delivery.DUPLICATE
        chain.receive(revision, None if previous is None else int(previous), detail.get("resync") is True, self.clock())
        if revision < int(chain.latest["revision"]):
            return Delivery.LATE
        chain.latest = detail
        return Delivery.APPLIED

    def revisions(self) -> dict[tuple[str, str], int]:
        """The highest revision received per key."""
        return {key: int(chain.latest["revision"]) for key, chain in self._chains.items()}

    def missing(self) -> dict[tuple[str, str], list[int]]:
        """Per key with any, the revisions named as previous that have not been delivered (yet)."""
        return {key: sorted(chain.missing) for key, chain in self._chains.items() if chain.missing}

    def gaps(self) -> list[Gap]:
        """The missing revisions noticed more than ``late_bound`` seconds ago: never to be delivered."""
        now = self.clock()
        return [
            Gap(key[0], key[1], revision, now - noticed)
            for key, chain in sorted(self._chains.items())
            for revision, noticed in sorted(chain.missing.items())
            if now - noticed > self.late_bound
        ]
