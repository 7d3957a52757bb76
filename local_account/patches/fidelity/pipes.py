"""Fidelity patches of EventBridge Pipes: pipes refused as AWS refuses them.

* A pipe whose source batch is larger than its target takes is refused at CreatePipe and UpdatePipe, as
  AWS refuses it; moto stored any.
* A pipe whose source DynamoDB stream was disabled cannot be stopped, started or updated, as on AWS (a
  re-enabled stream is another stream); moto did all three.
* A pipe whose role may not read its source DynamoDB stream is refused at CreatePipe; on AWS it ends
  CREATE_FAILED ("The provided customer role does not have permissions"), which fails the apply that made
  it. A role the account does not hold is not checked.
"""

from __future__ import annotations

from typing import Any

import moto.dynamodb.models as dynamodb_models
import moto.pipes.models as pipes_models
from moto.pipes.exceptions import ValidationException as PipesValidationException

from ... import execution_roles, iam, pipes
from ...patching import Patcher

# The largest batch each batching target of a pipe takes (a Lambda function or a state machine takes what
# its payload allows): https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html
PIPE_TARGET_BATCH = {
    "events": pipes.BUS_TARGET_BATCH,
    "sqs": 10,
    "sns": 10,
    "kinesis": 500,
    "firehose": 500,
    "logs": 10000,
}


def _source_batch_size(source_parameters: dict[str, Any] | None) -> int | None:
    """The ``BatchSize`` of a pipe's source parameters (``DynamoDBStreamParameters`` and the like), if set."""
    for value in (source_parameters or {}).values():
        if isinstance(value, dict) and value.get("BatchSize") is not None:
            return int(value["BatchSize"])
    return None


def _refuse_a_batch_the_target_cannot_take(name: str, target: str, batch: int | None) -> None:
    service = target.split(":")[2] if target.count(":") >= 2 else ""
    largest = PIPE_TARGET_BATCH.get(service)
    if batch is not None and largest is not None and batch > largest:
        raise PipesValidationException(
            f"Pipe {name}: the source's BatchSize {batch} is larger than its target takes ({largest} for {service})"
        )


def pipe_batches_the_target_takes(patcher: Patcher) -> None:
    """CreatePipe and UpdatePipe refuse a source batch larger than the target takes (an event bus: 10)."""
    backend = pipes_models.EventBridgePipesBackend
    create, update = backend.create_pipe, backend.update_pipe

    def creating(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        _refuse_a_batch_the_target_cannot_take(name, kwargs["target"], _source_batch_size(kwargs["source_parameters"]))
        return create(self, name, *args, **kwargs)

    def updating(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        pipe = self.pipes.get(name)
        if pipe is not None:
            batch = _source_batch_size(kwargs["source_parameters"]) or _source_batch_size(pipe.source_parameters)
            _refuse_a_batch_the_target_cannot_take(name, kwargs["target"] or pipe.target, batch)
        return update(self, name, *args, **kwargs)

    patcher.replace(backend, "create_pipe", creating)
    patcher.replace(backend, "update_pipe", updating)


def _disabled_stream(source: str) -> bool:
    """Whether ``source`` is a DynamoDB stream that is no longer its table's enabled stream."""
    if ":dynamodb:" not in source or "/stream/" not in source:
        return False
    table_arn, label = source.split("/stream/", 1)
    _, _, _, region, account, resource = table_arn.split(":", 5)
    table = dynamodb_models.dynamodb_backends[account][region].tables.get(resource.split("/", 1)[1])
    if table is None or not (table.stream_specification or {}).get("StreamEnabled"):
        return True
    return bool(table.latest_stream_label != label)


def pipes_held_on_a_disabled_source(patcher: Patcher) -> None:
    """StopPipe, StartPipe and UpdatePipe refuse a pipe whose source stream was disabled (DeletePipe does not)."""
    backend = pipes_models.EventBridgePipesBackend

    def held(method: Any) -> Any:
        def refusing(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            pipe = self.pipes.get(name)
            if pipe is not None and _disabled_stream(pipe.source):
                raise PipesValidationException(f"Pipe {name}: its source {pipe.source} is disabled")
            return method(self, name, *args, **kwargs)

        return refusing

    for action in ("stop_pipe", "start_pipe", "update_pipe"):
        patcher.replace(backend, action, held(getattr(backend, action)))


# What a pipe's role needs to read a DynamoDB stream source
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html).
STREAM_SOURCE_ACTIONS = ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")


def _unreadable(role_arn: str, source: str) -> list[str]:
    """The stream actions ``role_arn`` may not take on ``source`` (none when the role is unknown here)."""
    if ":dynamodb:" not in source or execution_roles.trust_policy(role_arn) is None:
        return []  # a role the local IAM does not hold (a test's made-up ARN): not checked
    documents = execution_roles.role_documents(role_arn)
    return [a for a in STREAM_SOURCE_ACTIONS if not iam.allowed(documents, f"dynamodb:{a}", source)]


def pipe_role_may_read_its_source(patcher: Patcher) -> None:
    """CreatePipe refuses a pipe whose role may not read its source stream."""
    backend = pipes_models.EventBridgePipesBackend
    create = backend.create_pipe

    def creating(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        missing = _unreadable(kwargs["role_arn"], kwargs["source"])
        if missing:
            raise PipesValidationException(
                f"Pipe {name}: the provided customer role does not have permissions to call "
                f"{', '.join('dynamodb:' + a for a in missing)} on the source {kwargs['source']}"
            )
        return create(self, name, *args, **kwargs)

    patcher.replace(backend, "create_pipe", creating)
