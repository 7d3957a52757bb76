"""SQS adapters: the pattern-2 delta publisher and the poison-record parking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ..codec import delta_id, encode, encode_poison
from ..domain import Delta, Poison, chunked
from ..ports import ApplyResult
from ..redelivery import Deferral

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

SEND_BATCH = 10
CHANGES_PER_MESSAGE = 200


class QueuePublisher:
    """Sends each delta to the buffer queue (pattern 2); a delta succeeds when all its messages are sent."""

    def __init__(self, client: SQSClient, queue_url: str, changes_per_message: int = CHANGES_PER_MESSAGE) -> None:
        self._client = client
        self._queue_url = queue_url
        self._per_message = changes_per_message

    def publish(self, deltas: Sequence[Delta]) -> list[ApplyResult]:
        """Publish every delta; one result per delta."""
        messages = [(index, part) for index, d in enumerate(deltas) for part in chunked(d, self._per_message)]
        failed: dict[int, str] = {}
        sent: dict[int, int] = {}
        for start in range(0, len(messages), SEND_BATCH):
            window = messages[start : start + SEND_BATCH]
            for position, error in self._send(window).items():
                failed.setdefault(window[position][0], error)
            for owner, _ in window:
                sent[owner] = sent.get(owner, 0) + 1
        return [self._result(i, d, failed, sent) for i, d in enumerate(deltas)]

    @staticmethod
    def _result(index: int, delta: Delta, failed: dict[int, str], sent: dict[int, int]) -> ApplyResult:
        if index in failed:
            return ApplyResult(delta.key, error=failed[index])
        return ApplyResult(delta.key, applied=len(delta.changes), writes=sent.get(index, 0))

    def _send(self, window: list[tuple[int, Delta]]) -> dict[int, str]:
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {
                "Id": str(position),
                "MessageBody": encode(part),
                "MessageAttributes": {"deltaId": {"DataType": "String", "StringValue": delta_id(part)}},
            }
            for position, (_, part) in enumerate(window)
        ]
        try:
            response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except ClientError as error:
            return {position: str(error) for position in range(len(window))}
        return {int(f["Id"]): f"{f.get('Code', 'Failed')}: {f.get('Message', '')}" for f in response.get("Failed", [])}


class SqsPoisonSink:
    """Parks poison records in a dead-letter queue, each with its reason."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def park(self, poison: Sequence[Poison], source: str) -> set[str]:
        """Send each record with its reason; return the ids parked."""
        parked: set[str] = set()
        for start in range(0, len(poison), SEND_BATCH):
            window = poison[start : start + SEND_BATCH]
            entries = [self._entry(position, p, source) for position, p in enumerate(window)]
            try:
                response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except ClientError:
                continue
            failed = {int(f["Id"]) for f in response.get("Failed", [])}
            parked |= {p.record_id for position, p in enumerate(window) if position not in failed}
        return parked

    @staticmethod
    def _entry(position: int, poison: Poison, source: str) -> SendMessageBatchRequestEntryTypeDef:
        return {
            "Id": str(position),
            "MessageBody": encode_poison(poison, source),
            "MessageAttributes": {"reason": {"DataType": "String", "StringValue": poison.reason[:256]}},
        }


class SqsVisibility:
    """Defers failed messages of the buffer queue with ``ChangeMessageVisibilityBatch``.

    A deferral that SQS refuses (the message is gone, or past SQS's 12-hour visibility limit)
    leaves the message to the queue's own visibility timeout: slower, never lost.
    """

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def defer(self, deferrals: Sequence[Deferral]) -> int:
        """Set each message's visibility timeout to its delay; return how many SQS accepted."""
        accepted = 0
        for start in range(0, len(deferrals), SEND_BATCH):
            window = deferrals[start : start + SEND_BATCH]
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(i), "ReceiptHandle": d.receipt_handle, "VisibilityTimeout": d.seconds}
                for i, d in enumerate(window)
            ]
            try:
                response = self._client.change_message_visibility_batch(QueueUrl=self._queue_url, Entries=entries)
            except ClientError:
                continue
            accepted += len(response.get("Successful", []))
        return accepted
