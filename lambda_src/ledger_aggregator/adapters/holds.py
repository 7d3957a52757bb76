"""The holds table for the sweeper and ``ledger-ops holds expire``: the open holds past their expiry, read from
the table's sparse index, and the release of what remains of one, in one transaction as a void is released
(templates/void_hold.request.vtl; docs/holds.md).

A release is conditional on the hold being open with the remaining it was read with and past its expiry, and on
the payer's balance item being of the guard's epoch and seeded; a hold captured or voided since it was read, or
a balance the guard has not counted yet, is left for a later run. A release may come late, never twice: its row
is create-only under the one key a void would use.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..holds import SHARDS, OpenHold, open_hold
from ..items import BALANCE_NAMES, HOLD_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True, slots=True)
class HoldTables:
    """Where holds live: the details table (their rows), the holds table and its index, the balances table."""

    details: str
    holds: str
    holds_index: str
    balances: str


class Release(enum.Enum):
    """What became of one release."""

    RELEASED = "released"
    CHANGED = "changed"  # captured, voided or released since it was read: nothing to do
    NOT_COUNTED = "not_counted"  # its balance item is of another epoch or not seeded: guard init first
    BUSY = "busy"  # a conflict or throttling: a later run releases it


def expired_holds(client: DynamoDBClient, tables: HoldTables, now_ms: int) -> Iterator[OpenHold]:
    """Every open hold whose expiry is at or before ``now_ms``, shard by shard, oldest expiry first."""
    return map(open_hold, expired_items(client, tables, now_ms))


def expired_items(client: DynamoDBClient, tables: HoldTables, now_ms: int) -> Iterator[dict[str, Any]]:
    """The items of ``expired_holds``, as the index holds them (DynamoDB's typed JSON)."""
    return open_items(client, tables, until_ms=now_ms)


def open_items(client: DynamoDBClient, tables: HoldTables, until_ms: int | None = None) -> Iterator[dict[str, Any]]:
    """The items of the index of open holds, shard by shard, oldest expiry first: those expired at ``until_ms``,
    or every one (``None``). Read lazily, page by page."""
    names = {"#sh": HOLD_NAMES["sh"]}
    condition = "#sh = :shard"
    bound: dict[str, Any] = {}
    if until_ms is not None:
        names["#ex"] = HOLD_NAMES["ex"]
        condition += " AND #ex <= :until"
        bound = {":until": {"N": str(until_ms)}}
    for shard in SHARDS:
        query = {
            "TableName": tables.holds,
            "IndexName": tables.holds_index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":shard": {"S": shard}, **bound},
        }
        while True:
            page = client.query(**query)  # type: ignore[arg-type]
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def release_expired(
    client: DynamoDBClient, tables: HoldTables, hold: OpenHold, now_ms: int, *, epoch: str, request_id: str
) -> Release:
    """Release what remains of an expired hold: its release row, the hold closed as expired, and the payer's
    balance item (held - remaining, free and headroom + remaining, openHolds - 1), all or nothing."""
    h, b = HOLD_NAMES, BALANCE_NAMES
    remaining = str(hold.remaining)
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": tables.details,
                        "Key": {"accountId": {"S": hold.account}, "transactionId": {"S": hold.release_id}},
                        "ConditionExpression": "attribute_not_exists(transactionId)",
                        "UpdateExpression": "SET #ty = :ty, #am = :am, #cu = :cu, #ho = :ho, #re = :re, #ra = :ra, "
                        "#rq = :rq, #ge = :ge",
                        "ExpressionAttributeNames": {
                            "#ty": "type",
                            "#am": "amount",
                            "#cu": "currency",
                            "#ho": "holdId",
                            "#re": "reason",
                            "#ra": "recordedAt",
                            "#rq": "requestId",
                            "#ge": "guardEpoch",
                        },
                        "ExpressionAttributeValues": {
                            ":ty": {"S": "release"},
                            ":am": {"N": remaining},
                            ":cu": {"S": hold.currency},
                            ":ho": {"S": hold.hold_id},
                            ":re": {"S": "expiry"},
                            ":ra": {"N": str(now_ms)},
                            ":rq": {"S": request_id},
                            ":ge": {"S": epoch},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": tables.holds,
                        "Key": {h["ac"]: {"S": hold.account}, h["id"]: {"S": hold.hold_id}},
                        "ConditionExpression": "#st = :open AND #rm = :remaining AND #ex <= :now",
                        "UpdateExpression": "SET #st = :expired, #rm = :zero REMOVE #sh",
                        "ExpressionAttributeNames": {
                            "#st": h["st"],
                            "#rm": h["rm"],
                            "#ex": h["ex"],
                            "#sh": h["sh"],
                        },
                        "ExpressionAttributeValues": {
                            ":open": {"S": "open"},
                            ":expired": {"S": "expired"},
                            ":remaining": {"N": remaining},
                            ":zero": {"N": "0"},
                            ":now": {"N": str(now_ms)},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": tables.balances,
                        "Key": {b["ac"]: {"S": hold.account}, b["cu"]: {"S": hold.currency}},
                        "ConditionExpression": "#ep = :epoch AND #sd = :seeded",
                        "UpdateExpression": "ADD #hd :released, #fr :remaining, #hr :remaining, #oh :minusOne",
                        "ExpressionAttributeNames": {
                            "#ep": b["ep"],
                            "#sd": b["sd"],
                            "#hd": b["hd"],
                            "#fr": b["fr"],
                            "#hr": b["hr"],
                            "#oh": b["oh"],
                        },
                        "ExpressionAttributeValues": {
                            ":epoch": {"S": epoch},
                            ":seeded": {"BOOL": True},
                            ":released": {"N": f"-{remaining}"},
                            ":remaining": {"N": remaining},
                            ":minusOne": {"N": "-1"},
                        },
                    }
                },
            ]
        )
    except ClientError as error:
        return _refused(error)
    return Release.RELEASED


def _refused(error: ClientError) -> Release:
    code = error.response.get("Error", {}).get("Code")
    if code in {"ThrottlingException", "TransactionConflictException"}:
        return Release.BUSY
    if code != "TransactionCanceledException":
        raise error
    codes = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
    if any(code in {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"} for code in codes):
        return Release.BUSY
    if codes[:2] != ["None", "None"]:
        return Release.CHANGED
    return Release.NOT_COUNTED


@dataclass(frozen=True, slots=True)
class Swept:
    """What one sweep did: its releases by outcome, the items it could not read (each with why), and whether it
    stopped for time before it had read every shard."""

    outcomes: dict[Release, int] = field(default_factory=dict)
    unreadable: tuple[str, ...] = ()
    stopped: bool = False

    def count(self, outcome: Release) -> int:
        """How many releases ended so."""
        return self.outcomes.get(outcome, 0)

    @property
    def left(self) -> int:
        """Expired holds this sweep found and did not release, for a later run: not counted or busy."""
        return self.count(Release.NOT_COUNTED) + self.count(Release.BUSY)

    def describe(self) -> str:
        """One line for a person (and a log)."""
        return (
            f"{self.count(Release.RELEASED)} released, {self.count(Release.CHANGED)} captured or voided since "
            f"read, {self.count(Release.NOT_COUNTED)} on a balance not counted in the guard's epoch (run "
            f"ledger-ops guard init), {self.count(Release.BUSY)} busy (a later run releases them), "
            f"{len(self.unreadable)} unreadable" + (", stopped for time" if self.stopped else "")
        )


def sweep(
    client: DynamoDBClient,
    tables: HoldTables,
    now_ms: int,
    *,
    epoch: str,
    request_id: str,
    stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] = lambda _: None,
) -> Swept:
    """Release every open hold expired at ``now_ms`` (the sweeper's run, and ``ledger-ops holds expire``), until
    ``stop`` says the time is spent; ``progress`` hears of each item taken. An item that is not an open hold (no
    API request writes one) is reported and passed over: it never keeps the others from their release."""
    outcomes: Counter[Release] = Counter()
    unreadable: list[str] = []
    for item in expired_items(client, tables, now_ms):
        if stop():
            return Swept(dict(outcomes), tuple(unreadable), stopped=True)
        progress(1)
        try:
            hold = open_hold(item)
        except ValueError as error:
            unreadable.append(str(error))
            continue
        outcomes[release_expired(client, tables, hold, now_ms, epoch=epoch, request_id=request_id)] += 1
    return Swept(dict(outcomes), tuple(unreadable))
