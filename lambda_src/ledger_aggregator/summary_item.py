"""The stored summary item: one per ``(accountId, currency)``, in DynamoDB's attribute-value form.

Its attributes: ``accountId`` (partition key), ``currency`` (sort key), ``balance``, ``credits``,
``debits`` (decimal numbers), ``transactionCount``, ``lastTransactionAt`` and ``revision``
(every money write adds 1, see ``ledger-ops rebuild``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .domain import Key, Totals

ACCOUNT, CURRENCY = "accountId", "currency"
BALANCE, CREDITS, DEBITS, COUNT = "balance", "credits", "debits", "transactionCount"
LAST_TRANSACTION_AT = "lastTransactionAt"
REVISION = "revision"
SERVED = (CURRENCY, BALANCE, CREDITS, DEBITS, COUNT, LAST_TRANSACTION_AT)  # what GET .../summary answers


def money_names() -> dict[str, str]:
    """Placeholders of the money attributes and the revision, for an update expression."""
    return {"#b": BALANCE, "#c": CREDITS, "#d": DEBITS, "#n": COUNT, "#r": REVISION}


def money_values(totals: Totals) -> dict[str, Any]:
    """Values for ``money_names``: the totals (balance = credits - debits) and 1, the revision's step."""
    return {
        ":b": {"N": str(totals.balance)},
        ":c": {"N": str(totals.credits)},
        ":d": {"N": str(totals.debits)},
        ":n": {"N": str(totals.count)},
        ":one": {"N": "1"},
    }


def summary_key(account_id: str, currency: str) -> dict[str, Any]:
    """The key of the summary item of ``(account_id, currency)``."""
    return {ACCOUNT: {"S": account_id}, CURRENCY: {"S": currency}}


def key_of(item: Mapping[str, Any]) -> Key:
    """The ``(account, currency)`` of a stored summary item."""
    return str(item[ACCOUNT]["S"]), str(item[CURRENCY]["S"])


def stored_totals(item: Mapping[str, Any]) -> Totals:
    """The money totals stored in a summary item."""

    def number(name: str) -> Decimal:
        return Decimal(item.get(name, {"N": "0"})["N"])

    return Totals(number(CREDITS), number(DEBITS), int(number(COUNT)))


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
    balance = Decimal(item.get(BALANCE, {"N": "0"})["N"])
    latest = item.get(LAST_TRANSACTION_AT, {}).get("S")
    return StoredSummary(stored_totals(item), balance, latest if isinstance(latest, str) else None)
