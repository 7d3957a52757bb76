"""The balance events from the operator's side: what the summary stream committed, and resync.

``resync`` publishes each summary's current state to the events bus as a resync event
(``balance_events.resync_detail``): the id of the change that made the state, marked ``resync``, with no
previous revision. A consumer that received the change drops it as a duplicate; one that missed changes
(events off for a while, a gap) takes it as a baseline. Running it again publishes the same ids for the
summaries that did not change since: it is idempotent by id. docs/events.md says when an operator runs it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from ledger_aggregator.balance_events import DETAIL_TYPE, SOURCE, BalanceChange, committed_change, resync_detail

from .reconcile import items_of
from .streams import RecordTail

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PUT_EVENTS_ENTRIES = 10  # PutEvents takes 10 entries a request
ATTEMPTS = 4  # an entry PutEvents refuses is put again this many times in all


class Bus(Protocol):
    """What resync asks of EventBridge (a boto3 events client)."""

    def put_events(self, *, Entries: list[dict[str, Any]]) -> Mapping[str, Any]:
        """Put up to 10 events; the answer has one entry per event, with an ErrorCode when it was refused."""
        ...


@dataclass
class Resynced:
    """What one resync did."""

    published: int = 0
    skipped: int = 0  # summary items no money write has touched: no revision, nothing to restate
    failed: list[str] = field(default_factory=list)  # event ids PutEvents kept refusing


def committed_changes(tail: RecordTail, accounts: Iterable[str]) -> list[BalanceChange]:
    """The committed changes of these accounts' summaries that the summary stream's tail holds, in order:
    what the Pipe turns into one event each."""
    tail.refresh()
    found = []
    for account in accounts:
        for record in tail.of_account(account):
            images = record["dynamodb"]
            change = committed_change(images.get("OldImage"), images.get("NewImage"))
            if change is not None:
                found.append(change)
    return found


def resync(
    dynamodb: DynamoDBClient,
    bus: Bus,
    table: str,
    feed: Mapping[str, Any],
    *,
    account: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Resynced:
    """Publish the state of every summary (or one account's) on the events bus ``feed`` describes."""
    done, pending = Resynced(), []
    for item in items_of(dynamodb, table, account, progress):
        detail = resync_detail(item, str(feed["deployment"]))
        if detail is None:
            done.skipped += 1
            continue
        pending.append(detail)
        if len(pending) == PUT_EVENTS_ENTRIES:
            _publish(bus, feed["bus"]["name"], pending, done)
            pending = []
    if pending:
        _publish(bus, feed["bus"]["name"], pending, done)
    return done


def _publish(bus: Bus, name: str, details: list[dict[str, Any]], done: Resynced) -> None:
    """Put the details on the bus, putting again (in batches of 10) what it refuses, ``ATTEMPTS`` times."""
    left = details
    for _ in range(ATTEMPTS):
        refused: list[dict[str, Any]] = []
        for start in range(0, len(left), PUT_EVENTS_ENTRIES):
            chunk = left[start : start + PUT_EVENTS_ENTRIES]
            entries = [
                {"EventBusName": name, "Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(d)}
                for d in chunk
            ]
            answers = bus.put_events(Entries=entries).get("Entries", [])
            refused += [d for d, answer in zip(chunk, answers, strict=True) if answer.get("ErrorCode")]
        done.published += len(left) - len(refused)
        left = refused
        if not left:
            return
    done.failed += [d["eventId"] for d in left]


Bar = Callable[[str, str | None], tuple[Callable[[int], None], Callable[[], None]]]

REFUSED_WITHOUT_EVENTS = (
    "events resync: refused: this stack has no balance events (events = null): there is no bus to publish "
    "to. Turn events on and apply first; docs/events.md says when to resync."
)


def resync_command(outputs: Mapping[str, Any], dynamodb: DynamoDBClient, account: str | None, bar: Bar) -> int:
    """``ledger-ops events resync``: 0 when every summary was published, 1 when some kept failing, 2 refused."""
    feed = outputs.get("events")
    if not feed:
        print(REFUSED_WITHOUT_EVENTS, file=sys.stderr)
        return 2
    table = outputs["summary_table"]["name"]
    tick, close = bar("events resync: publishing", table)
    try:
        done = resync(dynamodb, boto3.client("events"), table, feed, account=account, progress=tick)
    finally:
        close()
    for event_id in done.failed:
        print(f"events resync: {event_id}: PutEvents refused it {ATTEMPTS} times; run again", file=sys.stderr)
    print(
        f"events resync: {done.published} event(s) published, {done.skipped} summary item(s) without a revision "
        f"skipped, {len(done.failed)} failed"
    )
    return 1 if done.failed else 0
