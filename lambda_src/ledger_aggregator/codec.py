"""Wire formats: the deltas that pattern 2 sends through SQS, and the poison records parked in a DLQ.

A message carries the changes of one ``(account, currency)`` key, each with its
record identity, so that the writer can drop the records it has already
applied. Amounts are decimal strings; JSON numbers are never used for money.
Version 2 added the currency (summaries are kept per currency). Version 3 adds what a change holds (a
hold's row and its capture or release, docs/holds.md) as an eighth element of each change; a delta that holds
nothing is still sent as version 2, and both are read, so that writers and stream functions of either side of
an upgrade understand each other for every ledger without holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .domain import MAX_AMOUNT_DIGITS, Change, Delta, Poison, PoisonRecordError, Totals, currency_places, parse_amount
from .formats import is_account_id, is_canonical_time, is_record_id, is_sequence_number

FORMAT_VERSION = 3
_WITHOUT_HOLDS = 2  # the version of a delta that holds nothing
# A change of held can be two rows' amounts: a hold's row changed in place into its capture, or a release into a
# hold (-2a or +2a), so one digit more than an amount's 15.
_HELD_DIGITS = MAX_AMOUNT_DIGITS + 1
_ROW_LENGTHS = {2: 7, 3: 8}  # a change's elements by format version
# What the stream function writes, and nothing else: the writer refuses any other message or change
# (to the DLQ), with the validators the stream side uses (formats).


@dataclass(frozen=True, slots=True)
class RefusedChange:
    """One change of a message that no stream record can make: parked alone, with why.

    ``row`` is the change as it was sent, ``position`` its place in the message.
    """

    position: int
    row: Any
    error: PoisonRecordError


@dataclass(frozen=True, slots=True)
class Decoded:
    """A message read change by change: the valid changes, and those refused.

    ``marker_ids`` are the identities of every change the message carries, refused ones included, so
    that the message's ``deltaId`` label can be checked over what the stream function sent.
    """

    account_id: str
    currency: str
    changes: tuple[Change, ...]
    refused: tuple[RefusedChange, ...]
    marker_ids: tuple[str, ...]

    @property
    def sent_id(self) -> str:
        """The ``deltaId`` of the message as the stream function sent it (every change, refused or not)."""
        return _id_of(self.account_id, self.currency, self.marker_ids)


def delta_id(delta: Delta) -> str:
    """A deterministic id for a delta: the same records always give the same id."""
    return _id_of(delta.account_id, delta.currency, tuple(c.marker_id for c in delta.changes))


def _id_of(account_id: str, currency: str, marker_ids: tuple[str, ...]) -> str:
    digest = hashlib.sha256(f"{account_id}\x00{currency}".encode())
    for marker_id in marker_ids:
        digest.update(b"\x00" + marker_id.encode())
    return digest.hexdigest()[:32]


def encode(delta: Delta) -> str:
    """Serialise a delta as a queue message body."""
    holds = any(c.totals.held for c in delta.changes)
    rows = [_row(change, holds) for change in delta.changes]
    version = FORMAT_VERSION if holds else _WITHOUT_HOLDS
    body = {"v": version, "accountId": delta.account_id, "currency": delta.currency, "changes": rows}
    return json.dumps(body, separators=(",", ":"))


def _row(c: Change, holds: bool) -> list[Any]:
    t = c.totals
    row: list[Any] = [c.record_id, c.sequence, str(t.credits), str(t.debits), t.count, c.latest_at, c.moved_out]
    return [*row, str(t.held)] if holds else row


def decode(body: str) -> Delta:
    """Parse a queue message body; raises PoisonRecordError when it, or any change in it, is malformed."""
    decoded = decode_changes(body)
    if decoded.refused:
        raise decoded.refused[0].error
    return Delta(decoded.account_id, decoded.currency, decoded.changes)


def decode_changes(body: str) -> Decoded:
    """Parse a queue message body change by change.

    Raises PoisonRecordError when the message as a whole is malformed (not JSON, unknown version, bad
    account or currency, no changes, a change without an identity, a change twice); a change whose
    values no stream record can make is refused alone, so that it never takes the valid ones down.
    """
    try:
        payload = json.loads(body, parse_float=Decimal, parse_int=int)
    except (json.JSONDecodeError, TypeError):
        raise PoisonRecordError("message body is not JSON", "body") from None
    version = payload.get("v") if isinstance(payload, dict) else None
    if type(version) is not int or version not in _ROW_LENGTHS:
        raise PoisonRecordError("message is not a delta of a known version", "v")
    length = _ROW_LENGTHS[version]
    account = payload.get("accountId")
    if not is_account_id(account):
        raise PoisonRecordError("accountId is missing or malformed", "accountId")
    currency = payload.get("currency")
    places = currency_places(currency)
    rows = payload.get("changes")
    if not isinstance(rows, list) or not rows:
        raise PoisonRecordError("changes is missing or empty", "changes")
    marker_ids = tuple(_marker_id(str(currency), row, length) for row in rows)
    if len(set(marker_ids)) != len(marker_ids):
        raise PoisonRecordError("a change appears twice in one message", "changes")
    changes: list[Change] = []
    refused: list[RefusedChange] = []
    for position, row in enumerate(rows):
        try:
            changes.append(_change(str(account), str(currency), places, row))
        except PoisonRecordError as error:
            refused.append(RefusedChange(position, row, error))
    return Decoded(str(account), str(currency), tuple(changes), tuple(refused), marker_ids)


def _marker_id(currency: str, row: Any, length: int) -> str:
    """The identity of a change as sent: what makes it exactly-once, and what the deltaId label covers."""
    if not isinstance(row, list) or len(row) != length:
        raise PoisonRecordError(f"a change is not a {length}-element list", "changes")
    record_id, moved_out = row[0], row[6]
    if not is_record_id(record_id):
        raise PoisonRecordError("a change has a bad record id", "changes")
    if not isinstance(moved_out, bool):
        raise PoisonRecordError("a change has a bad moved-out flag", "changes")
    return f"{record_id}@{currency}" if moved_out else str(record_id)


def _change(account: str, currency: str, places: int, row: list[Any]) -> Change:
    """A change whose identity ``_marker_id`` has checked; its values are checked here."""
    record_id, sequence, credits, debits, count, latest, moved_out, *held = row
    if not is_sequence_number(sequence):
        raise PoisonRecordError("a change has a bad sequence number", "changes")
    if latest is not None and not is_canonical_time(latest):
        raise PoisonRecordError("a change has a bad time", "changes")
    reserved = _money(held[0], places, _HELD_DIGITS) if held else Decimal(0)
    totals = Totals(_money(credits, places), _money(debits, places), _count(count), reserved)
    if not _possible(totals, moved_out, latest):
        raise PoisonRecordError("a change no stream record can make", "changes")
    return Change(record_id, sequence, account, currency, totals, latest, moved_out)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in (-1, 0, 1):
        raise PoisonRecordError("a change's count is not -1, 0 or 1", "changes")
    return value


def _possible(totals: Totals, moved_out: bool, latest: str | None) -> bool:
    """What ``contribution(NEW) - contribution(OLD)`` can be: a row added (count 1, one row's totals), removed
    or moved out (count -1, one row's totals negated), or changed in place (count 0)."""
    if totals.count == 1:
        return not moved_out and _one_row(totals.credits, totals.debits, totals.held)
    if totals.count == -1:
        return latest is None and _one_row(-totals.credits, -totals.debits, -totals.held)
    return not moved_out


def _one_row(credits: Decimal, debits: Decimal, held: Decimal) -> bool:
    """The totals of one row (domain's contribution): a credit, a debit, a hold (held), a capture (a debit out
    of held) or a release (held given up)."""
    if credits:
        return credits > 0 and not debits and not held
    if debits:
        return debits > 0 and held in (0, -debits)
    return held != 0


def _money(value: Any, places: int, digits: int = MAX_AMOUNT_DIGITS) -> Decimal:
    """A decimal string within the currency's places and an amount's digits, or ``digits`` (either sign: a
    change can subtract)."""
    if not isinstance(value, str):
        raise PoisonRecordError("an amount is not a decimal string", "changes")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise PoisonRecordError("an amount is not a decimal string", "changes") from None
    if not amount.is_finite():
        raise PoisonRecordError("an amount is not finite", "changes")
    if amount and parse_amount(str(abs(amount)), places, digits) != abs(amount):
        raise PoisonRecordError("an amount is out of range", "changes")
    return amount


POISON_KIND = "poison-record"  # the ``kind`` of a parked poison record's message


@dataclass(frozen=True, slots=True)
class ParkedPoison:
    """A poison record as a DLQ message carries it: where it was parked from, why, and the record."""

    source: str  # "stream", "queue" (a buffer message the writer refused) or "replay"
    reason: str
    field: str | None
    record_id: str
    sequence: str | None
    record: Any


def encode_poison(poison: Poison, source: str) -> str:
    """The DLQ message body of a poison record parked from ``source``."""
    body = {
        "kind": POISON_KIND,
        "source": source,
        "reason": poison.reason,
        "field": poison.field,
        "recordId": poison.record_id,
        "sequenceNumber": poison.sequence,
        "record": poison.record,
    }
    return json.dumps(body, default=str, sort_keys=True)


def decode_poison(body: Mapping[str, Any]) -> ParkedPoison | None:
    """A parked poison record from a DLQ message's parsed body, or None when the body is not one."""
    if body.get("kind") != POISON_KIND:
        return None
    return ParkedPoison(
        source=str(body.get("source", "stream")),
        reason=str(body.get("reason", "")),
        field=body.get("field"),
        record_id=str(body.get("recordId", "")),
        sequence=body.get("sequenceNumber"),
        record=body.get("record"),
    )
