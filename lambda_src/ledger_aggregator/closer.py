"""The closer: brings every ``(account, currency)``'s day and month closes up to the last sealed day.

Pure orchestration over a :class:`~ledger_aggregator.ports.HistoryStore`; the scheduled function and
``ledger-ops close`` run the same code. Each key is closed day after day from the one after its last close
(or from its first booked day), in order, so that a run cut short leaves closes without a gap and the next
run goes on from there. Every write is create-only: a close already there is left alone when it is the
same, and reported, never rewritten, when it differs (and the key is not closed further: its later
openings would follow a close this run did not make).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

from .domain import Key, Totals
from .history import (
    DAY_MS,
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
    """What closing one key did: closes written and found, refusals (``differs``) and failures (``failed``)."""

    key: Key
    written: int = 0
    present: int = 0
    differs: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stopped: bool = False  # left part done, or not started, for the next run: the run ran out of time


@dataclass(slots=True)
class ClosedRun:
    """What one run of the closer did, over every key."""

    through: date
    keys: int = 0
    written: int = 0
    present: int = 0
    differs: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stopped: int = 0  # keys left for the next run

    def add(self, closed: KeyClosed) -> None:
        """Count one key's outcome in."""
        self.keys += 1
        self.written += closed.written
        self.present += closed.present
        self.differs += closed.differs
        self.failed += closed.failed
        self.stopped += closed.stopped


def _label(key: Key) -> str:
    return "/".join(key)


def _create(store: HistoryStore, close: Close, done: KeyClosed) -> bool:
    outcome = store.create(close)
    if outcome is Created.WRITTEN:
        done.written += 1
    elif outcome is Created.PRESENT:
        done.present += 1
    else:
        done.differs.append(f"{_label(done.key)} {close.period}: a different close is stored")
        return False
    return True


def _close_month(store: HistoryStore, key: Key, month: str, done: KeyClosed) -> bool:
    return _create(store, close_month(store.month_days(key, month)), done)


def _still_made(store: HistoryStore, last: Close, done: KeyClosed) -> bool:
    """Whether the rows booked on the last closed day still make its close (a row changed after the day was
    closed, never through the API, does not); reported, and the key left, when they do not."""
    start = day_start_ms(last.day)
    rows = store.rows(last.account_id, start, start + DAY_MS - 1)
    now = booked_by_day(rows, last.currency).get(last.day, Totals())
    if now == last.totals:
        return True
    done.differs.append(
        f"{_label(done.key)} {last.period}: the rows booked that day no longer make its close (a row was changed "
        "after the day was closed): run ledger-ops reconcile; the key is not closed further"
    )
    return False


def _chunks(first: date, through: date) -> Iterator[tuple[date, date]]:
    """``first`` to ``through`` in calendar months: the rows of one month are read at a time."""
    start = first
    while start <= through:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(through, following - timedelta(days=1))
        yield start, end
        start = end + timedelta(days=1)


def _first_open_day(store: HistoryStore, key: Key, through: date, last: Close | None, done: KeyClosed) -> date | None:
    """The first day left to close: the key's first booked day, or the one after its last close once that
    close still holds (and its month's, when it ended one); None when there is none or the key stops here."""
    if last is None:
        first_ms = store.first_booked(key, day_start_ms(through + timedelta(days=1)) - 1)
        return None if first_ms is None else day_of(first_ms)
    if not _still_made(store, last, done):
        return None
    if is_month_end(last.day) and not _close_month(store, key, month_of(last.day), done):
        return None  # a run cut short between a month's last day and the month
    return last.day + timedelta(days=1)


def _close_span(
    store: HistoryStore, key: Key, last: Close | None, span: tuple[date, date], done: KeyClosed
) -> Close | None:
    """Close the days of ``span`` (within one month) after ``last``; the last close made, or None once one
    is refused."""
    account, currency = key
    start, end = span
    rows = store.rows(account, day_start_ms(start), day_start_ms(end + timedelta(days=1)) - 1)
    for close in close_days(account, currency, last, booked=booked_by_day(rows, currency), first=start, last=end):
        if not _create(store, close, done):
            return None
        if is_month_end(close.day) and not _close_month(store, key, month_of(close.day), done):
            return None
        last = close
    return last


def close_key(store: HistoryStore, key: Key, through: date, stop: Callable[[], bool] = lambda: False) -> KeyClosed:
    """Write the missing closes of one key up to ``through`` (a sealed day), months included; between two
    months' reads, leave the rest for the next run once ``stop()`` says so (``KeyClosed.stopped``)."""
    done = KeyClosed(key)
    last = store.last_day(key)
    if last is not None and last.day >= through and not is_month_end(last.day):
        return done  # nothing to close: a run that finds every key closed reads one close per key
    first = _first_open_day(store, key, through, last, done)
    if first is None:
        return done
    for span in _chunks(first, through):
        if stop():
            done.stopped = True
            return done
        last = _close_span(store, key, last, span, done)
        if last is None:
            return done
    return done


WORKERS = 8  # keys closed at a time by default: DynamoDB calls wait on the network, not the CPU


def close_all(
    store: HistoryStore,
    through: date,
    keys: Iterable[Key] | None = None,
    *,
    workers: int = WORKERS,
    progress: Callable[[KeyClosed], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> ClosedRun:
    """Close every key the store knows (or those given) up to ``through``, ``workers`` keys at a time.

    A key whose reads or writes fail (DynamoDB's throttling after the SDK's retries, say) is counted as
    failed, with its error, and left where it got to; the other keys go on. Once ``stop()`` says so (the
    scheduled function's time running out), no key is started and a key being closed stops between two
    months: what is left is counted as ``stopped``, and the next run takes it up without a gap.
    """
    run = ClosedRun(through)

    def one(key: Key) -> KeyClosed:
        if stop():
            return KeyClosed(key, stopped=True)
        try:
            return close_key(store, key, through, stop)
        except HistoryError as error:
            return KeyClosed(key, differs=[f"{_label(key)}: {error}"])
        except Exception as error:  # any store failure: reported per key, and the run goes on
            return KeyClosed(key, failed=[f"{_label(key)}: {type(error).__name__}: {error}"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for closed in pool.map(one, store.keys() if keys is None else keys):
            run.add(closed)
            if progress:
                progress(closed)
    return run
