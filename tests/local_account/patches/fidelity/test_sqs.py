"""The fidelity patches of SQS (local_account/patches/fidelity/sqs.py), checked against the local account's
server."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.aws import client_of


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


def test_receives_beside_other_receives_are_answered_never_refused(clients: dict[str, Any]) -> None:
    """Seen in a make test run: moto built the set of in-flight message groups by walking the queue's set of
    in-flight messages while another receive changed it, and the receive was answered 500 ("Set changed size
    during iteration"). SQS answers each ReceiveMessage whatever else reads the queue at the same time
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html lists no
    such error). Four readers take and give back messages (visibility 0), each receive walking the set that
    the others change; the interpreter switches threads as often as it can, so that a walk is interrupted."""
    url = clients["sqs"].create_queue(QueueName="e-busy")["QueueUrl"]
    for start in range(0, 400, 10):
        entries = [{"Id": str(i), "MessageBody": str(i)} for i in range(start, start + 10)]
        clients["sqs"].send_message_batch(QueueUrl=url, Entries=entries)
    refused: list[str] = []

    def read(reader: Any) -> None:
        for _ in range(100):
            try:
                reader.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            except ClientError as error:
                refused.append(str(error))
                return

    once = client_of(clients["sqs"].meta.endpoint_url, config=Config(retries={"total_max_attempts": 1}))
    readers = [once("sqs") for _ in range(4)]  # each call sent once: a refused call is seen, not retried
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(len(readers)) as pool:
            list(pool.map(read, readers))
    finally:
        sys.setswitchinterval(interval)
    assert refused == []
