"""The fidelity patches of DynamoDB and its streams (local_account/patches/fidelity/dynamodb.py): writes,
transactions and stream reads as on AWS, checked against the local account's server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_account.patches.fidelity import dynamodb as dynamodb_fidelity
from tests.local_account.conftest import apply, iterator_of, requests_post, streams_of
from tests.support.aws import streamed_table


@pytest.mark.parametrize("call", ["describe_table", "delete_table"])
def test_a_missing_table_is_named_in_the_answer_as_dynamodb_names_it(clients: dict[str, Any], call: str) -> None:
    """The AWS provider treats a DeleteTable that finds no table as done only when the message names it."""
    with pytest.raises(ClientError) as raised:
        getattr(clients["dynamodb"], call)(TableName="e-gone")
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: e-gone not found",
    )


def test_an_update_that_creates_an_item_streams_one_insert_with_the_whole_item(clients: dict[str, Any]) -> None:
    """AWS streams one INSERT with the new item for an UpdateItem that creates it (moto streamed the bare key
    first, as a second INSERT). https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html"""
    dynamodb = clients["dynamodb"]
    arn = streamed_table(dynamodb, "e-upserted")
    dynamodb.update_item(
        TableName="e-upserted",
        Key={"id": {"S": "a"}},
        UpdateExpression="SET c = :c",
        ExpressionAttributeValues={":c": {"N": "5"}},
    )
    streams = streams_of(dynamodb)
    records = streams.get_records(ShardIterator=iterator_of(streams, arn))["Records"]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]) for r in records] == [
        ("INSERT", {"id": {"S": "a"}, "c": {"N": "5"}})
    ]


def test_an_update_that_fails_part_way_writes_nothing(clients: dict[str, Any]) -> None:
    """Reviewed finding: an UpdateItem with an unpaired surrogate stored the attributes before it, answered
    500, and the stream never carried the partial row. DynamoDB's strings are UTF-8, which cannot hold one."""
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": "surrogate"}}
    body = json.dumps(
        {
            "TableName": "e-account-summary",
            "Key": key,
            "UpdateExpression": "SET a = :a, d = :d",
            "ExpressionAttributeValues": {":a": {"N": "1"}, ":d": {"S": "x\ud800y"}},
        }
    )
    answer = requests_post(dynamodb.meta.endpoint_url, "UpdateItem", body)
    assert answer[0] == 400 and "ValidationException" in answer[1]
    assert "Item" not in dynamodb.get_item(TableName="e-account-summary", Key=key)


def test_an_update_whose_later_action_fails_writes_none_of_its_actions(clients: dict[str, Any]) -> None:
    """moto applied ``SET a`` and then failed on ``ADD`` to a string, leaving ``a`` written."""
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": "half-done"}}
    dynamodb.put_item(TableName="e-account-summary", Item={**key, "c": {"S": "text"}})
    with pytest.raises(ClientError, match="ValidationException"):
        dynamodb.update_item(
            TableName="e-account-summary",
            Key=key,
            UpdateExpression="SET a = :a ADD c :one",
            ExpressionAttributeValues={":a": {"N": "1"}, ":one": {"N": "1"}},
        )
    assert dynamodb.get_item(TableName="e-account-summary", Key=key)["Item"] == {**key, "c": {"S": "text"}}


def test_a_cancelled_transaction_on_a_streamed_table_emits_nothing_and_the_stream_goes_on(
    clients: dict[str, Any],
) -> None:
    # AWS: a cancelled TransactWriteItems writes nothing, so its stream has no record of it, and the
    # stream (and every iterator on it) carries on. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
    dynamodb = clients["dynamodb"]
    arn = dynamodb.create_table(
        TableName="e-streamed",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "t", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "a", "AttributeType": "S"},
            {"AttributeName": "t", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    streams = streams_of(dynamodb)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]

    def leg(account: str) -> dict[str, Any]:
        key = {"a": {"S": account}, "t": {"S": "x1"}}
        return {"Put": {"TableName": "e-streamed", "Item": key, "ConditionExpression": "attribute_not_exists(t)"}}

    dynamodb.put_item(TableName="e-streamed", Item={"a": {"S": "bob"}, "t": {"S": "x1"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[leg("alice"), leg("bob")])  # bob's leg exists
    dynamodb.put_item(TableName="e-streamed", Item={"a": {"S": "carol"}, "t": {"S": "t1"}})
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["a"]["S"] for r in records] == ["bob", "carol"]
    assert "Item" not in dynamodb.get_item(TableName="e-streamed", Key={"a": {"S": "alice"}, "t": {"S": "x1"}})


def test_a_cancelled_transaction_leaves_nothing_behind(clients: dict[str, Any]) -> None:
    dynamodb = clients["dynamodb"]
    apply(dynamodb, "acc", ["m1"])
    with pytest.raises(ClientError) as raised:
        apply(dynamodb, "acc", ["m2", "m1", "m3"])
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed", "None"]
    assert dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "acc"}})["Item"]["c"] == {"N": "1"}
    ids = {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]}
    assert ids == {"m1"}, "the markers of the cancelled transaction were rolled back"
    apply(dynamodb, "acc", ["m2", "m3"])
    assert dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "acc"}})["Item"]["c"] == {"N": "2"}


def _waits_for_the_write_lock(call: Callable[[], Any]) -> None:
    """``call`` does not finish while a write holds the lock, and finishes once it is released."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        with dynamodb_fidelity.WRITE_LOCK:  # a write in progress
            pending = pool.submit(call)
            finished, _ = wait([pending], timeout=0.5)
            assert not finished, "it went ahead while a write was in progress"
        pending.result(timeout=30)


def test_a_write_waits_while_another_write_is_in_progress(clients: dict[str, Any]) -> None:
    """DynamoDB's writes are isolated; moto's threads wrote concurrently, and a cancelled transaction's restore
    could erase a write made meanwhile. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html"""
    dynamodb = clients["dynamodb"]
    _waits_for_the_write_lock(
        lambda: dynamodb.update_item(
            TableName="e-account-summary",
            Key={"accountId": {"S": "isolated"}},
            UpdateExpression="ADD c :c",
            ExpressionAttributeValues={":c": {"N": "1"}},
        )
    )
    item = dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "isolated"}})["Item"]
    assert item["c"] == {"N": "1"}


def test_writes_that_overlap_a_transaction_on_its_items_conflict_rather_than_queue(clients: dict[str, Any]) -> None:
    """AWS cancels a transaction on an item another transaction in progress holds, and refuses a single write
    of such an item with TransactionConflictException; the local account's write lock would have queued them."""
    dynamodb = clients["dynamodb"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        with dynamodb_fidelity.WRITE_LOCK:  # the first transaction waits for the write lock: it is in progress
            first = pool.submit(apply, dynamodb, "overlap", ["o1"])
            deadline = time.monotonic() + 10
            while not len(dynamodb_fidelity.ITEMS_IN_FLIGHT) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(dynamodb_fidelity.ITEMS_IN_FLIGHT) == 2, "the first transaction holds its two items"
            with pytest.raises(ClientError) as cancelled:
                apply(dynamodb, "overlap", ["o2"])
            with pytest.raises(ClientError) as updated:
                dynamodb.update_item(
                    TableName="e-account-summary",
                    Key={"accountId": {"S": "overlap"}},
                    UpdateExpression="ADD c :c",
                    ExpressionAttributeValues={":c": {"N": "5"}},
                )
            with pytest.raises(ClientError) as put:
                dynamodb.put_item(TableName="e-applied", Item={"id": {"S": "o1"}, "other": {"S": "x"}})
        first.result(timeout=30)
    assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == ["TransactionConflict", "None"]
    assert (
        updated.value.response["Error"]["Code"] == put.value.response["Error"]["Code"] == "TransactionConflictException"
    )
    assert dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "overlap"}})["Item"]["c"] == {
        "N": "1"
    }
    assert {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]} & {"o1", "o2"} == {"o1"}
    apply(dynamodb, "overlap", ["o3"])  # the first one ended: its items are free again
    assert len(dynamodb_fidelity.ITEMS_IN_FLIGHT) == 0


def test_an_item_read_waits_while_a_write_is_in_progress(clients: dict[str, Any]) -> None:
    """A GetItem, Query or Scan answers each item as a committed write left it: moto updated items in place,
    action by action, and answered references to them, so a read beside an update could see it half done.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-isolation"""
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": "read-whole"}}
    dynamodb.put_item(TableName="e-account-summary", Item=key)
    _waits_for_the_write_lock(lambda: dynamodb.get_item(TableName="e-account-summary", Key=key))
    _waits_for_the_write_lock(
        lambda: dynamodb.query(
            TableName="e-account-summary",
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues={":a": key["accountId"]},
        )
    )
    _waits_for_the_write_lock(lambda: dynamodb.scan(TableName="e-account-summary", Limit=1))
    read = {"TransactItems": [{"Get": {"TableName": "e-account-summary", "Key": key}}]}
    _waits_for_the_write_lock(lambda: dynamodb.transact_get_items(**read))
    _waits_for_the_write_lock(lambda: dynamodb.batch_get_item(RequestItems={"e-account-summary": {"Keys": [key]}}))


def test_a_stream_read_waits_while_a_write_is_in_progress(clients: dict[str, Any]) -> None:
    """A reader sees a transaction's records whole or not at all, so GetRecords waits for a write under way."""
    dynamodb = clients["dynamodb"]
    arn = streamed_table(dynamodb, "e-read-whole")
    streams = streams_of(dynamodb)
    iterator = iterator_of(streams, arn)
    _waits_for_the_write_lock(lambda: streams.get_records(ShardIterator=iterator))
