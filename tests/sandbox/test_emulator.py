"""The emulator's corrections of moto, checked against its server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox import emulator, faults, metering


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    server, url = emulator.start()
    make = lambda service: boto3.client(  # noqa: E731
        service, endpoint_url=url, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    dynamodb = make("dynamodb")
    for name, key in (("e-account-summary", "accountId"), ("e-applied", "id")):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield {"dynamodb": dynamodb, "sqs": make("sqs")}
    server.stop()


def apply(dynamodb: Any, account: str, markers: list[str]) -> None:
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": "e-account-summary",
                "Key": {"accountId": {"S": account}},
                "UpdateExpression": "ADD c :c",
                "ExpressionAttributeValues": {":c": {"N": "1"}},
            }
        }
    ]
    items += [
        {"Put": {"TableName": "e-applied", "Item": {"id": {"S": m}}, "ConditionExpression": "attribute_not_exists(id)"}}
        for m in markers
    ]
    dynamodb.transact_write_items(TransactItems=items)


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


def test_a_throttled_transaction_is_cancelled_with_the_reason_and_writes_nothing(clients: dict[str, Any]) -> None:
    dynamodb = clients["dynamodb"]
    previous, faults.ACTIVE = faults.ACTIVE, faults.Faults(throttle_wcu=1)
    try:
        with pytest.raises(ClientError) as raised:
            apply(dynamodb, "throttled", ["t1"])
    finally:
        faults.ACTIVE = previous
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == [
        "ProvisionedThroughputExceeded",
        "None",
    ]
    assert "Item" not in dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "throttled"}})
    assert {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]} & {"t1"} == set()


def test_redrive_policy_is_compact_json_as_aws_returns_it(clients: dict[str, Any]) -> None:
    sqs = clients["sqs"]
    dlq = sqs.create_queue(QueueName="e-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5}, separators=(",", ":"))
    queue = sqs.create_queue(QueueName="e-src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    assert (
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
        == policy
    )


def test_the_meter_counts_write_units_per_table_and_sqs_requests_that_carry_messages(
    clients: dict[str, Any],
) -> None:
    metering.METER.reset()
    apply(clients["dynamodb"], "metered", ["metered-1", "metered-2"])  # a transaction of three items: 2 units each
    clients["dynamodb"].put_item(TableName="e-applied", Item={"id": {"S": "metered-3"}})
    assert dict(metering.METER.write_units) == {"summary": 2, "applied": 5}
    sqs = clients["sqs"]
    url = sqs.create_queue(QueueName="metered")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # an empty receive is not counted
    sqs.send_message(QueueUrl=url, MessageBody="x")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert dict(metering.METER.sqs_requests) == {"SendMessage": 1, "ReceiveMessage": 1, "DeleteMessage": 1}
