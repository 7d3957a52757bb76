"""The metering patch (local_account/patches/sqs_metering.py) and the meter it feeds (local_account/meter.py)."""

from __future__ import annotations

from typing import Any

from local_account import meter
from tests.local_account.conftest import apply


def test_the_meter_counts_write_units_per_table_and_sqs_requests_that_carry_messages(
    clients: dict[str, Any],
) -> None:
    meter.METER.reset()
    apply(clients["dynamodb"], "metered", ["metered-1", "metered-2"])  # a transaction of three items: 2 units each
    clients["dynamodb"].put_item(TableName="e-applied", Item={"id": {"S": "metered-3"}})
    assert dict(meter.METER.write_units) == {"summary": 2, "applied": 5}
    sqs = clients["sqs"]
    url = sqs.create_queue(QueueName="metered")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # an empty receive is not counted
    sqs.send_message(QueueUrl=url, MessageBody="x")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert dict(meter.METER.sqs_requests) == {"SendMessage": 1, "ReceiveMessage": 1, "DeleteMessage": 1}
