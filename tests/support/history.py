"""An in-memory history store (the closer's port), and booked rows for tests of the history core."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger_aggregator.domain import Key, valid_rows
from ledger_aggregator.history import Close, keys_of, recorded_ms, valid_in
from ledger_aggregator.ports import Created
from tests.support.ledger import hold_attributes


def booked_row(account: str, currency: str, kind: str, amount: str, *, at_ms: int, number: int) -> dict[str, Any]:
    """A details row as the API writes it, booked at ``at_ms``."""
    row = {
        "accountId": {"S": account},
        "transactionId": {"S": f"t{number:05d}"},
        "type": {"S": kind},
        "amount": {"N": amount},
        "currency": {"S": currency},
        "recordedAt": {"N": str(at_ms)},
    }
    return row | hold_attributes(kind, f"t{number:05d}")


def fold_upto(rows: Iterable[dict[str, Any]], key: Key, until_ms: int) -> Decimal:
    """Python's own reading: the balance of ``key`` from every valid row booked at or before ``until_ms``."""
    total = Decimal(0)
    for row, part in valid_rows(rows):
        moment = recorded_ms(row)
        if moment is not None and moment <= until_ms and (part.account_id, part.currency) == key:
            total += part.totals.balance
    return total


class CrashError(RuntimeError):
    """The fake store's way of cutting a run short."""


@dataclass
class FakeHistory:
    """The closer's store in memory: rows, the summaries' keys and the closes; ``crash_after`` writes fail."""

    rows_: list[dict[str, Any]] = field(default_factory=list)
    closes: dict[tuple[str, str, str], Close] = field(default_factory=dict)
    crash_after: int | None = None
    writes: int = 0
    reads: int = 0  # calls of rows()
    hidden: set[str] = field(default_factory=set)  # periods written by another closer after last_day's read

    def keys(self) -> list[Key]:
        return keys_of(self.rows_)

    def days_of(self, key: Key) -> list[Close]:
        mine = (c for (a, cu, p), c in self.closes.items() if (a, cu) == key and c.is_day and p not in self.hidden)
        return sorted(mine, key=lambda c: c.period)

    def last_day(self, key: Key) -> Close | None:
        found = self.days_of(key)
        return found[-1] if found else None

    def first_booked(self, key: Key, until_ms: int) -> int | None:
        times = [recorded_ms(r) for r in self.rows_ if valid_in(r, key)]
        first = min((t for t in times if t is not None), default=None)
        return first if first is not None and first <= until_ms else None

    def rows(self, account: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        self.reads += 1
        return [
            r for r in self.rows_ if r["accountId"]["S"] == account and start_ms <= (recorded_ms(r) or -1) <= end_ms
        ]

    def month_days(self, key: Key, month: str) -> list[Close]:
        return [c for c in self.days_of(key) if c.period.startswith(month)]

    def create(self, close: Close) -> Created:
        where = (close.account_id, close.currency, close.period)
        if where in self.closes:
            return Created.PRESENT if self.closes[where] == close else Created.DIFFERS
        if self.crash_after is not None and self.writes >= self.crash_after:
            raise CrashError("the run was cut short")
        self.writes += 1
        self.closes[where] = close
        return Created.WRITTEN
