"""The fidelity patches of SQS (local_account/patches/fidelity/sqs.py), checked against the local account's
server."""

from __future__ import annotations

import json
from typing import Any


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
