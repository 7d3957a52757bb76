"""Day-close events: the detail that one day close, written to the history table, publishes.

Pure (no AWS library): from a close item, as the history table's stream carries it (DynamoDB JSON), to the
event's detail. A day close is written once, create-only, and never rewritten (docs/history.md), so one
stream record that inserts a day close is one event; ``accountId:currency:day`` is the id a consumer
deduplicates on, since the Pipe delivers at least once.

Amounts are written as the balance events write them (``balance_events.format_amount``: the currency's
minor unit, never rounded). An item that is not a valid day close (a month close, a key's first-row item,
a malformed or inconsistent close) raises ``HistoryError``: the Pipe's filter passes day closes only, so
such an item is a fault to see, and the Pipe retries its batch, then parks it in its dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from .balance_events import SOURCE, format_amount
from .currencies import minor_units
from .formats import is_account_id
from .history import HistoryError
from .history_item import COUNT, close_of

DETAIL_TYPE = "Day Closed"
INSERT = "INSERT"

Image = Mapping[str, Any]


def from_history(record: Mapping[str, Any], history_table_arn: str) -> bool:
    """Whether a stream record comes from the history table's stream (its ``eventSourceARN`` is the table's
    stream ARN, ``<table ARN>/stream/<label>``, or the table's own ARN)."""
    source = record.get("eventSourceARN")
    return isinstance(source, str) and (
        source == history_table_arn or source.startswith(f"{history_table_arn}/stream/")
    )


def is_new_close(record: Mapping[str, Any]) -> bool:
    """Whether a history stream record writes a close (an insert): a close is never modified, and neither a
    change nor a removal by hand publishes anything."""
    return record.get("eventName") == INSERT


def day_close_detail(item: Image, deployment: str) -> dict[str, Any]:
    """The event's ``detail`` for a day close item; HistoryError when the item is not a valid day close."""
    close = close_of(item)
    key = f"{close.account_id}/{close.currency}#{close.period}"
    if not is_account_id(close.account_id):
        raise HistoryError(f"{key}: the accountId is not one the API accepts")
    if close.currency not in minor_units():
        raise HistoryError(f"{key}: {close.currency!r} is not an active ISO 4217 currency")
    if not close.is_day or not _is_iso_day(close.period):
        raise HistoryError(f"{key}: not a day close")
    if close.totals.count < 0 or Decimal(item[COUNT]["N"]) != close.totals.count:
        raise HistoryError(f"{key}: transactionCount is not a whole number of rows")

    def amount(value: Decimal) -> str:
        return format_amount(value, close.currency)

    return {
        "eventId": f"{close.account_id}:{close.currency}:{close.period}",
        "deployment": deployment,
        "accountId": close.account_id,
        "currency": close.currency,
        "day": close.period,
        "opening": amount(close.opening),
        "credits": amount(close.totals.credits),
        "debits": amount(close.totals.debits),
        "closing": amount(close.closing),
        "transactionCount": close.totals.count,
    }


def _is_iso_day(period: str) -> bool:
    try:
        return date.fromisoformat(period).isoformat() == period
    except ValueError:
        return False


__all__ = ["DETAIL_TYPE", "SOURCE", "day_close_detail", "from_history", "is_new_close"]
