"""What the writer's removal guard reads: the buffer's queues and the stream function's configuration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..retirement import BufferState

_COUNTS = [f"ApproximateNumberOfMessages{kind}" for kind in ("", "NotVisible", "Delayed")]


def queue_depth(sqs: Any, url: str) -> int:
    """Messages in a queue: visible, in flight and delayed."""
    attributes: Mapping[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_COUNTS)["Attributes"]
    return sum(int(attributes.get(name, "0")) for name in _COUNTS)


def buffer_state(sqs: Any, lambda_client: Any, queue_urls: Sequence[str], stream_function: str) -> BufferState:
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
