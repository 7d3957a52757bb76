"""The fidelity patches of EventBridge Pipes (local_account/patches/fidelity/pipes.py): pipes refused as AWS
refuses them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_account import moto_server
from tests.support.aws import client_of, streamed_table


@pytest.fixture(scope="module")
def pipes_account() -> Iterator[dict[str, Any]]:
    """The local account, with a table whose stream a pipe may read and a bus it may publish to."""
    server, url = moto_server.start()
    make = client_of(url)
    dynamodb, events = make("dynamodb"), make("events")
    stream = streamed_table(dynamodb, "p-summary", "a")
    bus = events.create_event_bus(Name="p-bus")["EventBusArn"]
    yield {"dynamodb": dynamodb, "pipes": make("pipes"), "iam": make("iam"), "stream": stream, "bus": bus}
    server.stop()


def create_pipe(account: dict[str, Any], name: str, batch_size: int) -> Any:
    return account["pipes"].create_pipe(
        Name=name,
        RoleArn="arn:aws:iam::123456789012:role/pipe",
        Source=account["stream"],
        Target=account["bus"],
        SourceParameters={"DynamoDBStreamParameters": {"StartingPosition": "TRIM_HORIZON", "BatchSize": batch_size}},
    )


def test_a_pipe_whose_source_batch_is_larger_than_its_event_bus_target_takes_is_refused(
    pipes_account: dict[str, Any],
) -> None:
    # AWS: "you can't configure a pipe with a larger batch size than the target supports"; an event bus
    # takes 10. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html
    pipes = pipes_account["pipes"]
    with pytest.raises(ClientError) as refused:
        create_pipe(pipes_account, "p-eleven", 11)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "p-eleven" not in [p["Name"] for p in pipes.list_pipes()["Pipes"]]
    create_pipe(pipes_account, "p-ten", 10)
    with pytest.raises(ClientError) as refused:
        pipes.update_pipe(
            Name="p-ten",
            RoleArn="arn:aws:iam::123456789012:role/pipe",
            SourceParameters={"DynamoDBStreamParameters": {"BatchSize": 25}},
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    described = pipes.describe_pipe(Name="p-ten")["SourceParameters"]["DynamoDBStreamParameters"]
    assert described["BatchSize"] == 10, "a refused update changes nothing"


def test_a_pipe_whose_source_stream_was_disabled_cannot_be_stopped_started_or_updated_only_deleted(
    pipes_account: dict[str, Any],
) -> None:
    # AWS: "You cannot stop, start, or update a pipe whose source is disabled"; a re-enabled stream has a
    # new ARN. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-dynamodb.html
    dynamodb, pipes = pipes_account["dynamodb"], pipes_account["pipes"]
    source = streamed_table(dynamodb, "p-disabled", "a")
    pipes.create_pipe(
        Name="p-orphan", RoleArn="arn:aws:iam::123456789012:role/pipe", Source=source, Target=pipes_account["bus"]
    )
    pipes.stop_pipe(Name="p-orphan")  # allowed while the stream is on
    dynamodb.update_table(TableName="p-disabled", StreamSpecification={"StreamEnabled": False})
    refused: list[tuple[str, dict[str, str]]] = [
        ("start_pipe", {}),
        ("stop_pipe", {}),
        ("update_pipe", {"RoleArn": "arn:aws:iam::123456789012:role/pipe", "Description": "x"}),
    ]
    for action, arguments in refused:
        with pytest.raises(ClientError) as error:
            getattr(pipes, action)(Name="p-orphan", **arguments)
        assert error.value.response["Error"]["Code"] == "ValidationException"
        assert "disabled" in error.value.response["Error"]["Message"]
    pipes.delete_pipe(Name="p-orphan")
    assert "p-orphan" not in [p["Name"] for p in pipes.list_pipes()["Pipes"]]


def test_a_pipe_whose_role_may_not_read_its_source_stream_is_refused(pipes_account: dict[str, Any]) -> None:
    # AWS: the pipe's role needs DescribeStream, GetRecords, GetShardIterator and ListStreams on a DynamoDB
    # stream source; without them the pipe ends CREATE_FAILED.
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html
    iam, pipes, source = pipes_account["iam"], pipes_account["pipes"], pipes_account["stream"]
    trust = {"Effect": "Allow", "Principal": {"Service": "pipes.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role = iam.create_role(
        RoleName="p-reader", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    )["Role"]["Arn"]
    reads = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]

    def allow(actions: list[str]) -> None:
        statement = {"Effect": "Allow", "Action": actions, "Resource": source}
        iam.put_role_policy(
            RoleName="p-reader",
            PolicyName="read",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )

    allow(reads)  # no GetRecords yet: the policy that grants it is applied after the pipe is asked for
    with pytest.raises(ClientError, match="dynamodb:GetRecords"):
        pipes.create_pipe(Name="p-early", RoleArn=role, Source=source, Target=pipes_account["bus"])
    assert "p-early" not in [p["Name"] for p in pipes.list_pipes()["Pipes"]]
    allow([*reads, "dynamodb:GetRecords"])
    pipes.create_pipe(Name="p-early", RoleArn=role, Source=source, Target=pipes_account["bus"])
