"""Pure history core: day and month closes of an ``(account, currency)``, as folds of its booked rows.

Nothing here imports boto3 or Powertools. A row's *booking day* is the UTC calendar day of its
``recordedAt`` (epoch milliseconds: when API Gateway received the write), never of the client's
``occurredAt``: a day once sealed can gain no row, so its close never changes. A backdated row is booked
on the day it reached the ledger, and a correction is a new row on a later day (docs/history.md).

Vocabulary
----------
*Day close*
    One ``(account, currency, day)``: its opening balance, the credits, debits and count of the valid
    rows booked that day, and its closing balance (opening + credits - debits). Closes are *dense*: once an
    ``(account, currency)`` has a first booked row, every later sealed day has a close, with or without
    rows, so that a day's close exists exactly when the day is closed for it.
*Month close*
    The same for a calendar month: the first day close's opening, the sum of the days, the last's closing.
*Sealed*
    A day no row can still be booked in: ``margin`` after its end (the API's integration timeout plus an
    allowance for the index the closer reads to catch up; modules/history computes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .domain import ZERO, PoisonRecordError, Totals, contribution_of, valid_rows

DAY_MS = 86_400_000
_MAX_MS_DIGITS = 15
_EPOCH = date(1970, 1, 1)


class HistoryError(ValueError):
    """A close that cannot be made from what it was given (a gap, or days of another key)."""


def day_of(recorded_ms: int) -> date:
    """The UTC day an epoch-millisecond instant falls on."""
    return _EPOCH + timedelta(days=recorded_ms // DAY_MS)


def day_start_ms(day: date) -> int:
    """The first epoch millisecond of a UTC day."""
    return (day - _EPOCH).days * DAY_MS


def sealed_through(now_ms: int, margin_ms: int) -> date:
    """The last day sealed at ``now_ms``: its end lies at least ``margin_ms`` in the past."""
    return day_of(now_ms - margin_ms) - timedelta(days=1)


def days(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def month_of(day: date) -> str:
    """``YYYY-MM`` of a day."""
    return day.isoformat()[:7]


def is_month_end(day: date) -> bool:
    """True for the last day of a calendar month."""
    return (day + timedelta(days=1)).day == 1


def recorded_ms(row: Mapping[str, Any]) -> int | None:
    """A details row's ``recordedAt`` in epoch milliseconds; None when missing, not a whole number, or longer than
    15 digits (the listing's bound: the year 33658), so that every booking day is a date Python can hold."""
    value = row.get("recordedAt")
    text = value.get("N") if type(value) is dict else None
    if type(text) is not str or not text.isdigit() or len(text) > _MAX_MS_DIGITS:
        return None
    return int(text)


def key_of_row(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """The ``(account, currency)`` a valid row counts in; None for a row the fold refuses."""
    try:
        part = contribution_of(row)
    except PoisonRecordError:
        return None
    return part.account_id, part.currency


def keys_of(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The ``(account, currency)`` keys of the valid rows, sorted."""
    return sorted({key for key in map(key_of_row, rows) if key is not None})


def valid_in(row: Mapping[str, Any], key: tuple[str, str]) -> bool:
    """True when a row is valid (the fold counts it) and of the key's account and currency."""
    return key_of_row(row) == key


@dataclass(frozen=True, slots=True)
class Close:
    """The close of one ``(account, currency)`` over one period: a day (``YYYY-MM-DD``) or a month (``YYYY-MM``)."""

    account_id: str
    currency: str
    period: str
    opening: Decimal
    totals: Totals

    @property
    def closing(self) -> Decimal:
        """The balance at the period's end: opening plus credits less debits."""
        return self.opening + self.totals.balance

    @property
    def is_day(self) -> bool:
        """True for a day close, False for a month close."""
        return len(self.period) == 10

    @property
    def day(self) -> date:
        """The day a day close closes."""
        if not self.is_day:
            raise HistoryError(f"{self.period} is a month")
        return date.fromisoformat(self.period)


def booked_by_day(rows: Iterable[Mapping[str, Any]], currency: str) -> dict[date, Totals]:
    """The posted totals per booking day of the valid rows in ``currency`` (what holds reserve is not history's:
    a hold's capture is booked as a debit); invalid rows count nowhere, as in the fold."""
    found: dict[date, Totals] = {}
    for row, part in valid_rows(rows):
        moment = recorded_ms(row)
        if moment is not None and part.currency == currency:
            day = day_of(moment)
            found[day] = found.get(day, Totals()) + part.totals.posted
    return found


def close_days(
    account_id: str,
    currency: str,
    previous: Close | None,
    *,
    booked: Mapping[date, Totals],
    first: date,
    last: date,
) -> list[Close]:
    """The day closes from ``first`` to ``last``, each opening at the one before's closing.

    ``previous`` is the close of the day before ``first`` (None when ``first`` is the key's first day);
    ``booked`` holds the totals of the days that have rows.
    """
    if previous is not None and previous.day != first - timedelta(days=1):
        raise HistoryError(f"{first} does not follow the last close, {previous.period}")
    opening = previous.closing if previous else ZERO
    closes = []
    for day in days(first, last):
        close = Close(account_id, currency, day.isoformat(), opening, booked.get(day, Totals()))
        closes.append(close)
        opening = close.closing
    return closes


def close_month(day_closes: Sequence[Close]) -> Close:
    """The month close of a month's day closes, which must follow one another up to the month's last day."""
    if not day_closes:
        raise HistoryError("a month close needs its days")
    first, last = day_closes[0], day_closes[-1]
    month = first.period[:7]
    expected = [d.isoformat() for d in days(first.day, last.day)]
    if [c.period for c in day_closes] != expected or not is_month_end(last.day) or last.period[:7] != month:
        raise HistoryError(f"the days given for {month} do not run without a gap to its last day")
    return Close(first.account_id, first.currency, month, first.opening, statement(day_closes).totals)


def balance_at(
    close_before: Close | None, rows: Iterable[Mapping[str, Any]], currency: str, instant_ms: int
) -> Decimal:
    """The balance at an instant: the close of the day before its day, plus that day's rows booked up to it.

    ``rows`` are the rows booked on the instant's day (more are ignored: those after the instant, or on
    another day); ``close_before`` is the close of the day before, or None when the key had no close then.
    """
    day = day_of(instant_ms)
    if close_before is not None and close_before.day != day - timedelta(days=1):
        raise HistoryError(f"{close_before.period} is not the day before {day}")
    start = day_start_ms(day)
    upto = [row for row in rows if (moment := recorded_ms(row)) is not None and start <= moment <= instant_ms]
    booked = booked_by_day(upto, currency).get(day, Totals())
    return (close_before.closing if close_before else ZERO) + booked.balance


def check_sealed(instant_ms: int, now_ms: int, seal_ms: int) -> None:
    """Refuse (HistoryError) an instant less than the seal margin before ``now_ms``: rows may still be booked
    up to it, so a balance at it could still change."""
    if instant_ms + seal_ms > now_ms:
        raise HistoryError(f"{instant_ms} is less than the seal margin ago: rows may still be booked up to it")


def row_of_listing(account_id: str, listed: Mapping[str, Any]) -> dict[str, Any]:
    """A transaction as the API's listing answers it, in the form of the details row the fold reads."""
    row: dict[str, Any] = {"accountId": {"S": account_id}, "transactionId": {"S": listed["transactionId"]}}
    for name in ("type", "currency", "occurredAt"):
        if listed.get(name) is not None:
            row[name] = {"S": listed[name]}
    if listed.get("amount") is not None:
        row["amount"] = {"N": listed["amount"]}
    if listed.get("recordedAt") is not None:
        row["recordedAt"] = {"N": str(listed["recordedAt"])}
    return row


def closes_of_statement(answer: Mapping[str, Any]) -> list[Close]:
    """The day closes of a statement the API answered (200), from its day lines; HistoryError for a line
    whose closing is not its opening plus credits less debits."""
    closes = []
    for line in answer["days"]:
        totals = Totals(Decimal(line["credits"]), Decimal(line["debits"]), int(line["transactionCount"]))
        made = Close(answer["accountId"], answer["currency"], line["day"], Decimal(line["opening"]), totals)
        if made.closing != Decimal(line["closing"]):
            raise HistoryError(f"the line of {line['day']} does not add up to its closing {line['closing']}")
        closes.append(made)
    return closes


def balance_at_answers(
    day_before: Mapping[str, Any], listed: Iterable[Mapping[str, Any]], instant_ms: int, *, now_ms: int, seal_ms: int
) -> Decimal:
    """The balance at an instant from the API's answers, as ``ledger-ops balance-at`` makes it from the tables.

    ``day_before`` is the statement the API answered (200) for the day before the instant's day (``from`` and
    ``to`` that day: no line when the currency had no row by then); ``listed`` is every page of the listing of
    the instant's day up to the instant, in its currency. ``seal_ms`` is the stack's ``history.seal_seconds``
    in milliseconds: an instant less than that before ``now_ms`` is refused, as ``ledger-ops`` refuses it.
    """
    check_sealed(instant_ms, now_ms, seal_ms)
    closes = closes_of_statement(day_before)
    rows = [row_of_listing(day_before["accountId"], one) for one in listed]
    return balance_at(closes[-1] if closes else None, rows, day_before["currency"], instant_ms)


def statement_of_answer(answer: Mapping[str, Any]) -> Statement | None:
    """The statement of a range of days the API answered (200), its lines summed exactly; None when the
    range lies before the currency's first booked day (no line: a balance of zero)."""
    closes = closes_of_statement(answer)
    return statement(closes) if closes else None


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement over days of one month: opening, closing, the totals and the day lines."""

    opening: Decimal
    closing: Decimal
    totals: Totals
    lines: tuple[Close, ...]


def statement(lines: Sequence[Close]) -> Statement:
    """The statement of consecutive day closes (the client's sum of what the API answers as lines)."""
    if not lines:
        raise HistoryError("a statement needs at least one day")
    total = sum((line.totals for line in lines), Totals())
    return Statement(lines[0].opening, lines[-1].closing, total, tuple(lines))


def close_problems(booked: Mapping[date, Totals], closes: Sequence[Close]) -> list[str]:
    """What is wrong with one key's stored closes against the totals of its booked days; empty when right.

    The day closes must run without a gap from the key's first booked day, each opening at the one
    before's closing (the first at zero), each with its day's totals; no row may be booked on a day before
    them; and each month close must be the month of its days, the last of which must be closed. Each day is
    judged against the stored close before it, so a day that is wrong is named once, not with every day
    that follows it; one more line then says where the closes end against where the rows do.
    """
    day_closes = sorted((c for c in closes if c.is_day), key=lambda c: c.period)
    if not day_closes:
        months = [c.period for c in closes]
        return [f"{months[0]}: a month close without day closes"] if months else []
    found: list[str] = []
    first, last = day_closes[0].day, day_closes[-1].day
    early = sorted(d for d in booked if d < first)
    if early:
        found.append(f"rows booked on {early[0]}, before the first close ({first})")
    expected = close_days(
        day_closes[0].account_id,
        day_closes[0].currency,
        None,
        booked=booked,
        first=early[0] if early else first,
        last=last,
    )
    stored = {c.period: c for c in day_closes}
    previous: Close | None = None
    for want in expected:
        got = stored.get(want.period)
        if got is None:
            if want.day >= first:
                found.append(f"{want.period}: no close")
            continue
        opening = previous.closing if previous else ZERO
        if got.totals != want.totals or got.opening != opening:
            made = Close(got.account_id, got.currency, got.period, opening, want.totals)
            found.append(f"{want.period}: stored {_describe(got)}, the rows make {_describe(made)}")
        previous = got
    if expected and previous is not None and previous.closing != expected[-1].closing:
        found.append(
            f"the closes end at {previous.closing} on {last}; the rows booked up to then make {expected[-1].closing}"
        )
    return found + _month_problems(day_closes, [c for c in closes if not c.is_day])


def _month_problems(day_closes: Sequence[Close], month_closes: Sequence[Close]) -> list[str]:
    found: list[str] = []
    by_month: dict[str, list[Close]] = {}
    for close in day_closes:
        by_month.setdefault(close.period[:7], []).append(close)
    months = {c.period for c in month_closes}
    for month_end in (c.day for c in day_closes if is_month_end(c.day)):
        if month_of(month_end) not in months:
            found.append(f"{month_of(month_end)}: its last day is closed, the month is not")
    for month in month_closes:
        try:
            want = close_month(by_month.get(month.period, []))
        except HistoryError as error:
            found.append(f"{month.period}: {error}")
            continue
        if want != month:
            found.append(f"{month.period}: stored {_describe(month)}, its days make {_describe(want)}")
    return found


def _describe(close: Close) -> str:
    t = close.totals
    return f"opening {close.opening} credits {t.credits} debits {t.debits} count {t.count} closing {close.closing}"
