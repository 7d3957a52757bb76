"""What a listing of transactions must return, judged from the rows that were written (docs/api.md, Listing)."""

from __future__ import annotations

from collections.abc import Iterable


def in_booking_order(listed: list[str], rows: Iterable[tuple[int, str]], newest_first: bool) -> bool:
    """Whether ``listed`` holds each of ``rows`` (recordedAt, transactionId) once, and nothing else, in
    booking order. Rows booked in the same millisecond may come in either order: DynamoDB documents no
    order among items of one sort key value in a global secondary index."""
    booked = dict((ident, at) for at, ident in rows)
    if sorted(listed) != sorted(booked):
        return False
    times = [booked[ident] for ident in listed]
    return times == sorted(times, reverse=newest_first)
