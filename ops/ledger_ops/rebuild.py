"""Rewrite summaries from the details table, exactly, while the stream keeps running.

Each ``(account, currency)`` summary is rebuilt on its own; an account's rows and
stream records are read once for all its currencies.

Why a plain "sum the rows and overwrite" is wrong: a row written just before the
scan is in the sum, and its stream record, not yet applied, will be added again
when it is. So the rebuild subtracts those records:

    summary := fold(rows) - (records reflected in the rows that have no applied marker)

and writes it only if nothing was applied in between:

1. Read the summary and its ``revision`` (every money write adds 1 to it, in the
   same transaction as its applied markers).
2. Read the account's rows (consistent reads).
3. Wait ``settle`` seconds (the stream publishes a write within about a second),
   then read the stream's retained records (24 hours).
4. For each row key, the records *reflected* in the rows are those up to the
   record whose new image is the row as read (up to the last REMOVE for a key
   that was not there). A key whose row matches none of its records means the
   stream has not caught up: the account is tried again. So does a key that is
   not there and whose REMOVE is not in the tail, unless its first record was
   recorded after the summaries were read (created since): a REMOVE the tail has
   not reached yet must not be taken for a row created later, or it would be
   subtracted twice.
5. Look up the markers of the reflected records (consistent reads); those
   without one are still in flight (in the stream, the buffer queue or a DLQ)
   and will be applied later, so they are subtracted.
6. Write the summary with the condition ``revision = <read in 1>``. If a writer
   applied anything meanwhile, the condition fails and the account is tried
   again. With no apply in between, the markers read in 5 describe the same
   moment as the summary read in 1, and every record not yet applied (reflected
   or written later) is applied exactly once after the rewrite.

Records older than the stream's retention are taken as applied: so rebuild refuses
while pattern 2's buffer queue or its DLQ holds any message (the ``guard``, asked at the
start and again right before each write), and a row recorded within the retention that
has no record in the tail yet makes its account unsettled. A batch given
up to the stream DLQ whose records have been trimmed cannot be replayed anyway
(``dlq replay`` falls back to reconcile), so counting its rows is what makes the
summary exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger_aggregator.balance_events import CORRECTED_REVISION
from ledger_aggregator.domain import Change, Key, Summary, Totals, changes_of, fold
from ledger_aggregator.summary_item import (
    HELD,
    LAST_TRANSACTION_AT,
    REVISION_AFTER,
    REVISION_RAISE,
    key_of,
    money_names,
    money_values,
    stored_revision,
    stored_summary,
    stored_totals,
    summary_key,
)

from .reconcile import Progress, account_items, problems, scan
from .streams import RecordTail

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = Mapping[str, Any]
DEFAULT_SETTLE_SECONDS = 5.0
DEFAULT_ROUNDS = 6
STREAM_RETENTION_MS = 24 * 3600 * 1000
# recordedAt is API Gateway's clock, the read time the operator's: a write is taken as later than a
# read only by more than this.
CLOCK_SKEW_MS = 60_000
Guard = Callable[[], str | None]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One account as read: its summary items (one per currency) and its rows."""

    account_id: str
    summaries: Mapping[str, Item]
    rows: tuple[Item, ...]
    read_at_ms: float = 0.0  # after the summaries were read and before the rows were (epoch milliseconds)

    def currencies(self) -> list[str]:
        """Every currency the account has a summary or a valid row in."""
        folded = {currency for _, currency in fold(self.rows)}
        return sorted(folded | set(self.summaries))

    def stored(self, currency: str) -> Totals | None:
        """The totals stored for ``currency``, or None when there is no summary item."""
        item = self.summaries.get(currency)
        return stored_totals(item) if item else None

    def served_right(self, currency: str, totals: Totals, latest: str | None) -> bool:
        """True when the stored item already serves ``totals`` with a consistent balance and time."""
        item = self.summaries.get(currency)
        if item is None:
            return totals.is_zero()
        expected = Summary(self.account_id, currency, totals, latest)
        return not problems(expected, stored_summary(item))

    def stamp(self, currency: str) -> tuple[bool, int | None]:
        """Whether the currency's summary existed when read, and its revision."""
        item = self.summaries.get(currency)
        return item is not None, stored_revision(item)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What the rebuild did to one ``(account, currency)`` summary.

    ``status`` is ``rewritten``, ``unchanged``, ``busy`` (writers kept applying; try
    again), ``unsettled`` (the stream never caught up with the account's rows) or
    ``refused`` (the guard reported deltas waiting outside the stream; nothing written).
    """

    key: Key
    status: str
    before: Totals | None
    after: Totals | None
    in_flight: int

    @property
    def label(self) -> str:
        """``account/currency``, for messages."""
        return "/".join(self.key)


def reflected(
    rows: Iterable[Item], records: Sequence[Item], now_ms: float | None = None, read_at_ms: float | None = None
) -> tuple[list[Item], bool]:
    """The records whose effect the rows show, and False if some row's record is not in the stream yet.

    A row recorded within the stream's retention (``recordedAt``) with no record at all has not
    reached the stream yet. A row older than the retention, or without ``recordedAt``, is taken as
    applied: its records are gone from the stream. A key with records but no row and no REMOVE is
    settled only when it was recorded after ``read_at_ms`` (more than ``CLOCK_SKEW_MS`` after): created
    after the summaries were read.
    """
    current = {row["transactionId"]["S"]: row for row in rows if "transactionId" in row}
    by_key: dict[str, list[Item]] = {}
    for record in records:
        key = record["dynamodb"].get("Keys", {}).get("transactionId", {}).get("S")
        by_key.setdefault(str(key), []).append(record)
    found: list[Item] = []
    settled = True
    for key, history in by_key.items():
        upto = _reflected_prefix(current.get(key), history, read_at_ms)
        if upto is None:
            settled = False
            continue
        found += history[:upto]
    horizon = (time.time() * 1000 if now_ms is None else now_ms) - STREAM_RETENTION_MS
    unseen = [row for key, row in current.items() if key not in by_key and _recorded_ms(row) > horizon]
    return found, settled and not unseen


def _recorded_ms(row: Item) -> float:
    """When the API wrote the row (epoch milliseconds); 0 when the row does not say."""
    try:
        return float(row["recordedAt"]["N"])
    except (KeyError, TypeError, ValueError):
        return 0.0


def _reflected_prefix(row: Item | None, history: Sequence[Item], read_at_ms: float | None) -> int | None:
    """How many of a key's records (in order) the row as read reflects; None if none can be shown."""
    for index in range(len(history) - 1, -1, -1):
        image = history[index]["dynamodb"].get("NewImage")
        if (row is None and image is None) or (row is not None and image == row):
            return index + 1
    first = history[0]["dynamodb"].get("NewImage") or {}
    if row is None and read_at_ms is not None and _recorded_ms(first) > read_at_ms + CLOCK_SKEW_MS:
        # Written after the summary was read, so none of its records was applied in it; an apply since
        # changes the revision, which the write's condition catches.
        return 0
    return None  # a REMOVE the tail has not shown (yet), or a row whose record it has not shown


def money_changes(records: Iterable[Item]) -> list[Change]:
    """The changes of the records that move money."""
    return [c for record in records for c in changes_of(record)[0] if not c.totals.is_zero()]


def pending_changes(records: Iterable[Item], applied: set[str]) -> list[Change]:
    """The money changes of the records that have no applied marker."""
    return [c for c in money_changes(records) if c.marker_id not in applied]


def target(snapshot: Snapshot, currency: str, in_flight: Iterable[Change]) -> tuple[Totals, str | None]:
    """The totals to store now so that, once the in-flight changes land, the summary is the fold."""
    folded = fold(snapshot.rows).get((snapshot.account_id, currency))
    totals = folded.totals if folded else Totals()
    for change in in_flight:
        if change.currency == currency:
            totals = totals - change.totals
    return totals, folded.last_transaction_at if folded else None


def candidates(snapshot: Snapshot, tail: RecordTail) -> tuple[list[Item], bool]:
    """The account's retained records that its rows reflect, and whether the stream has caught up."""
    return reflected(snapshot.rows, tail.of_account(snapshot.account_id), read_at_ms=snapshot.read_at_ms)


class Rebuilder:
    """Runs the rebuild against one deployed stack."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        tail: RecordTail,
        tables: Mapping[str, str],
        settle: float = DEFAULT_SETTLE_SECONDS,
        progress: Progress | None = None,
        *,
        guard: Guard | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = dynamodb
        self._tail = tail
        self._details, self._summary, self._applied = tables["details"], tables["summary"], tables["applied"]
        self._settle = settle
        self._progress = progress
        self._guard = guard or (lambda: None)
        self._clock = clock  # the floor of a revision when the write creates the item (summary_item)
        self.refusal: str | None = None

    def run(
        self, account: str | None = None, rounds: int = DEFAULT_ROUNDS, report: Callable[[Rebuilt], None] | None = None
    ) -> list[Rebuilt]:
        """Rebuild every summary (or one account's); accounts that raced a writer are retried."""
        done: dict[Key, Rebuilt] = {}
        snapshots = self._read_all() if account is None else {account: self._read_one(account)}
        if self._refused():
            return [
                Rebuilt((s.account_id, c), "refused", s.stored(c), None, 0)
                for s in snapshots.values()
                for c in s.currencies()
            ]
        for _ in range(rounds):
            time.sleep(self._settle)  # the stream's publication lag, between reading rows and the stream
            self._tail.refresh()
            retry = set()
            # An account read again is judged on that reading alone: a currency it no longer has (its rows
            # moved away) keeps no result of an earlier round.
            done = {key: result for key, result in done.items() if key[0] not in snapshots}
            for result in self._round(list(snapshots.values())):
                done[result.key] = result
                if result.status in ("busy", "unsettled") and not self.refusal:
                    retry.add(result.key[0])
                elif report:
                    report(result)
            if not retry or self.refusal:
                break
            snapshots = {a: self._read_one(a) for a in sorted(retry)}
        return [done[k] for k in sorted(done)]

    def _round(self, snapshots: list[Snapshot]) -> list[Rebuilt]:
        found = {s.account_id: candidates(s, self._tail) for s in snapshots}
        ids = {c.marker_id for records, _ in found.values() for c in money_changes(records)}
        applied = self._applied_markers(ids)
        results = []
        for snapshot in sorted(snapshots, key=lambda s: s.account_id):
            records, settled = found[snapshot.account_id]
            in_flight = pending_changes(records, applied)
            for currency in snapshot.currencies():
                key = (snapshot.account_id, currency)
                waiting = [c for c in in_flight if c.currency == currency]
                if settled:
                    results.append(self._write(snapshot, currency, waiting))
                else:
                    results.append(Rebuilt(key, "unsettled", snapshot.stored(currency), None, len(waiting)))
        return results

    def _write(self, snapshot: Snapshot, currency: str, in_flight: list[Change]) -> Rebuilt:
        totals, latest = target(snapshot, currency, in_flight)
        key, stored = (snapshot.account_id, currency), snapshot.stored(currency)
        if snapshot.served_right(currency, totals, latest):
            # Right only if nothing was applied since the summary was read: the markers describe that moment.
            status = "unchanged" if self._read_stamp(key) == snapshot.stamp(currency) else "busy"
            return Rebuilt(key, status, stored, stored, len(in_flight))
        if self._refused():  # asked again right before the write: a delta may have been queued meanwhile
            return Rebuilt(key, "refused", stored, None, len(in_flight))
        try:
            self._db.update_item(**self._update(snapshot, currency, totals, latest))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return Rebuilt(key, "busy", stored, None, len(in_flight))
        return Rebuilt(key, "rewritten", stored, totals, len(in_flight))

    def _refused(self) -> bool:
        """True once the guard has reported deltas waiting outside the stream (then for the rest of the run)."""
        if self.refusal is None:
            self.refusal = self._guard()
        return self.refusal is not None

    def _update(self, snapshot: Snapshot, currency: str, totals: Totals, latest: str | None) -> dict[str, Any]:
        names, values = money_names(totals), money_values(totals, self._clock())
        # The revision this write makes, marked as a correction (balance_events.CORRECTED_REVISION): an
        # update reads the item as it was, so #cr is given the value #r is.
        names["#cr"] = CORRECTED_REVISION
        assignments = f"SET #b = :b, #c = :c, #d = :d, #n = :n, {REVISION_RAISE}, #cr = {REVISION_AFTER}"
        if latest is not None:
            names["#t"], values[":t"] = LAST_TRANSACTION_AT, {"S": latest}
            assignments += ", #t = :t"
        # Held as the fold has it: set when the rows hold some, removed (it reads as 0) when they do not.
        names["#h"] = HELD
        assignments += ", #h = :h" if totals.held else " REMOVE #h"
        condition = "attribute_not_exists(#r)"
        revision = snapshot.stamp(currency)[1]
        if revision is not None:
            condition, values[":r"] = "#r = :r", {"N": str(revision)}
        return {
            "TableName": self._summary,
            "Key": summary_key(snapshot.account_id, currency),
            "UpdateExpression": assignments,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _read_all(self) -> dict[str, Snapshot]:
        """Summaries first, then rows: a summary is always read before its rows."""
        summaries: dict[str, dict[str, Item]] = {}
        for item in scan(self._db, self._summary, progress=self._progress):
            account, currency = key_of(item)
            summaries.setdefault(account, {})[currency] = item
        read_at_ms = time.time() * 1000  # after every summary was read, before any row is
        by_account: dict[str, list[Item]] = {}
        for row in scan(self._db, self._details, progress=self._progress):
            account = row.get("accountId", {}).get("S")
            if isinstance(account, str):
                by_account.setdefault(account, []).append(row)
        accounts = set(summaries) | set(by_account)
        return {a: Snapshot(a, summaries.get(a, {}), tuple(by_account.get(a, [])), read_at_ms) for a in accounts}

    def _read_one(self, account: str) -> Snapshot:
        items = {key_of(i)[1]: i for i in account_items(self._db, self._summary, account)}
        read_at_ms = time.time() * 1000  # after the summaries were read, before the rows are
        return Snapshot(account, items, tuple(account_items(self._db, self._details, account)), read_at_ms)

    def _read_stamp(self, key: Key) -> tuple[bool, int | None]:
        """Whether the key has a summary now, and its revision."""
        item = self._db.get_item(TableName=self._summary, Key=summary_key(*key), ConsistentRead=True).get("Item")
        return item is not None, stored_revision(item)

    def _applied_markers(self, ids: set[str]) -> set[str]:
        keys = [{"id": {"S": i}} for i in sorted(ids)]
        found: set[str] = set()
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self._applied: {"Keys": keys[start : start + 100], "ConsistentRead": True, "ProjectionExpression": "id"}
            }
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                found |= {i["id"]["S"] for i in response.get("Responses", {}).get(self._applied, [])}
                request = response.get("UnprocessedKeys") or {}
        return found
