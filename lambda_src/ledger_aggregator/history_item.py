"""The stored close item: one per ``(accountId, currency, period)``, in DynamoDB's attribute-value form.

Keys: ``accountId`` (partition key) and ``period`` (sort key, ``CURRENCY#YYYY-MM-DD`` for a day,
``CURRENCY#YYYY-MM`` for a month). A month's item sorts just before its days, so one Query answers a month's
statement, its totals and its day lines together (docs/history.md). Attributes: ``currency``, ``opening``,
``credits``, ``debits``, ``closing`` (decimal numbers), ``transactionCount`` and ``closedAt`` (epoch
milliseconds of the write, for people: a close's numbers never depend on when it was made).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .domain import Key, Totals
from .history import Close, HistoryError

ACCOUNT, PERIOD, CURRENCY = "accountId", "period", "currency"
OPENING, CREDITS, DEBITS, CLOSING, COUNT, CLOSED_AT = (
    "opening",
    "credits",
    "debits",
    "closing",
    "transactionCount",
    "closedAt",
)
CREATE_ONLY = f"attribute_not_exists({PERIOD})"
# A key's first-row item: ``period`` is ``CURRENCY#`` (it sorts before every close of the key), and
# ``firstBookedAt`` the recordedAt of the key's first valid row (or, until it is found, ``searchedThrough``),
# so that the search for it, which may read much of an account's history, reads each row once.
FIRST_BOOKED = "firstBookedAt"
SEARCHED_THROUGH = "searchedThrough"  # until the first row is found: the sealed time searched up to


def first_key(account: str, currency: str) -> dict[str, Any]:
    """The primary key of a key's first-row item."""
    return {ACCOUNT: {"S": account}, PERIOD: {"S": f"{currency}#"}}


def is_first_item(item: Mapping[str, Any]) -> bool:
    """True for a key's first-row item (not a close)."""
    period = item.get(PERIOD, {}).get("S")
    return isinstance(period, str) and period.endswith("#")


def period_key(currency: str, period: str) -> str:
    """The sort key of a close: ``USD#2026-12-05`` or ``USD#2026-12``."""
    return f"{currency}#{period}"


def item_key(account: str, currency: str, period: str) -> dict[str, Any]:
    """The primary key of a close item."""
    return {ACCOUNT: {"S": account}, PERIOD: {"S": period_key(currency, period)}}


def close_item(close: Close, closed_at_ms: int) -> dict[str, Any]:
    """The item a close is written as."""
    return {
        **item_key(close.account_id, close.currency, close.period),
        CURRENCY: {"S": close.currency},
        OPENING: {"N": str(close.opening)},
        CREDITS: {"N": str(close.totals.credits)},
        DEBITS: {"N": str(close.totals.debits)},
        CLOSING: {"N": str(close.closing)},
        COUNT: {"N": str(close.totals.count)},
        CLOSED_AT: {"N": str(closed_at_ms)},
    }


def _number(item: Mapping[str, Any], name: str) -> Decimal:
    try:
        return Decimal(item[name]["N"])
    except (KeyError, TypeError, InvalidOperation):
        raise HistoryError(f"{name} is missing or not a number") from None


def close_of(item: Mapping[str, Any]) -> Close:
    """The close an item holds; HistoryError when it is malformed or its closing is not opening + credits - debits."""
    try:
        account, sort_key = item[ACCOUNT]["S"], item[PERIOD]["S"]
    except (KeyError, TypeError):
        raise HistoryError("accountId or period is missing") from None
    currency, _, period = sort_key.partition("#")
    count = _number(item, COUNT)
    close = Close(
        account,
        currency,
        period,
        _number(item, OPENING),
        Totals(_number(item, CREDITS), _number(item, DEBITS), int(count)),
    )
    if _number(item, CLOSING) != close.closing:
        raise HistoryError(f"{account}/{sort_key}: closing is not opening + credits - debits")
    return close


def key_of(close: Close) -> Key:
    """The ``(account, currency)`` a close belongs to."""
    return close.account_id, close.currency
