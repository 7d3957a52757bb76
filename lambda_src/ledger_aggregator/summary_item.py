"""The stored summary item: one per ``(accountId, currency)``, in DynamoDB's attribute-value form.

Its attributes: ``accountId`` (partition key), ``currency`` (sort key), ``balance``, ``credits``,
``debits`` (decimal numbers), ``transactionCount``, ``lastTransactionAt`` and ``revision``
(every money write adds 1, see ``ops rebuild``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .domain import Key, Totals

REVISION = "revision"


def summary_key(account_id: str, currency: str) -> dict[str, Any]:
    """The key of the summary item of ``(account_id, currency)``."""
    return {"accountId": {"S": account_id}, "currency": {"S": currency}}


def key_of(item: Mapping[str, Any]) -> Key:
    """The ``(account, currency)`` of a stored summary item."""
    return str(item["accountId"]["S"]), str(item["currency"]["S"])


def stored_totals(item: Mapping[str, Any]) -> Totals:
    """The money totals stored in a summary item."""

    def number(name: str) -> Decimal:
        return Decimal(item.get(name, {"N": "0"})["N"])

    return Totals(number("credits"), number("debits"), int(number("transactionCount")))


def stored_revision(item: Mapping[str, Any] | None) -> int | None:
    """The item's revision; None for no item, or an item no money write has touched."""
    return int(Decimal(item[REVISION]["N"])) if item and REVISION in item else None


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """Every field the API serves of one summary item, as stored."""

    totals: Totals
    balance: Decimal
    last_transaction_at: str | None


def stored_summary(item: Mapping[str, Any]) -> StoredSummary:
    """A summary item's fields; a missing number reads as 0, as the response template renders it."""
    balance = Decimal(item.get("balance", {"N": "0"})["N"])
    latest = item.get("lastTransactionAt", {}).get("S")
    return StoredSummary(stored_totals(item), balance, latest if isinstance(latest, str) else None)
