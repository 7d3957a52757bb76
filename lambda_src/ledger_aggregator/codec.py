"""Wire format of the deltas that pattern 2 sends through SQS.

A message carries the changes of one ``(account, currency)`` key, each with its
record identity, so that the writer can drop the records it has already
applied. Amounts are decimal strings; JSON numbers are never used for money.
Version 2 added the currency (summaries are kept per currency).
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .domain import ACCOUNT_ID_PATTERN, Change, Delta, PoisonRecordError, Totals, currency_places, parse_amount

FORMAT_VERSION = 2
_ROW_LENGTH = 7
# What the stream function writes, and nothing else: the writer refuses any other message (to its DLQ).
_RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_SEQUENCE = re.compile(r"^[0-9]{1,48}$")
_CANONICAL_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")


def delta_id(delta: Delta) -> str:
    """A deterministic id for a delta: the same records always give the same id."""
    digest = hashlib.sha256(f"{delta.account_id}\x00{delta.currency}".encode())
    for change in delta.changes:
        digest.update(b"\x00" + change.marker_id.encode())
    return digest.hexdigest()[:32]


def encode(delta: Delta) -> str:
    """Serialise a delta as a queue message body."""
    rows = [
        [c.record_id, c.sequence, str(c.totals.credits), str(c.totals.debits), c.totals.count, c.latest_at, c.moved_out]
        for c in delta.changes
    ]
    body = {"v": FORMAT_VERSION, "accountId": delta.account_id, "currency": delta.currency, "changes": rows}
    return json.dumps(body, separators=(",", ":"))


def decode(body: str) -> Delta:
    """Parse a queue message body; raises PoisonRecordError when it is malformed."""
    try:
        payload = json.loads(body, parse_float=Decimal, parse_int=int)
    except (json.JSONDecodeError, TypeError):
        raise PoisonRecordError("message body is not JSON", "body") from None
    if not isinstance(payload, dict) or payload.get("v") != FORMAT_VERSION:
        raise PoisonRecordError("message is not a delta of a known version", "v")
    account = payload.get("accountId")
    if not isinstance(account, str) or not ACCOUNT_ID_PATTERN.match(account):
        raise PoisonRecordError("accountId is missing or malformed", "accountId")
    currency = payload.get("currency")
    places = currency_places(currency)
    rows = payload.get("changes")
    if not isinstance(rows, list) or not rows:
        raise PoisonRecordError("changes is missing or empty", "changes")
    changes = tuple(_change(account, str(currency), places, row) for row in rows)
    if len({c.marker_id for c in changes}) != len(changes):
        raise PoisonRecordError("a change appears twice in one message", "changes")
    return Delta(account, str(currency), changes)


def _change(account: str, currency: str, places: int, row: Any) -> Change:
    if not isinstance(row, list) or len(row) != _ROW_LENGTH:
        raise PoisonRecordError(f"a change is not a {_ROW_LENGTH}-element list", "changes")
    record_id, sequence, credits, debits, count, latest, moved_out = row
    if not isinstance(record_id, str) or not _RECORD_ID.match(record_id):
        raise PoisonRecordError("a change has a bad record id", "changes")
    if not isinstance(sequence, str) or not _SEQUENCE.match(sequence):
        raise PoisonRecordError("a change has a bad sequence number", "changes")
    if latest is not None and (not isinstance(latest, str) or not _CANONICAL_TIME.match(latest)):
        raise PoisonRecordError("a change has a bad time", "changes")
    if not isinstance(moved_out, bool):
        raise PoisonRecordError("a change has a bad moved-out flag", "changes")
    totals = Totals(_money(credits, places), _money(debits, places), _count(count))
    if not _possible(totals, moved_out, latest):
        raise PoisonRecordError("a change no stream record can make", "changes")
    return Change(record_id, sequence, account, currency, totals, latest, moved_out)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in (-1, 0, 1):
        raise PoisonRecordError("a change's count is not -1, 0 or 1", "changes")
    return value


def _possible(totals: Totals, moved_out: bool, latest: str | None) -> bool:
    """What ``contribution(NEW) - contribution(OLD)`` can be: a row added (count 1, amounts not negative),
    removed or moved out (count -1, amounts not positive), or changed in place (count 0)."""
    if totals.count == 1:
        return not moved_out and totals.credits >= 0 and totals.debits >= 0 and not totals.is_zero()
    if totals.count == -1:
        return latest is None and totals.credits <= 0 and totals.debits <= 0 and not totals.is_zero()
    return not moved_out


def _money(value: Any, places: int) -> Decimal:
    """A decimal string within the currency's places and 15 digits (either sign: a change can subtract)."""
    if not isinstance(value, str):
        raise PoisonRecordError("an amount is not a decimal string", "changes")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise PoisonRecordError("an amount is not a decimal string", "changes") from None
    if not amount.is_finite():
        raise PoisonRecordError("an amount is not finite", "changes")
    if amount and parse_amount(str(abs(amount)), places) != abs(amount):
        raise PoisonRecordError("an amount is out of range", "changes")
    return amount
