"""What is in the dead-letter queues, and re-driving it.

The stream DLQ holds two kinds of message:

* ``poison-record``: a stream record the aggregator parked, with its reason. It
  can never be applied as it is; fixing the row streams a new record. Replay
  leaves these in place.
* an on-failure record (``DDBStreamBatchInfo``): Lambda gave a batch up. It holds
  the shard and sequence range, not the records. Replay re-reads the records from
  the stream while they are retained (24 hours) and applies them. If they are
  gone, it falls back to reconcile: when every summary is already exact the
  message is deleted, otherwise it is kept and the operator runs ``rebuild``.

The buffer DLQ (pattern 2) holds delta messages the writer could not apply within
``maxReceiveCount`` receives (SQS's redrive), which replay applies, and
``poison-record`` messages: a message the writer refused (not what the stream
function writes), parked with its reason. Replay leaves these in place.

Replaying applies through the same summary store as the functions, so applied
markers make it exactly once: replaying twice, or a record the functions also
applied, adds nothing. That holds only while the markers live: a message whose
age (since it was first sent) comes within a day of the markers' lifetime is
kept, not replayed, since a marker of a change it carries may be gone
(docs/exactly-once.md, "Marker lifetime").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger_aggregator.adapters.guard import queue_depth
from ledger_aggregator.codec import POISON_KIND, ParkedPoison, decode, decode_poison
from ledger_aggregator.domain import PoisonRecordError
from ledger_aggregator.ports import PoisonSink, SummaryWriter
from ledger_aggregator.projector import PoisonItem, Tagged, project, queue_items, stream_items

from .reconcile import describe_totals
from .streams import IncompleteRangeError, TrimmedError, read_range

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

RECEIVE = 10
HOLD_SECONDS = 120
# Long polling asks every server for messages (short polling samples some and may answer empty while
# messages wait): https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
WAIT_SECONDS = 2
EMPTY_RECEIVES = 3
THROTTLE_RETRIES = 5
# A message is replayed only while it is younger than the markers' lifetime less this margin.
MARKER_MARGIN_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class Entry:
    """One DLQ message, classified."""

    queue: str
    message_id: str
    receipt: str
    kind: str  # poison-record | given-up-batch | delta | undecodable
    summary: str
    text: str
    body: Any
    sent_ms: float | None = None  # when the message was first sent (SQS's SentTimestamp), if known


def classify(queue: str, message: Mapping[str, Any]) -> Entry:
    """Say what a DLQ message is and why it is there, in one line."""
    text = str(message.get("Body", ""))
    received = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
    parsed = _json(text)
    parked = decode_poison(parsed) if isinstance(parsed, dict) else None
    if parked is not None:
        return _entry(queue, message, POISON_KIND, _poison_line(parked), parsed)
    if isinstance(parsed, dict) and "DDBStreamBatchInfo" in parsed:
        info = parsed["DDBStreamBatchInfo"]
        condition = parsed.get("requestContext", {}).get("condition")
        line = (
            f"{info.get('batchSize')} records of {info.get('shardId')} "
            f"{info.get('startSequenceNumber')}..{info.get('endSequenceNumber')}, {condition}"
        )
        return _entry(queue, message, "given-up-batch", line, parsed)
    try:
        delta = decode(text)
    except PoisonRecordError as error:
        return _entry(queue, message, "undecodable", f"{error.reason} (received {received} times)", text)
    line = f"{delta.account_id}/{delta.currency}: {len(delta.changes)} records, {describe_totals(delta.totals)}"
    line += f" (received {received} times)"
    return _entry(queue, message, "delta", line, delta)


def _poison_line(parked: ParkedPoison) -> str:
    """A parked stream record names its row; a message the writer refused names the message."""
    why = f"{parked.reason} (field {parked.field})"
    if parked.source == "queue":
        return f"buffer message {parked.record_id}: {why}"
    keys = (parked.record or {}).get("dynamodb", {}).get("Keys", {})
    where = "/".join(str(v.get("S", "?")) for v in (keys.get("accountId", {}), keys.get("transactionId", {})))
    return f"{where}: {why}, eventID {parked.record_id}"


def _entry(queue: str, message: Mapping[str, Any], kind: str, line: str, body: Any) -> Entry:
    receipt = str(message["ReceiptHandle"])
    sent = message.get("Attributes", {}).get("SentTimestamp")
    sent_ms = float(sent) if isinstance(sent, str) and sent.isdigit() else None
    return Entry(queue, str(message["MessageId"]), receipt, kind, line, str(message.get("Body", "")), body, sent_ms)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


@dataclass(slots=True)
class Held:
    """Messages received from a queue and hidden while an operator works on them."""

    url: str
    entries: list[Entry]
    deleted: set[str] = field(default_factory=set)
    unseen: int = 0  # messages the queue counted at the start that no receive brought back


@contextmanager
def held(sqs: SQSClient, name: str, url: str, seconds: int = HOLD_SECONDS) -> Iterator[Held]:
    """Every message of a queue, hidden from other readers while the block runs.

    Messages recorded in ``deleted`` are gone; the rest are made visible again at the end. Receives
    long-poll until every message the queue counted at the start is held, and stop after a few empty
    ones; ``unseen`` says how many counted messages were never received: visible ones a receive missed,
    and ones in flight to another reader or delayed (an operator must not read "nothing there" into that).
    """
    counted = queue_depth(sqs, url)
    entries: dict[str, Entry] = {}
    empty = 0
    while empty < EMPTY_RECEIVES and not (empty and len(entries) >= counted):
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=RECEIVE,
            VisibilityTimeout=seconds,
            WaitTimeSeconds=WAIT_SECONDS,
            AttributeNames=["All"],
        ).get("Messages", [])
        empty = 0 if got else empty + 1
        entries.update({m["MessageId"]: classify(name, m) for m in got})
    holding = Held(url, list(entries.values()), unseen=max(0, counted - len(entries)))
    try:
        yield holding
    finally:
        release(sqs, url, [e.receipt for e in holding.entries if e.message_id not in holding.deleted])


def release(sqs: SQSClient, url: str, receipts: Sequence[str]) -> None:
    """Make received messages visible again, by their receipt handles (a message already deleted is ignored)."""
    for start in range(0, len(receipts), 10):
        window = receipts[start : start + 10]
        batch: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0} for i, r in enumerate(window)
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=batch)


@dataclass(frozen=True, slots=True)
class Replayed:
    """The outcome of re-driving one message."""

    entry: Entry
    status: str  # applied | kept | left
    detail: str


class Replayer:
    """Re-drives DLQ messages through the summary store."""

    def __init__(
        self,
        sqs: SQSClient,
        streams: DynamoDBStreamsClient,
        store: SummaryWriter,
        poison_sink: PoisonSink | None,
        exact: Callable[[], bool],
        *,
        marker_ttl_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sqs = sqs
        self._streams = streams
        self._store = store
        self._poison = poison_sink
        self._exact = exact
        self._marker_ttl = marker_ttl_seconds
        self._sleep = sleep
        self._clock = clock

    def replay(self, url: str, entry: Entry) -> Replayed:
        """Re-drive one message; it is deleted only when everything it stands for is applied."""
        if entry.kind in (POISON_KIND, "undecodable"):
            return Replayed(entry, "left", "cannot be applied as it is; fix the row (a fix streams a new record)")
        too_old = self._outlived_markers(entry)
        if too_old:
            return Replayed(entry, "kept", too_old)
        if entry.kind == "delta":
            changes, poison = queue_items([{"messageId": entry.message_id, "body": entry.text}])
            return self._finish(url, entry, self._apply(changes, poison, None))
        return self._given_up(url, entry)

    def _outlived_markers(self, entry: Entry) -> str | None:
        """Why a message is too old to replay exactly once, or None; a message of unknown age is refused."""
        if entry.sent_ms is None:
            return "its age is unknown (no SentTimestamp), so its markers may be gone: nothing applied"
        age = self._clock() - entry.sent_ms / 1000
        if age + MARKER_MARGIN_SECONDS < self._marker_ttl:
            return None
        return (
            f"sent {age / 86_400:.1f} days ago, within a day of the applied markers' lifetime "
            f"({self._marker_ttl / 86_400:.0f} days): a change it carries may have been applied and its marker "
            "expired, so replaying could count it twice. Nothing applied: check with `reconcile`; the rows are "
            "the truth, so delete the message and run `rebuild` if they differ"
        )

    def _given_up(self, url: str, entry: Entry) -> Replayed:
        info = entry.body["DDBStreamBatchInfo"]
        try:
            records = read_range(
                self._streams,
                info["streamArn"],
                info["shardId"],
                info["startSequenceNumber"],
                info["endSequenceNumber"],
            )
        except TrimmedError as error:
            if self._exact():
                return self._finish(url, entry, None, "records trimmed from the stream; reconcile is clean")
            return Replayed(entry, "kept", f"{error}; reconcile differs: run `rebuild`, then replay again")
        except IncompleteRangeError as error:
            return Replayed(entry, "kept", f"{error}; nothing applied, try again later")
        expected = info.get("batchSize")
        if isinstance(expected, int) and len(records) != expected:
            detail = f"the range holds {len(records)} records, the batch had {expected}; nothing applied"
            return Replayed(entry, "kept", detail)
        changes, poison = stream_items(records)
        return self._finish(url, entry, self._apply(changes, poison, self._poison))

    def _apply(self, changes: list[Tagged], poison: list[PoisonItem], sink: PoisonSink | None) -> str | None:
        """Apply until nothing is throttled; None on success, else why not."""
        for attempt in range(THROTTLE_RETRIES):
            outcome = project(changes, poison, self._store.write, sink, "replay")
            if not outcome.failed_items:
                return None
            if not outcome.throttled:
                return "; ".join(outcome.errors) or "poison could not be parked"
            self._sleep(min(2**attempt * 0.2, 5))
        return "still throttled after retries"

    def _finish(self, url: str, entry: Entry, problem: str | None, detail: str = "applied") -> Replayed:
        if problem:
            return Replayed(entry, "kept", problem)
        self._sqs.delete_message(QueueUrl=url, ReceiptHandle=entry.receipt)
        return Replayed(entry, "applied", detail)
