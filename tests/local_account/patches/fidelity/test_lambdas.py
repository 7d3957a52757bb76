"""The fidelity patches of Lambda's event source mappings (local_account/patches/fidelity/lambdas.py), checked
against the local account's server."""

from __future__ import annotations

from typing import Any
from unittest import mock

from moto.awslambda import models as moto_lambda

from tests.local_account.conftest import create_function, iterator_of, streams_of
from tests.support.aws import streamed_table


def test_moto_itself_delivers_nothing_to_a_mapped_function(clients: dict[str, Any]) -> None:
    """moto hands stream records to a mapped function inside PutItem (and drops them without Docker); here the
    local account's own pollers (local_account.esm) deliver, as Lambda's do, so moto must hand nothing over."""
    dynamodb = clients["dynamodb"]
    arn = streamed_table(dynamodb, "e-mapped")
    create_function(clients, "e-mapped-reader")
    clients["lambda"].create_event_source_mapping(
        EventSourceArn=arn, FunctionName="e-mapped-reader", StartingPosition="TRIM_HORIZON"
    )
    with mock.patch.object(moto_lambda.LambdaBackend, "send_dynamodb_items") as handed:
        dynamodb.put_item(TableName="e-mapped", Item={"id": {"S": "a"}})
    assert handed.call_count == 0
    assert len(streams_of(dynamodb).get_records(ShardIterator=iterator_of(streams_of(dynamodb), arn))["Records"]) == 1
