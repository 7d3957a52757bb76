"""Holds (docs/holds.md), the rules that code outside the mapping templates shares: what an open hold's item
says, when a hold has expired, and the key of the row that releases it.

Pure: no boto3, no Powertools. The templates hold every rule of a hold's making, capture and void as
conditions of one DynamoDB transaction; the sweeper and ``ledger-ops holds expire`` release the funds of an
expired hold in the same way (``adapters/holds.py``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .items import HOLD_NAMES

# A hold is released at most once, by a void or by its expiry, into the row keyed "<holdId>.release": "." is
# in no id a client or the gateway makes (ids.json), so no other row can take that key.
RELEASE_SUFFIX = ".release"
# The sparse index of open holds is partitioned by the last character of the account id (an id is of
# [A-Za-z0-9_-]): the sweeper reads every shard.
SHARDS = tuple(string.ascii_letters + string.digits + "_-")
OPEN = "open"


@dataclass(frozen=True, slots=True)
class OpenHold:
    """An open hold, as its item in the holds table says.

    Attributes:
        account: the payer, whose balance item holds the funds.
        hold_id: the hold's id among the account's ids.
        currency: the currency reserved.
        remaining: what the hold still reserves.
        expires_at_ms: epoch milliseconds from which no capture is taken.
    """

    account: str
    hold_id: str
    currency: str
    remaining: Decimal
    expires_at_ms: int

    def expired(self, now_ms: int) -> bool:
        """True from the hold's expiry on: a capture at ``now_ms`` is refused, and its funds may be released."""
        return self.expires_at_ms <= now_ms

    @property
    def release_id(self) -> str:
        """The key of the row that releases what remains of the hold (in the payer's details)."""
        return release_id(self.hold_id)


def release_id(hold_id: str) -> str:
    """The details row key of a hold's release."""
    return f"{hold_id}{RELEASE_SUFFIX}"


def open_hold(item: Mapping[str, Any]) -> OpenHold:
    """The open hold a holds-table item (DynamoDB's typed JSON) describes.

    Raises:
        ValueError: the item is not an open hold with a positive remaining, an integer expiry and text keys.
    """
    n = HOLD_NAMES

    def text(placeholder: str) -> str:
        value = item.get(n[placeholder], {}).get("S")
        if not isinstance(value, str) or not value:
            raise ValueError(f"hold item without {n[placeholder]}")
        return value

    if text("st") != OPEN:
        raise ValueError(f"hold {text('id')} is {text('st')}, not open")
    try:
        remaining = Decimal(item[n["rm"]]["N"])
        expires = int(item[n["ex"]]["N"])
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise ValueError(f"hold {text('id')}: remaining or expiresAt is not a number") from error
    if not remaining.is_finite() or remaining <= 0:
        raise ValueError(f"hold {text('id')}: an open hold's remaining must be above 0, not {remaining}")
    return OpenHold(text("ac"), text("id"), text("cu"), remaining, expires)
