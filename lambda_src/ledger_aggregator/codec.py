"""Wire format of the deltas that pattern 2 sends through SQS.

A message carries the changes of one ``(account, currency)`` key, each with its
record identity, so that the writer can drop the records it has already
applied. Amounts are decimal strings; JSON numbers are never used for money.
Version 2 added the currency (summaries are kept per currency).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from .domain import ACCOUNT_ID_PATTERN, Change, Delta, PoisonRecordError, Totals, currency_places

FORMAT_VERSION = 2
_ROW_LENGTH = 7


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
    currency_places(currency)
    rows = payload.get("changes")
    if not isinstance(rows, list) or not rows:
        raise PoisonRecordError("changes is missing or empty", "changes")
    return Delta(account, str(currency), tuple(_change(account, str(currency), row) for row in rows))


def _change(account: str, currency: str, row: Any) -> Change:
    if not isinstance(row, list) or len(row) != _ROW_LENGTH:
        raise PoisonRecordError(f"a change is not a {_ROW_LENGTH}-element list", "changes")
    record_id, sequence, credits, debits, count, latest, moved_out = row
    if not isinstance(record_id, str) or not record_id or not isinstance(count, int) or isinstance(count, bool):
        raise PoisonRecordError("a change has a bad record id or count", "changes")
    if latest is not None and not isinstance(latest, str):
        raise PoisonRecordError("a change has a bad time", "changes")
    if not isinstance(moved_out, bool):
        raise PoisonRecordError("a change has a bad moved-out flag", "changes")
    totals = Totals(_money(credits), _money(debits), count)
    return Change(record_id, str(sequence), account, currency, totals, latest, moved_out)


def _money(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise PoisonRecordError("an amount is not a decimal string", "changes")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise PoisonRecordError("an amount is not a decimal string", "changes") from None
    if not amount.is_finite():
        raise PoisonRecordError("an amount is not finite", "changes")
    return amount
