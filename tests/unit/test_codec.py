"""The codec's DLQ format (ledger_aggregator.codec): what the aggregator parks is what ledger-ops reads."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from ledger_aggregator.adapters.sqs import SqsPoisonSink
from ledger_aggregator.codec import POISON_KIND, decode_poison, encode_poison
from ledger_aggregator.domain import Poison

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

POISON = Poison("ev1", "000000000000000000001", "amount is not a decimal", "amount", {"dynamodb": {"Keys": {}}})


def test_a_parked_poison_record_reads_back_as_parked() -> None:
    parked = decode_poison(json.loads(encode_poison(POISON, "stream")))
    assert parked is not None
    assert (parked.source, parked.reason, parked.field, parked.record_id, parked.sequence, parked.record) == (
        "stream",
        POISON.reason,
        POISON.field,
        POISON.record_id,
        POISON.sequence,
        POISON.record,
    )


def test_a_message_of_another_kind_is_not_a_parked_record() -> None:
    assert decode_poison({"kind": "delta"}) is None
    assert decode_poison({"DDBStreamBatchInfo": {}}) is None


class Recording:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, list[str]]:
        self.bodies += [e["MessageBody"] for e in Entries]
        return {"Failed": []}


def test_the_sqs_sink_sends_the_codecs_body() -> None:
    client = Recording()
    assert SqsPoisonSink(cast("SQSClient", client), "url").park([POISON], "queue") == {"ev1"}
    assert client.bodies == [encode_poison(POISON, "queue")]
    assert json.loads(client.bodies[0])["kind"] == POISON_KIND
