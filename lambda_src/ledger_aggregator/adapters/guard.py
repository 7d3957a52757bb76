"""What the writer's removal guard reads: the buffer's queues and the stream function's configuration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, get_args

from botocore.exceptions import ClientError

from ..retirement import BufferState

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

# The counts of a queue's messages: visible, in flight and delayed.
_Count = Literal[
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"
]
_COUNTS: tuple[_Count, ...] = get_args(_Count)


def queue_depth(sqs: SQSClient, url: str) -> int:
    """Messages in a queue: visible, in flight and delayed."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_COUNTS)["Attributes"]
    return sum(int(attributes.get(name, "0")) for name in _COUNTS)


def buffer_state(
    sqs: SQSClient, lambda_client: LambdaClient, queue_urls: Sequence[str], stream_function: str
) -> BufferState:
    """Read the queues' depths and the stream function's pattern, age and timeout."""
    messages = {url.rsplit("/", 1)[-1]: queue_depth(sqs, url) for url in queue_urls}
    try:
        config = lambda_client.get_function_configuration(FunctionName=stream_function)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        return BufferState(messages, None, 0.0, 0.0)
    pattern = str((config.get("Environment") or {}).get("Variables", {}).get("PATTERN", "1"))
    changed = datetime.strptime(str(config["LastModified"])[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    quiet = (datetime.now(UTC) - changed).total_seconds()
    return BufferState(messages, pattern, quiet, float(config.get("Timeout", 3)))
