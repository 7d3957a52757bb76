"""The closer: brings every ``(account, currency)``'s day and month closes up to the last sealed day.

Pure orchestration over a :class:`~ledger_aggregator.ports.HistoryStore`; the scheduled function and
``ledger-ops close`` run the same code. Each key is closed day after day from the one after its last close
(or from its first booked day), in order, so that a run cut short leaves closes without a gap and the next
run goes on from there. Every write is create-only: a close already there is left alone when it is the
same, and reported, never rewritten, when it differs (and the key is not closed further: its later
openings would follow a close this run did not make).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

from .domain import Key
from .history import (
    Close,
    HistoryError,
    booked_by_day,
    close_days,
    close_month,
    day_of,
    day_start_ms,
    is_month_end,
    month_of,
)
from .ports import Created, HistoryStore


@dataclass(slots=True)
class KeyClosed:
    """What closing one key did."""

    key: Key
    written: int = 0
    present: int = 0
    differs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ClosedRun:
    """What one run of the closer did, over every key."""

    through: date
    keys: int = 0
    written: int = 0
    present: int = 0
    differs: list[str] = field(default_factory=list)

    def add(self, closed: KeyClosed) -> None:
        """Count one key's outcome in."""
        self.keys += 1
        self.written += closed.written
        self.present += closed.present
        self.differs += closed.differs


def _create(store: HistoryStore, close: Close, done: KeyClosed) -> bool:
    outcome = store.create(close)
    if outcome is Created.WRITTEN:
        done.written += 1
    elif outcome is Created.PRESENT:
        done.present += 1
    else:
        done.differs.append(f"{close.account_id}/{close.currency} {close.period}: a different close is stored")
        return False
    return True


def _close_month(store: HistoryStore, key: Key, month: str, done: KeyClosed) -> bool:
    return _create(store, close_month(store.month_days(key, month)), done)


def close_key(store: HistoryStore, key: Key, through: date) -> KeyClosed:
    """Write the missing closes of one key up to ``through`` (a sealed day), months included."""
    account, currency = key
    done = KeyClosed(key)
    last = store.last_day(key)
    if last is None:
        first_ms = store.first_booked(key)
        if first_ms is None:
            return done
        first = day_of(first_ms)
    else:
        first = last.day + timedelta(days=1)
        if is_month_end(last.day) and not _close_month(store, key, month_of(last.day), done):
            return done  # a run cut short between a month's last day and the month
    if first > through:
        return done
    rows = store.rows(account, day_start_ms(first), day_start_ms(through + timedelta(days=1)) - 1)
    for close in close_days(account, currency, last, booked=booked_by_day(rows, currency), first=first, last=through):
        if not _create(store, close, done):
            return done
        if is_month_end(close.day) and not _close_month(store, key, month_of(close.day), done):
            return done
    return done


def close_all(
    store: HistoryStore,
    through: date,
    keys: Iterable[Key] | None = None,
    workers: int = 8,
    progress: Callable[[KeyClosed], None] | None = None,
) -> ClosedRun:
    """Close every key the store knows (or those given) up to ``through``, ``workers`` keys at a time."""
    run = ClosedRun(through)

    def one(key: Key) -> KeyClosed:
        try:
            return close_key(store, key, through)
        except HistoryError as error:
            return KeyClosed(key, differs=[f"{'/'.join(key)}: {error}"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for closed in pool.map(one, store.keys() if keys is None else keys):
            run.add(closed)
            if progress:
                progress(closed)
    return run
