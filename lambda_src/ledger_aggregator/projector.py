"""Pure orchestration of one batch: coalesce, apply, and decide what failed.

The projector knows nothing of Lambda or AWS. It is given the batch's changes,
each tagged with the event-source item it came from (a stream record's
sequence number, an SQS message id), and reports the items that must be
retried. An item fails when any change it carries is not yet reflected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .codec import Decoded, decode_changes
from .domain import Change, Poison, PoisonRecordError, coalesce, parse_batch
from .ports import ApplyResult, Deliver, PoisonSink


@dataclass(frozen=True, slots=True)
class Tagged:
    """A change and the event-source item that delivered it."""

    item: str
    change: Change


@dataclass(frozen=True, slots=True)
class PoisonItem:
    """A poison record and the event-source item that delivered it."""

    item: str
    poison: Poison


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of projecting one batch."""

    failed_items: frozenset[str]
    records: int
    applied: int
    duplicates: int
    writes: int
    deltas: int  # deltas handled whole (written, or published in pattern 2)
    poison_parked: int
    throttled: int
    errors: tuple[str, ...]


def project(
    changes: Sequence[Tagged],
    poison: Sequence[PoisonItem],
    deliver: Deliver,
    poison_sink: PoisonSink | None,
    source: str,
) -> Outcome:
    """Hand a batch's deltas to ``deliver`` (written, or published) and park its poison; report failed
    items."""
    items_of: dict[str, set[str]] = {}
    for tagged in changes:
        items_of.setdefault(tagged.change.record_id, set()).add(tagged.item)
    deltas = coalesce(t.change for t in changes)
    results = deliver(deltas) if deltas else []
    failed: set[str] = set()
    for delta, result in zip(deltas, results, strict=True):
        if not result.ok:
            for record_id in delta.record_ids:
                failed |= items_of[record_id]
    parked = _park(poison, poison_sink, source)
    failed |= {p.item for p in poison if p.poison.record_id not in parked}
    return _outcome(failed, len(items_of), results, len(parked))


def _park(poison: Sequence[PoisonItem], sink: PoisonSink | None, source: str) -> set[str]:
    if not poison or sink is None:
        return set()
    return sink.park([p.poison for p in poison], source)


def _outcome(failed: set[str], records: int, results: Sequence[ApplyResult], parked: int) -> Outcome:
    return Outcome(
        failed_items=frozenset(failed),
        records=records,
        applied=sum(r.applied for r in results),
        duplicates=sum(r.duplicates for r in results),
        writes=sum(r.writes for r in results),
        deltas=sum(1 for r in results if r.ok),
        poison_parked=parked,
        throttled=sum(1 for r in results if r.throttled),
        errors=tuple(f"{r.label}: {r.error}" for r in results if r.error),
    )


def stream_items(records: Sequence[Mapping[str, Any]]) -> tuple[list[Tagged], list[PoisonItem]]:
    """Tag a stream batch: each change and poison record is its own item (its ``eventID``)."""
    parsed = parse_batch(records)
    return [Tagged(c.record_id, c) for c in parsed.changes], [PoisonItem(p.record_id, p) for p in parsed.poison]


def queue_items(messages: Sequence[Mapping[str, Any]]) -> tuple[list[Tagged], list[PoisonItem]]:
    """Tag an SQS batch: every change of a message is tagged with its ``messageId``.

    A message that cannot be read as a whole is one poison item. A change that no stream record can make
    is parked alone (as ``<messageId>/<position>``), and the message's other changes are applied.
    """
    changes: list[Tagged] = []
    poison: list[PoisonItem] = []
    for message in messages:
        message_id = str(message.get("messageId", ""))
        try:
            decoded = decode_changes(str(message.get("body", "")))
            _check_delta_id(message, decoded)
        except PoisonRecordError as error:
            poison.append(PoisonItem(message_id, Poison(message_id, "", error.reason, error.field, message)))
            continue
        changes.extend(Tagged(message_id, change) for change in decoded.changes)
        poison.extend(_refused_changes(message, message_id, decoded))
    return changes, poison


def _refused_changes(message: Mapping[str, Any], message_id: str, decoded: Decoded) -> list[PoisonItem]:
    """Each refused change as its own poison, parked with the message's key and the change as sent."""
    found = []
    for refused in decoded.refused:
        alone = {"accountId": decoded.account_id, "currency": decoded.currency, "change": refused.row}
        record = {"messageId": message_id, "body": message.get("body"), "refusedChange": alone}
        poison_id = f"{message_id}/{refused.position}"
        found.append(PoisonItem(message_id, Poison(poison_id, "", refused.error.reason, refused.error.field, record)))
    return found


def _check_delta_id(message: Mapping[str, Any], decoded: Decoded) -> None:
    """The stream function labels each message with its delta's id; a label that does not match is refused."""
    label = (message.get("messageAttributes") or {}).get("deltaId") or {}
    given = label.get("stringValue") if isinstance(label, dict) else None
    if given is not None and given != decoded.sent_id:
        raise PoisonRecordError("the deltaId attribute does not match the message", "deltaId")
