"""Balance events: the detail that one committed change of a summary item publishes.

Pure (no AWS library): from the old and new images of a summary item, as the summary table's stream
carries them (DynamoDB JSON), to the event's detail. Every money write of the fold adds 1 to the item's
``revision`` in the same transaction as its applied markers, so one stream record whose revision rose is
one committed change; ``(accountId, currency, revision)`` is the id a consumer deduplicates on.

``ledger-ops rebuild`` writes a summary as a money write too (revision + 1), and marks it: it sets
``correctedRevision`` to the revision it writes. The fold never writes that attribute and its next write
raises the revision past it, so a change is a correction exactly when the two are equal.

Amounts are decimal strings with their currency's minor unit, as the API writes them ("80.50" EUR,
"5000" JPY); an amount that cannot be written so without changing it is written as stored, never rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .currencies import minor_units
from .summary_item import (
    BALANCE,
    COUNT,
    CREDITS,
    DEBITS,
    HELD,
    LAST_TRANSACTION_AT,
    REVISION,
    key_of,
    stored_revision,
)

SOURCE = "cqrs-ledger"
DETAIL_TYPE = "Balance Changed"
CORRECTED_REVISION = "correctedRevision"  # set by ledger-ops rebuild to the revision it writes

Image = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """One committed change of a summary item: its key, the revisions and the images either side."""

    account_id: str
    currency: str
    revision: int
    previous_revision: int | None
    before: Image | None
    after: Image

    @property
    def event_id(self) -> str:
        """The id a consumer deduplicates on: the same change always has the same id."""
        return f"{self.account_id}:{self.currency}:{self.revision}"

    @property
    def is_correction(self) -> bool:
        """Whether ``ledger-ops rebuild`` wrote this revision."""
        marked = self.after.get(CORRECTED_REVISION, {}).get("N")
        return marked is not None and int(marked) == self.revision


def committed_change(old: Image | None, new: Image | None) -> BalanceChange | None:
    """The change between two images of a summary item, or None when no money write made it.

    A change is a money write when the new image holds a revision higher than the old one's (an item
    removed, or written without a new revision, publishes nothing).
    """
    revision = stored_revision(new)
    if new is None or revision is None:
        return None
    previous = stored_revision(old)
    if previous is not None and revision <= previous:
        return None
    account_id, currency = key_of(new)
    return BalanceChange(account_id, currency, revision, previous, old if previous is not None else None, new)


def format_amount(amount: Decimal, currency: str) -> str:
    """``amount`` with ``currency``'s minor unit ("80.5" EUR -> "80.50"); as stored when that would change it."""
    places = minor_units().get(currency)
    if places is None or not amount.is_finite():
        return str(amount)
    written = amount.quantize(Decimal(1).scaleb(-places)) if places else amount.quantize(Decimal(1))
    return f"{written:f}" if written == amount else str(amount)


def _totals(image: Image | None, currency: str) -> dict[str, Any] | None:
    if image is None:
        return None

    def number(name: str) -> Decimal:
        return Decimal(image.get(name, {"N": "0"})["N"])

    return {
        "balance": format_amount(number(BALANCE), currency),
        "credits": format_amount(number(CREDITS), currency),
        "debits": format_amount(number(DEBITS), currency),
        "held": format_amount(number(HELD), currency),
        "transactionCount": int(number(COUNT)),
    }


def event_detail(change: BalanceChange, deployment: str) -> dict[str, Any]:
    """The event's ``detail``: the key, the revisions, the totals before and after, and the deployment."""
    last = change.after.get(LAST_TRANSACTION_AT, {}).get("S")
    return {
        "eventId": change.event_id,
        "deployment": deployment,
        "accountId": change.account_id,
        "currency": change.currency,
        "revision": change.revision,
        "previousRevision": change.previous_revision,
        "correction": change.is_correction,
        "resync": False,
        "before": _totals(change.before, change.currency),
        "after": _totals(change.after, change.currency),
        "lastTransactionAt": last,
    }


def resync_detail(item: Image, deployment: str) -> dict[str, Any] | None:
    """The detail of a resync event (``ledger-ops events resync``): a summary item's state at its revision.

    Its id is the id of the change that made that state, so a consumer that received the change drops it
    as a duplicate, and one that did not takes it; ``resync`` marks it, and it has no previous revision and
    no ``before``: it is a baseline, below which nothing matters. None for an item no money write touched.
    """
    revision = stored_revision(item)
    if revision is None:
        return None
    account_id, currency = key_of(item)
    state = BalanceChange(account_id, currency, revision, None, None, item)
    return {**event_detail(state, deployment), "correction": False, "resync": True}


__all__ = [
    "CORRECTED_REVISION",
    "DETAIL_TYPE",
    "REVISION",
    "SOURCE",
    "BalanceChange",
    "committed_change",
    "event_detail",
    "format_amount",
    "resync_detail",
]
