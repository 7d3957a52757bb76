"""The summary store: applies deltas to DynamoDB exactly once.

Each delta is written with one ``TransactWriteItems``: an ``UpdateItem`` that
adds the delta to its ``(account, currency)`` summary item, and one conditional
``PutItem`` per change (its marker id) into the applied-marker table (``attribute_not_exists(id)``). Either
every marker and the summary change are written, or none is. A record whose
marker exists is dropped from the delta and the rest is written again. See
``docs/exactly-once.md``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..domain import Change, Delta, Key, chunked
from ..ports import ApplyResult
from ..summary_item import (
    ACCOUNT,
    CURRENCY,
    LAST_TRANSACTION_AT,
    REVISION_RAISE,
    key_of,
    money_add,
    money_names,
    money_values,
    summary_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutTypeDef, TransactWriteItemTypeDef, UpdateTypeDef

THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceeded",
        "ThrottlingException",
        "ThrottlingError",
        "RequestLimitExceeded",
    }
)
RETRYABLE_CODES = frozenset({"TransactionConflict", "TransactionConflictException", "InternalServerError"})
MAX_ATTEMPTS = 4
# TransactWriteItems takes 100 actions: one summary update plus 99 markers.
RECORDS_PER_WRITE = 99
_BATCH_GET_KEYS = 100
_TIME_PROJECTION = {
    "ProjectionExpression": "#a, #c, #t",
    "ExpressionAttributeNames": {"#a": ACCOUNT, "#c": CURRENCY, "#t": LAST_TRANSACTION_AT},
    "ConsistentRead": True,
}
# Every money write adds one to the summary's revision (REVISION_RAISE), from a floor of the store's clock
# when it creates the item, so that ``ledger-ops rebuild`` can tell "nothing was applied since I read it"
# from "what was applied happened to sum to zero", and a balance event's id never repeats.


# What the store asks of each table, as IAM names it (a transaction needs each item's own action):
# the functions' roles must allow exactly these (a unit test records the calls, an integration test
# reads the deployed roles).
TABLE_ACTIONS: Mapping[str, frozenset[str]] = {
    "summary": frozenset({"dynamodb:UpdateItem", "dynamodb:BatchGetItem"}),
    "applied": frozenset({"dynamodb:PutItem", "dynamodb:BatchGetItem"}),
}


class _Throttled(Exception):
    pass


@dataclass(slots=True)
class Backoff:
    """Waits between attempts at a throttled write, as long as the invocation has time.

    Failing a throttled delta at once costs a whole retry of the batch: an attempt of the
    stream mapping (given up after ``retry_attempts``), or an SQS receive (the DLQ after
    ``maxReceiveCount``) and a visibility timeout. Waiting inside the invocation paces the
    writes to the table's capacity instead. The pause is drawn at random up to the doubled
    ceiling ("full jitter"), and the ceiling stays low (100 ms), so that writers sharing the
    table take turns: with a ceiling of 1 s or 250 ms, a writer that had waited long asked
    less often and lost most races to one that had just written (seen in the bench report,
    10 WCU, two writers: a message left for the visibility timeout).
    ``deadline`` is on ``clock``; None never waits.
    """

    deadline: float | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float], float] = field(default=lambda ceiling: random.uniform(0, ceiling))
    first: float = 0.05
    cap: float = 0.1

    def wait(self, attempt: int) -> bool:
        """Sleep before attempt ``attempt + 1``; False (no sleep) when that would pass the deadline."""
        if self.deadline is None:
            return False
        pause = self.jitter(min(self.cap, self.first * 2**attempt))
        if self.clock() + pause > self.deadline:
            return False
        self.sleep(pause)
        return True


@dataclass(slots=True)
class StoredTimes:
    """What one execution environment knows of the ``lastTransactionAt`` stored per summary item.

    Each value is a lower bound of the stored time: learned from a write that set it, from the read
    the store makes before writing a delta that could move it (``_read_ahead``), or from a refused
    write (the stored item comes back with the refusal). A delta whose latest time is no later than
    the known one is written without setting the time, so it cannot be refused for it: a backdated
    transaction costs one write, not a refused, charged transaction and a second one.
    The stored time only moves forward under the writers. ``ledger-ops rebuild`` may set it back to the
    fold of the rows (when the latest row was removed); a warm environment then skips times up to
    what it knew until it learns again, so ``lastTransactionAt`` can lag a rebuild, never money.
    """

    known: dict[Key, str] = field(default_factory=dict)
    capacity: int = 100_000

    def covers(self, key: Key, latest: str | None) -> bool:
        """True when ``latest`` is known not to be later than the stored time."""
        stored = self.known.get(key)
        return latest is not None and stored is not None and latest <= stored

    def learn(self, key: Key, stored: str | None) -> None:
        """Remember that the item's stored time is at least ``stored``."""
        if stored is None or stored <= self.known.get(key, ""):
            return
        if len(self.known) >= self.capacity:
            self.known.clear()  # bounded memory; forgetting only costs a refused write
        self.known[key] = stored


@dataclass(slots=True)
class _Progress:
    applied: int = 0
    duplicates: int = 0
    writes: int = 0


@dataclass(slots=True)
class _PartState:
    """What is left of one part to write, and whether its latest time may still be set."""

    pending: Delta | None
    set_latest: bool = True


class DynamoSummaryStore:
    """Applies deltas to the summary table, recording applied records in the marker table."""

    def __init__(
        self,
        client: DynamoDBClient,
        summary_table: str,
        applied_table: str,
        marker_ttl_seconds: int,
        *,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        times: StoredTimes | None = None,
    ) -> None:
        self._client = client
        self._summary_table = summary_table
        self._applied_table = applied_table
        self._marker_ttl = marker_ttl_seconds
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._times = times if times is not None else StoredTimes()

    def write(self, deltas: Sequence[Delta]) -> list[ApplyResult]:
        """Write each delta once; after a throttled delta the rest are left for the retry."""
        markers = [c.marker_id for d in deltas for c in d.changes if not c.totals.is_zero()]
        unknown_times = [d.key for d in deltas if d.latest_at and not self._times.covers(d.key, d.latest_at)]
        known = self._read_ahead(markers, unknown_times)
        results: list[ApplyResult] = []
        for delta in deltas:
            if results and results[-1].throttled:
                results.append(ApplyResult(delta.key, error="not attempted: table throttled", throttled=True))
                continue
            results.append(self._apply_one(delta, known))
        return results

    def _apply_one(self, delta: Delta, known: set[str]) -> ApplyResult:
        progress = _Progress()
        remaining = delta.without(known)
        progress.duplicates = len(delta.changes) - (len(remaining.changes) if remaining else 0)
        try:
            for part in chunked(remaining, RECORDS_PER_WRITE) if remaining else ():
                self._write_paced(part, progress)
        except _Throttled as error:
            return self._result(delta, progress, f"throttled: {error}", throttled=True)
        except ClientError as error:
            return self._result(delta, progress, _describe(error))
        return self._result(delta, progress, None)

    @staticmethod
    def _result(delta: Delta, p: _Progress, error: str | None, throttled: bool = False) -> ApplyResult:
        return ApplyResult(delta.key, p.applied, p.duplicates, p.writes, error, throttled)

    def _write_paced(self, part: Delta, progress: _Progress) -> None:
        """Write one part, waiting and trying again while throttled, as the backoff allows.

        What a refused attempt taught (records already applied, a later ``lastTransactionAt``
        already stored) is kept across the waits. Repeating a write known to be refused wastes a
        request after every wait; where a cancelled transaction spends capacity (the local
        account charges it), it livelocked the writers of a contended table.
        """
        state = _PartState(part, set_latest=not self._times.covers(part.key, part.latest_at))
        attempt = 0
        while True:
            try:
                self._write(state, progress)
                return
            except _Throttled:
                if not self._backoff.wait(attempt):
                    raise
                attempt += 1

    def _write(self, state: _PartState, progress: _Progress) -> None:
        for _ in range(MAX_ATTEMPTS):
            if state.pending is None:
                return
            refusal = self._attempt(state.pending, state.set_latest)
            if refusal is None:
                progress.applied += sum(1 for c in state.pending.changes if not c.totals.is_zero())
                progress.writes += 1 if _writes_anything(state.pending, state.set_latest) else 0
                if state.set_latest:
                    self._times.learn(state.pending.key, state.pending.latest_at)
                return
            duplicates, latest_refused, stored = refusal
            self._times.learn(state.pending.key, stored)
            state.set_latest = state.set_latest and not latest_refused
            progress.duplicates += len(duplicates)
            state.pending = state.pending.without(duplicates)
        raise ClientError({"Error": {"Code": "TooManyConflicts", "Message": "gave up after retries"}}, "Apply")

    def _attempt(self, delta: Delta, set_latest: bool) -> tuple[list[str], bool, str | None] | None:
        """One write. None on success, else (markers already applied, latest-time refused, stored time)."""
        if not _writes_anything(delta, set_latest):
            return None
        markers = [c for c in delta.changes if not c.totals.is_zero()]
        update = self._update(delta, delta.latest_at if set_latest else None, with_totals=bool(markers))
        try:
            if markers:
                items: list[TransactWriteItemTypeDef] = [{"Update": update}]
                items += ({"Put": self._marker(c)} for c in markers)
                self._client.transact_write_items(TransactItems=items)
            else:
                self._client.update_item(**update)
        except ClientError as error:
            return self._interpret(error, markers)
        return None

    def _interpret(self, error: ClientError, markers: list[Change]) -> tuple[list[str], bool, str | None]:
        code = error.response.get("Error", {}).get("Code", "")
        if code in THROTTLE_CODES:
            raise _Throttled(code) from error
        if code == "ConditionalCheckFailedException":
            return [], True, _stored_time(error.response.get("Item"))
        if code != "TransactionCanceledException":
            raise error
        reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
        if any(r in THROTTLE_CODES for r in reasons):
            raise _Throttled(",".join(reasons)) from error
        if any(r not in ("None", "ConditionalCheckFailed", *RETRYABLE_CODES) for r in reasons):
            raise error
        duplicates = [m.marker_id for m, r in zip(markers, reasons[1:], strict=False) if r == "ConditionalCheckFailed"]
        latest_refused = bool(reasons) and reasons[0] == "ConditionalCheckFailed"
        first: Any = error.response.get("CancellationReasons", [{}])[0] if reasons else {}
        return duplicates, latest_refused, _stored_time(first.get("Item")) if latest_refused else None

    def _update(self, delta: Delta, latest: str | None, with_totals: bool) -> UpdateTypeDef:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        assignments: list[str] = []
        additions = ""
        if with_totals:
            names.update(money_names(delta.totals))
            values.update(money_values(delta.totals, self._clock()))
            assignments.append(REVISION_RAISE)
            additions = " " + money_add(delta.totals)
        if latest is not None:
            names["#t"] = LAST_TRANSACTION_AT
            values[":t"] = {"S": latest}
            assignments.append("#t = :t")
        expression = "SET " + ", ".join(assignments) + additions
        update: UpdateTypeDef = {
            "TableName": self._summary_table,
            "Key": summary_key(delta.account_id, delta.currency),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if latest is not None:
            update["ConditionExpression"] = "attribute_not_exists(#t) OR #t < :t"
            update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"  # a refusal says what is stored
        return update

    def _marker(self, change: Change) -> PutTypeDef:
        expires = int(self._clock()) + self._marker_ttl
        return {
            "TableName": self._applied_table,
            "Item": {
                "id": {"S": change.marker_id},
                "accountId": {"S": change.account_id},
                "expiresAt": {"N": str(expires)},
            },
            "ConditionExpression": "attribute_not_exists(id)",
        }

    def _read_ahead(self, marker_ids: Iterable[str], keys: Iterable[Key]) -> set[str]:
        """Markers that already exist, and (learned into the stored times) each listed item's time.

        Both are read-only shortcuts in one request per 100 keys; the write conditions stay the guarantee.
        Knowing the stored time spares the refused, charged write a delta older than it would otherwise
        cost (``docs/exactly-once.md``). Summary items are read strongly consistent: a stale time would
        only bring the refusal back.
        """
        wanted = [(self._applied_table, {"id": {"S": i}}) for i in dict.fromkeys(marker_ids)]
        wanted += [(self._summary_table, summary_key(*key)) for key in dict.fromkeys(keys)]
        found: set[str] = set()
        for start in range(0, len(wanted), _BATCH_GET_KEYS):
            found |= self._batch_get(wanted[start : start + _BATCH_GET_KEYS])
        return found

    def _batch_get(self, wanted: list[tuple[str, dict[str, Any]]]) -> set[str]:
        request: dict[str, Any] = {}
        for table, key in wanted:
            request.setdefault(table, {"Keys": []})["Keys"].append(key)
        if self._applied_table in request:
            request[self._applied_table]["ProjectionExpression"] = "id"
        if self._summary_table in request:
            request[self._summary_table].update(_TIME_PROJECTION)
        try:
            responses = self._client.batch_get_item(RequestItems=request).get("Responses", {})
        except ClientError:
            return set()
        for item in responses.get(self._summary_table, []):
            self._times.learn(key_of(item), _stored_time(item))
        return {item["id"]["S"] for item in responses.get(self._applied_table, [])}


def _stored_time(item: Any) -> str | None:
    """The ``lastTransactionAt`` of an item returned with a refusal (ALL_OLD), if any."""
    value = item.get(LAST_TRANSACTION_AT, {}).get("S") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None


def _writes_anything(delta: Delta, set_latest: bool) -> bool:
    has_totals = any(not c.totals.is_zero() for c in delta.changes)
    return has_totals or (set_latest and delta.latest_at is not None)


def _describe(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".strip()
