"""The DynamoDB summary store under moto: atomicity, markers, latest time, large deltas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ledger_aggregator.adapters.dynamodb import (
    RECORDS_PER_WRITE,
    TABLE_ACTIONS,
    Backoff,
    DynamoSummaryStore,
    StoredTimes,
)
from ledger_aggregator.domain import coalesce, parse_batch
from ledger_aggregator.summary_item import summary_key
from local_account.execution_roles import Call, needed
from tests.support.aws import APPLIED, SUMMARY, create_tables
from tests.support.ledger import Ledger, image

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def as_dynamodb(double: object) -> DynamoDBClient:
    """A double that wraps a moto client, where the store takes a client."""
    return cast("DynamoDBClient", double)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client)
        yield client


def store(client: Any) -> DynamoSummaryStore:
    return DynamoSummaryStore(client, SUMMARY, APPLIED, 86_400, clock=lambda: 1_000_000.0)


def summary(client: Any, account: str) -> dict[str, Any]:
    item: dict[str, Any] = client.get_item(TableName=SUMMARY, Key=summary_key(account, "EUR"), ConsistentRead=True)[
        "Item"
    ]
    return item


def without_summaries(client: Any, request: dict[str, Any]) -> Any:
    """A BatchGetItem that leaves the summary table's keys unprocessed, as a throttled table may."""
    asked = {table: keys for table, keys in request.items() if table != SUMMARY}
    response = client.batch_get_item(RequestItems=asked) if asked else {"Responses": {}}
    return {**response, "UnprocessedKeys": {SUMMARY: request[SUMMARY]} if SUMMARY in request else {}}


def test_a_delta_larger_than_one_transaction_is_written_in_parts_exactly_once(dynamodb: Any) -> None:
    ledger = Ledger()
    for i in range(RECORDS_PER_WRITE * 2 + 5):
        ledger.put(image("acc", f"t{i}", "credit", "0.01"))
    deltas = coalesce(parse_batch(ledger.records).changes)
    (first,) = store(dynamodb).write(deltas)
    assert (first.applied, first.writes, first.error) == (203, 3, None)
    (again,) = store(dynamodb).write(deltas)
    assert (again.applied, again.duplicates, again.writes) == (0, 203, 0)
    assert summary(dynamodb, "acc")["credits"]["N"] == "2.03"


def test_markers_carry_the_account_and_an_expiry(dynamodb: Any) -> None:
    ledger = Ledger()
    record = ledger.put(image("acc", "t1", "debit", "2"))
    store(dynamodb).write(coalesce(parse_batch(ledger.records).changes))
    marker = dynamodb.get_item(TableName=APPLIED, Key={"id": {"S": record["eventID"]}})["Item"]
    assert marker["accountId"] == {"S": "acc"}
    assert marker["expiresAt"] == {"N": str(1_000_000 + 86_400)}


def test_last_transaction_time_only_moves_forward(dynamodb: Any) -> None:
    ledger = Ledger()
    ledger.put(image("acc", "late", "credit", "1", at="2026-05-01T00:00:00Z"))
    store(dynamodb).write(coalesce(parse_batch(ledger.records).changes))
    earlier = Ledger()
    earlier.records = []
    earlier._sequence = 10
    earlier.put(image("acc", "early", "credit", "2", at="2026-04-01T00:00:00Z"))
    (result,) = store(dynamodb).write(coalesce(parse_batch(earlier.records).changes))
    assert result.error is None and result.applied == 1
    item = summary(dynamodb, "acc")
    assert item["lastTransactionAt"] == {"S": "2026-05-01T00:00:00.000000Z"}
    assert Decimal(item["credits"]["N"]) == 3


def test_a_marker_written_behind_the_reads_back_is_still_caught_by_the_condition(dynamodb: Any) -> None:
    ledger = Ledger()
    ledger.put(image("acc", "t1", "credit", "4"))
    ledger.put(image("acc", "t2", "credit", "6"))
    deltas = coalesce(parse_batch(ledger.records).changes)
    first_only = coalesce(parse_batch(ledger.records[:1]).changes)
    store(dynamodb).write(first_only)
    blind = UnreadMarkers(dynamodb)  # the read-ahead finds no marker: only the transaction's condition can
    (result,) = store(blind).write(deltas)
    assert (result.applied, result.duplicates) == (1, 1)
    assert blind.asked_for_markers and blind.cancelled == 1, "the marker was caught by the condition"
    assert summary(dynamodb, "acc")["credits"]["N"] == "10"


class UnreadMarkers:
    """A client whose reads ahead find no applied marker (as if written behind them), and that counts the
    transactions DynamoDB cancelled."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.asked_for_markers = False
        self.cancelled = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> Any:
        self.asked_for_markers |= APPLIED in RequestItems
        asked = {table: keys for table, keys in RequestItems.items() if table != APPLIED}
        response = self._client.batch_get_item(RequestItems=asked) if asked else {"Responses": {}}
        return {**response, "Responses": {**response.get("Responses", {}), APPLIED: []}}

    def transact_write_items(self, **kwargs: Any) -> Any:
        try:
            return self._client.transact_write_items(**kwargs)
        except ClientError as error:
            self.cancelled += error.response["Error"]["Code"] == "TransactionCanceledException"
            raise


def refused_for_capacity(items: list[Any]) -> ClientError:
    """The cancellation DynamoDB answers a transaction with when the table has no capacity left."""
    reasons = [{"Code": "ProvisionedThroughputExceeded"}] * len(items)
    error = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons}
    return ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]


class ThrottledFor:
    """A client whose first ``times`` transactions are refused for capacity."""

    def __init__(self, client: Any, times: int) -> None:
        self._client = client
        self.left = times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        if self.left:
            self.left -= 1
            raise refused_for_capacity(kwargs["TransactItems"])
        return self._client.transact_write_items(**kwargs)


def paced(client: Any, deadline: float | None, slept: list[float]) -> DynamoSummaryStore:
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    backoff = Backoff(deadline=deadline, clock=lambda: now[0], sleep=sleep, jitter=lambda ceiling: ceiling)
    return DynamoSummaryStore(client, SUMMARY, APPLIED, 86_400, backoff=backoff)


@pytest.mark.parametrize(
    ("deadline", "ok", "pauses"),
    [(10.0, True, [0.05, 0.1, 0.1]), (0.2, False, [0.05, 0.1]), (None, False, [])],
)
def test_a_throttled_write_is_waited_for_within_the_deadline_only(
    dynamodb: Any, deadline: float | None, ok: bool, pauses: list[float]
) -> None:
    ledger = Ledger()
    ledger.put(image("acc", "t1", "credit", "1.50"))
    slept: list[float] = []
    (result,) = paced(ThrottledFor(dynamodb, 3), deadline, slept).write(coalesce(parse_batch(ledger.records).changes))
    assert (result.ok, result.throttled, slept) == (ok, not ok, pauses)
    assert ("Item" in dynamodb.get_item(TableName=SUMMARY, Key=summary_key("acc", "EUR"))) == ok


class ThrottledAfterEachRefusal(ThrottledFor):
    """Counts conditional attempts; after each transaction refused on a condition, throttles the next ``times``.

    That is a shared table under contention: a cancelled conditional write spends capacity (on AWS, as here),
    so the attempt after it often finds none left.
    """

    def __init__(self, client: Any, times: int) -> None:
        super().__init__(client, 0)
        self._times = times
        self.conditional_attempts = 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> Any:
        return without_summaries(self._client, RequestItems)  # the stored time is learned from the refusal

    def transact_write_items(self, **kwargs: Any) -> Any:
        throttled = bool(self.left)
        if not throttled:
            self.conditional_attempts += "ConditionExpression" in kwargs["TransactItems"][0]["Update"]
        try:
            return super().transact_write_items(**kwargs)
        except ClientError:
            if not throttled:
                self.left = self._times
            raise


def test_what_a_refused_write_taught_is_kept_while_waiting_out_throttling(dynamodb: Any) -> None:
    """The soak's pattern 2 livelocked: after each throttle the writer began again with the condition on
    lastTransactionAt that had just been refused, spent capacity on that doomed attempt, and was throttled
    on the next: 172 transactions committed in 130 s against a budget of 15 a second."""
    ledger = Ledger()
    ledger.put(image("acc", "late", "credit", "1", at="2026-05-01T00:00:00Z"))
    ledger.put(image("acc", "early", "credit", "2", at="2026-04-01T00:00:00Z"))
    late, early = (coalesce(parse_batch([record]).changes) for record in ledger.records)
    store(dynamodb).write(late)
    client = ThrottledAfterEachRefusal(dynamodb, times=2)
    (result,) = paced(client, 10.0, []).write(early)
    assert (result.ok, result.applied) == (True, 1)
    assert client.conditional_attempts == 1, "the refused condition is not sent again after a backoff"
    item = summary(dynamodb, "acc")
    assert (Decimal(item["credits"]["N"]), item["lastTransactionAt"]["S"]) == (
        Decimal(3),
        "2026-05-01T00:00:00.000000Z",
    )


class CountingConditions:
    """Counts the writes that carry the condition on lastTransactionAt, and those refused."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.conditional = 0
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        if "ConditionExpression" in kwargs["TransactItems"][0]["Update"]:
            self.conditional += 1
        try:
            return self._client.transact_write_items(**kwargs)
        except ClientError:
            self.refused += 1
            raise


def deltas_at(*times: str) -> list[list[Any]]:
    ledger = Ledger()
    for i, at in enumerate(times):
        ledger.put(image("acc", f"t{i}", "credit", "1", at=at))
    return [coalesce(parse_batch([record]).changes) for record in ledger.records]


def test_an_environment_remembers_stored_times_so_backdated_deltas_cost_no_refused_write(dynamodb: Any) -> None:
    """Backdated transactions (an occurredAt older than the summary's) each cost a refused, charged
    transaction and a second one without the time: in the pattern-2 soak, about 45% of the capacity."""
    newest, *backdated = deltas_at("2026-05-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-03-01T00:00:00Z")
    client = CountingConditions(dynamodb)
    times = StoredTimes()
    DynamoSummaryStore(as_dynamodb(client), SUMMARY, APPLIED, 86_400, times=times).write(newest)
    for delta in backdated:
        (result,) = DynamoSummaryStore(as_dynamodb(client), SUMMARY, APPLIED, 86_400, times=times).write(delta)
        assert result.ok
    assert (client.conditional, client.refused) == (1, 0)
    item = summary(dynamodb, "acc")
    assert (item["credits"]["N"], item["lastTransactionAt"]["S"]) == ("3", "2026-05-01T00:00:00.000000Z")


def test_environments_taking_turns_on_one_item_spend_no_refused_write(dynamodb: Any) -> None:
    """Out-of-order deltas still cost a refused, charged transaction wherever an environment knew less than
    the item held: at first contact, and each time another environment had stored a later time since. Two
    environments taking turns over 5, 3, 7, 6, 9, 8 were refused 3 times; the pattern-2 soak, 713 times
    against 3,450 committed summary writes (21%). The stored time is now read, in the request that reads
    the markers, for each item whose delta would set it beyond what the environment knows."""
    times = [f"2026-0{month}-01T00:00:00Z" for month in (5, 3, 7, 6, 9, 8)]
    client, environments = CountingConditions(dynamodb), (StoredTimes(), StoredTimes())
    for turn, delta in enumerate(deltas_at(*times)):
        (result,) = DynamoSummaryStore(
            as_dynamodb(client), SUMMARY, APPLIED, 86_400, times=environments[turn % 2]
        ).write(delta)
        assert result.ok
    assert client.refused == 0
    item = summary(dynamodb, "acc")
    assert (item["credits"]["N"], item["lastTransactionAt"]["S"]) == ("6", "2026-09-01T00:00:00.000000Z")


class UnreadSummaries(CountingConditions):
    """Reads that do not answer for the summary table (throttled or unprocessed): the condition decides."""

    def batch_get_item(self, RequestItems: dict[str, Any]) -> Any:
        return without_summaries(self._client, RequestItems)


def test_a_refusal_teaches_the_stored_time_another_writer_set(dynamodb: Any) -> None:
    newest, older, oldest, later = deltas_at(
        "2026-05-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z"
    )
    DynamoSummaryStore(dynamodb, SUMMARY, APPLIED, 86_400).write(newest)  # another execution environment
    client, times = UnreadSummaries(dynamodb), StoredTimes()
    for delta in (older, oldest):
        (result,) = DynamoSummaryStore(as_dynamodb(client), SUMMARY, APPLIED, 86_400, times=times).write(delta)
        assert result.ok
    assert (client.conditional, client.refused) == (1, 1), "refused once, then known: 2026-05-01"
    assert times.known[("acc", "EUR")] == "2026-05-01T00:00:00.000000Z"
    DynamoSummaryStore(as_dynamodb(client), SUMMARY, APPLIED, 86_400, times=times).write(later)
    assert summary(dynamodb, "acc")["lastTransactionAt"] == {"S": "2026-06-01T00:00:00.000000Z"}


class CallRecorder:
    """The IAM actions a client's calls need, per table name, as the local account's role check reads them."""

    def __init__(self, client: Any) -> None:
        self.needed: set[tuple[str, str]] = set()
        client.meta.events.register("before-parameter-build.dynamodb.*", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        call = Call(
            "dynamodb", "eu-west-1", "POST", "/", f"DynamoDB_20120810.{model.name}", json.dumps(params).encode()
        )
        self.needed |= {(action, arn.rpartition("/")[2]) for action, arn in needed(call)}


def test_the_store_asks_each_table_only_what_its_roles_are_granted(dynamodb: Any) -> None:
    """The store began to read the summary table (BatchGetItem) while the functions' roles allowed it only
    UpdateItem: the local account does not enforce the functions' roles, so nothing failed here. Every path
    (first write, repetition, a refusal, a description-only MODIFY) asks only what TABLE_ACTIONS lists, and
    tests/integration/test_access.py holds the deployed roles to that list."""
    recorder = CallRecorder(dynamodb)
    newest, older = deltas_at("2026-05-01T00:00:00Z", "2026-04-01T00:00:00Z")
    store(dynamodb).write(newest)
    store(dynamodb).write(newest)
    DynamoSummaryStore(as_dynamodb(UnreadSummaries(dynamodb)), SUMMARY, APPLIED, 86_400).write(older)
    ledger = Ledger()
    row = image("acc", "t9", "credit", "1", at="2026-06-01T00:00:00Z")
    ledger.put(row)
    ledger.put({**row, "description": {"S": "renamed"}, "occurredAt": {"S": "2026-07-01T00:00:00Z"}})
    store(dynamodb).write(coalesce(parse_batch(ledger.records[1:]).changes))  # no money: UpdateItem alone
    tables = {SUMMARY: "summary", APPLIED: "applied"}
    asked = {(action, tables[table]) for action, table in recorder.needed}
    granted = {(action, role) for role, actions in TABLE_ACTIONS.items() for action in actions}
    assert asked == granted


def test_a_summary_the_writer_creates_again_after_a_deletion_never_repeats_a_revision(dynamodb: Any) -> None:
    # Balance events are named accountId:currency:revision (docs/events.md): a revision used twice for a
    # key would name two changes. An item's revision starts at its creation time in microseconds.
    now = [1_767_225_600.0]
    writer = DynamoSummaryStore(dynamodb, SUMMARY, APPLIED, 86_400, clock=lambda: now[0])
    ledger = Ledger()

    def write(txid: str) -> int:
        ledger.put(image("acc", txid, "credit", "1"))
        assert all(r.ok for r in writer.write(coalesce(parse_batch(ledger.records[-1:]).changes)))
        return int(summary(dynamodb, "acc")["revision"]["N"])

    first = [write(f"t{i}") for i in range(3)]
    assert first == [1_767_225_600_000_001, 1_767_225_600_000_002, 1_767_225_600_000_003], "from the floor, +1"
    dynamodb.delete_item(TableName=SUMMARY, Key=summary_key("acc", "EUR"))
    now[0] += 0.001  # a millisecond later: the old item could have taken one write in that time, not 1,000
    again = [write(f"u{i}") for i in range(3)]
    assert again[0] > first[-1] and again == [again[0], again[0] + 1, again[0] + 2]
