"""The stored summary item: one per ``(accountId, currency)``, in DynamoDB's attribute-value form.

Its attributes: ``accountId`` (partition key), ``currency`` (sort key), ``balance``, ``credits``,
``debits``, ``held`` (decimal numbers; ``held`` is absent until a hold's row is folded, and absent reads as 0),
``transactionCount``, ``lastTransactionAt`` and ``revision``.

The revision: every money write adds 1 to it (``ledger-ops rebuild`` reads it to tell "nothing applied
since I read" from "what was applied summed to zero"), and the balance events name each change by it
(``balance_events``). It never repeats for a key, whoever creates the item (a writer, a rebuild, a replay)
and however often it is deleted: when a write creates the item, the revision starts from the creation
time in microseconds (``revision_floor``), which no earlier item of the key can have reached, since an item
takes at most 1,000 writes a second (a partition's limit) while the clock adds 1,000,000 a second. So a
later item of a key also has higher revisions than any earlier one, as long as the clocks of the two
creators agree within the time between the two creations (see ``docs/events.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .domain import Key, Totals

ACCOUNT, CURRENCY = "accountId", "currency"
BALANCE, CREDITS, DEBITS, COUNT = "balance", "credits", "debits", "transactionCount"
HELD = "held"
LAST_TRANSACTION_AT = "lastTransactionAt"
REVISION = "revision"
SERVED = (CURRENCY, BALANCE, CREDITS, DEBITS, HELD, COUNT, LAST_TRANSACTION_AT)  # what GET .../summary answers
# The revision after a money write: raised by 1, from the floor when the write creates the item; the SET
# action of every money write is REVISION_RAISE.
REVISION_AFTER = "if_not_exists(#r, :floor) + :one"
REVISION_RAISE = f"#r = {REVISION_AFTER}"
MICROSECONDS = 1_000_000


def revision_floor(now: float) -> int:
    """What the revision of an item created at ``now`` (epoch seconds) starts from: the time in microseconds."""
    return int(now * MICROSECONDS)


def money_names(totals: Totals) -> dict[str, str]:
    """Placeholders of the money attributes and the revision, for an update expression; ``#h`` (held) only
    when ``totals`` hold some, so that a ledger without holds never stores the attribute."""
    names = {"#b": BALANCE, "#c": CREDITS, "#d": DEBITS, "#n": COUNT, "#r": REVISION}
    return {**names, "#h": HELD} if totals.held else names


def money_values(totals: Totals, now: float) -> dict[str, Any]:
    """Values for ``money_names`` and ``REVISION_RAISE``: the totals (balance = credits - debits), the
    revision's step and the floor it starts from if the write creates the item at ``now``."""
    values = {
        ":b": {"N": str(totals.balance)},
        ":c": {"N": str(totals.credits)},
        ":d": {"N": str(totals.debits)},
        ":n": {"N": str(totals.count)},
        ":one": {"N": "1"},
        ":floor": {"N": str(revision_floor(now))},
    }
    return {**values, ":h": {"N": str(totals.held)}} if totals.held else values


def money_add(totals: Totals) -> str:
    """The ADD action of a fold's money write, over ``money_names`` and ``money_values`` of the same totals."""
    return "ADD #b :b, #c :c, #d :d, #n :n" + (", #h :h" if totals.held else "")


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

    return Totals(number(CREDITS), number(DEBITS), int(number(COUNT)), number(HELD))


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
