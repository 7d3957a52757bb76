"""Event source mappings for the local account, with AWS Lambda's documented semantics.

The mappings are the ones Terraform created, read from the local account every second.

DynamoDB streams (one thread per shard, records in order):
  batch size and batching window; starting position; ``ReportBatchItemFailures``
  checkpointing (resume at the lowest failed sequence number); retries up to
  ``MaximumRetryAttempts``; records older than ``MaximumRecordAgeInSeconds``
  skipped; ``BisectBatchOnFunctionError`` (a failed batch is retried in halves);
  when a batch is given up, an on-failure record (``DDBStreamBatchInfo``) is sent
  to the SQS destination and the shard moves on.

SQS (``MaximumConcurrency`` pollers, each invoking synchronously):
  batch size and batching window; partial batch responses (only the successes are
  deleted; the rest come back after the queue's visibility timeout, or whatever
  visibility the function set with ``ChangeMessageVisibility``, which is moto's);
  the redrive to the DLQ after ``maxReceiveCount`` is moto's own. How long failed
  messages stayed away is measured (``Stats.redeliveries``).

EventBridge Pipes from a DynamoDB stream run as mappings of their stream (local_account/pipes.py).

Not emulated: ``ParallelizationFactor`` above 1 (a shard is processed by one
thread, which is one valid schedule of what AWS does), tumbling windows, filters.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from . import fault_plan, pipes
from .lambdas import LambdaRuntime, Outcome

POLL_SECONDS = 0.2
DEFAULT_SQS_CONCURRENCY = 5


def _clients(endpoint: str, region: str) -> dict[str, Any]:
    config = Config(retries={"mode": "standard", "max_attempts": 3})

    def make(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=config,
        )

    return {name: make(name) for name in ("lambda", "dynamodbstreams", "sqs", "pipes", "events")}


@dataclass
class Redeliveries:
    """How long failed queue messages stayed away before they were received again.

    A message reported failed by an invocation that answered (the writer defers it with
    ``ChangeMessageVisibility``) is counted apart from one whose whole invocation failed (a
    crash or a timeout), which only the queue's visibility timeout brings back.
    """

    after_report: int = 0
    longest_after_report: float = 0.0
    after_crash: int = 0
    longest_after_crash: float = 0.0
    away: dict[str, tuple[float, bool]] = field(default_factory=dict)  # message id -> (received at, crashed)

    def received(self, message_ids: list[str], now: float) -> None:
        """Messages handed to an invocation; those that had failed before count as redelivered."""
        for message_id in message_ids:
            before = self.away.pop(message_id, None)
            if before is None:
                continue
            waited, crashed = now - before[0], before[1]
            if crashed:
                self.after_crash += 1
                self.longest_after_crash = max(self.longest_after_crash, waited)
            else:
                self.after_report += 1
                self.longest_after_report = max(self.longest_after_report, waited)

    def failed(self, message_ids: list[str], received_at: float, crashed: bool) -> None:
        """Messages that stay in the queue after an invocation."""
        for message_id in message_ids:
            self.away[message_id] = (received_at, crashed)


@dataclass
class Stats:
    """Counters of what the mappings did, for tests and the benchmark.

    The ages are those of the oldest record of a batch when it was handed to the
    function: the stream's iterator age, and the queue's age of oldest message.
    """

    invocations: int = 0
    function_errors: int = 0
    timeouts: int = 0
    peak_stream_age: float = 0.0
    peak_queue_age: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    milliseconds: Counter[str] = field(default_factory=Counter)
    redeliveries: Redeliveries = field(default_factory=Redeliveries)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, function: str, outcome: Outcome) -> None:
        """Count one invocation of a function, and its duration."""
        with self.lock:
            self.invocations += 1
            self.calls[function] += 1
            self.milliseconds[function] += round(outcome.duration_ms)
            if not outcome.ok:
                self.function_errors += 1
                self.timeouts += outcome.error_type == "Timeout"

    def observe(self, event: dict[str, Any], now: float) -> None:
        """Note the age of the oldest record of a batch about to be invoked."""
        records = event.get("Records") or []
        stream = [float(r["dynamodb"].get("ApproximateCreationDateTime", now)) for r in records if "dynamodb" in r]
        queued = [int(r["attributes"].get("SentTimestamp", now * 1000)) / 1000 for r in records if "attributes" in r]
        with self.lock:
            if stream:
                self.peak_stream_age = max(self.peak_stream_age, now - min(stream))
            if queued:
                self.peak_queue_age = max(self.peak_queue_age, now - min(queued))

    def reset(self) -> None:
        """Start counting afresh (between benchmark runs)."""
        with self.lock:
            self.invocations = self.function_errors = self.timeouts = 0
            self.peak_stream_age = self.peak_queue_age = 0.0
            self.calls.clear()
            self.milliseconds.clear()
            self.redeliveries = Redeliveries()

    def received(self, message_ids: list[str], now: float) -> None:
        """See ``Redeliveries.received``."""
        with self.lock:
            self.redeliveries.received(message_ids, now)

    def failed(self, message_ids: list[str], received_at: float, crashed: bool) -> None:
        """See ``Redeliveries.failed``."""
        with self.lock:
            self.redeliveries.failed(message_ids, received_at, crashed)


class EventSourceMappings:
    """Runs every enabled mapping in the local account until stopped."""

    def __init__(self, endpoint: str, region: str, runtime: LambdaRuntime) -> None:
        self._endpoint = endpoint
        self._region = region
        self._runtime = runtime
        self._clients = _clients(endpoint, region)
        self._pollers: dict[str, _Poller] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="esm-supervisor", daemon=True)
        self.stats = Stats()

    def start(self) -> None:
        """Start following the mappings."""
        self._thread.start()

    def stop(self) -> None:
        """Stop every poller."""
        self._stop.set()
        for poller in self._pollers.values():
            poller.stop()
        self._thread.join(timeout=5)

    def _supervise(self) -> None:
        while not self._stop.is_set():
            # The local account starting or a mapping half-created: try again on the next tick.
            with contextlib.suppress(Exception):
                self._sync()
            self._stop.wait(1.0)

    def _sync(self) -> None:
        mappings = self._clients["lambda"].list_event_source_mappings().get("EventSourceMappings", [])
        current = {m["UUID"]: m for m in mappings if m.get("State", "Enabled") in ("Enabled", "Creating", "Updating")}
        # EventBridge Pipes from a DynamoDB stream: a mapping of the stream whose delivery is the pipe's.
        piped = pipes.deliveries(self._clients["pipes"], self._counted, self._clients["events"])
        current.update({arn: mapping for arn, (mapping, _) in piped.items()})
        for gone in set(self._pollers) - set(current):
            self._pollers.pop(gone).stop()
        for key, mapping in current.items():
            if key not in self._pollers:
                poller = (
                    StreamPoller(mapping, self._clients, piped[key][1], self._region)
                    if key in piped
                    else self._poller(mapping)
                )
                if poller:
                    self._pollers[key] = poller
                    poller.start()

    def _poller(self, mapping: dict[str, Any]) -> _Poller | None:
        arn = mapping["EventSourceArn"]
        invoke = self._invoker(mapping["FunctionArn"].split(":")[-1])
        if ":dynamodb:" in arn:
            return StreamPoller(mapping, self._clients, invoke, self._region)
        if ":sqs:" in arn:
            return QueuePoller(mapping, self._clients, invoke, self._region, self.stats)
        return None

    def _invoker(self, function: str) -> Callable[[dict[str, Any]], Outcome]:
        def invoke(event: dict[str, Any]) -> Outcome:
            self.stats.observe(event, time.time())
            return self._counted(function, event)

        return invoke

    def _counted(self, function: str, event: Any) -> Outcome:
        """Invoke a function and count the invocation (a mapping's, or a pipe's enrichment)."""
        outcome = self._runtime.invoke(function, event)
        self.stats.count(function, outcome)
        return outcome


class _Poller:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()


def _failed_ids(outcome: Outcome, reports_failures: bool) -> list[str] | None:
    """The batch item failures of a successful invocation; None when the whole batch failed."""
    if not outcome.ok:
        return None
    result = outcome.result
    if not reports_failures or not isinstance(result, dict) or "batchItemFailures" not in result:
        return []
    failures = result.get("batchItemFailures") or []
    ids = [f.get("itemIdentifier") for f in failures if isinstance(f, dict)]
    if any(not isinstance(i, str) or not i for i in ids):
        return None  # an invalid identifier fails the whole batch, as on AWS
    return [str(i) for i in ids]


class StreamPoller(_Poller):
    """One mapping of a DynamoDB stream."""

    def __init__(self, mapping: dict[str, Any], clients: dict[str, Any], invoke: Callable[..., Outcome], region: str):
        super().__init__()
        self._mapping = mapping
        self._streams = clients["dynamodbstreams"]
        self._sqs = clients["sqs"]
        self._invoke = invoke
        self._region = region
        self._arn = mapping["EventSourceArn"]
        self._batch_size = int(mapping.get("BatchSize") or 100)
        self._window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        self._max_retries = int(
            mapping.get("MaximumRetryAttempts", -1) if mapping.get("MaximumRetryAttempts") is not None else -1
        )
        self._max_age = int(mapping.get("MaximumRecordAgeInSeconds") or -1)
        self._bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        self._reports = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        destination = (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        self._destination = destination
        self._known_shards: set[str] = set()
        self._threads = [threading.Thread(target=self._discover, name=f"stream-{mapping['UUID'][:8]}", daemon=True)]

    def _discover(self) -> None:
        while not self._stop.is_set():
            try:
                shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
            except Exception:
                shards = []
            for shard in shards:
                if shard["ShardId"] not in self._known_shards:
                    self._known_shards.add(shard["ShardId"])
                    threading.Thread(target=self._follow, args=(shard["ShardId"],), daemon=True).start()
            self._stop.wait(2.0)

    def _follow(self, shard_id: str) -> None:
        position = self._mapping.get("StartingPosition") or "TRIM_HORIZON"
        iterator = self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=position)[
            "ShardIterator"
        ]
        pending: list[tuple[float, dict[str, Any]]] = []
        retries, size_hint = 0, self._batch_size
        while not self._stop.is_set():
            try:
                response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            except Exception:  # the local account busy or restarting: the shard is read again, not dropped
                self._stop.wait(1.0)
                continue
            iterator = response.get("NextShardIterator") or iterator
            now = time.monotonic()
            pending += [(now, self._shape(r)) for r in response.get("Records", [])]
            if not pending or (len(pending) < self._batch_size and now - pending[0][0] < self._window):
                self._stop.wait(POLL_SECONDS)
                continue
            batch = [record for _, record in pending[: min(size_hint, self._batch_size)]]
            try:
                consumed, retries, size_hint = self._process(shard_id, batch, retries)
            except Exception:  # the mapping itself failed (not the function): try the same batch again
                self._stop.wait(1.0)
                continue
            del pending[:consumed]

    def _shape(self, record: dict[str, Any]) -> dict[str, Any]:
        shaped = json.loads(json.dumps(record, default=lambda v: v.timestamp() if isinstance(v, datetime) else str(v)))
        shaped.update(eventSourceARN=self._arn, awsRegion=self._region)
        shaped.setdefault("eventVersion", "1.1")
        return dict(shaped)

    def _process(self, shard_id: str, batch: list[dict[str, Any]], retries: int) -> tuple[int, int, int]:
        """Invoke once; return (records consumed, retries so far, next batch size)."""
        expired = self._expired_prefix(batch)
        if expired:
            self._give_up(shard_id, batch[:expired], "RecordAgeExceeded", retries)
            return expired, 0, self._batch_size
        outcome = self._invoke({"Records": batch})
        failed = _failed_ids(outcome, self._reports)
        if failed == []:
            if fault_plan.ACTIVE.chance(fault_plan.ACTIVE.dup):
                self._invoke({"Records": batch})  # an injected duplicate delivery of the same batch
            return len(batch), 0, self._batch_size
        sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
        if failed is not None:
            known = [sequences.index(f) for f in failed if f in sequences]
            if len(known) == len(failed) and min(known) > 0:
                return min(known), 0, self._batch_size  # progress: resume at the lowest failure
        if self._max_retries != -1 and retries >= self._max_retries:
            self._give_up(shard_id, batch, "RetryAttemptsExhausted", retries, outcome)
            return len(batch), 0, self._batch_size
        next_size = max(1, len(batch) // 2) if self._bisect and not outcome.ok else self._batch_size
        return 0, retries + 1, next_size

    def _expired_prefix(self, batch: list[dict[str, Any]]) -> int:
        if self._max_age == -1:
            return 0
        limit = time.time() - self._max_age
        count = 0
        for record in batch:
            if float(record["dynamodb"].get("ApproximateCreationDateTime", time.time())) >= limit:
                break
            count += 1
        return count

    def _give_up(
        self, shard_id: str, batch: list[dict[str, Any]], condition: str, retries: int, outcome: Outcome | None = None
    ) -> None:
        """Send the on-failure record AWS sends: where the batch was, not the records."""
        if not self._destination:
            return
        created = [float(r["dynamodb"].get("ApproximateCreationDateTime", 0)) for r in batch]
        body = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self._mapping["FunctionArn"],
                "condition": condition,
                "approximateInvokeCount": retries + 1,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": (outcome.error_type or "Unhandled") if outcome and not outcome.ok else None,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": datetime.fromtimestamp(min(created), UTC).isoformat(),
                "approximateArrivalOfLastRecord": datetime.fromtimestamp(max(created), UTC).isoformat(),
                "batchSize": len(batch),
                "streamArn": self._arn,
            },
        }
        url = self._sqs.get_queue_url(QueueName=self._destination.split(":")[-1])["QueueUrl"]
        self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


class QueuePoller(_Poller):
    """One mapping of an SQS queue, with at most ``MaximumConcurrency`` invocations at once."""

    def __init__(
        self,
        mapping: dict[str, Any],
        clients: dict[str, Any],
        invoke: Callable[..., Outcome],
        region: str,
        stats: Stats,
    ):
        super().__init__()
        self._stats = stats
        self._sqs = clients["sqs"]
        self._invoke = invoke
        self._region = region
        self._arn = mapping["EventSourceArn"]
        self._batch_size = int(mapping.get("BatchSize") or 10)
        self._window = float(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        self._reports = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self._url: str | None = None
        scaling = mapping.get("ScalingConfig") or {}
        concurrency = int(scaling.get("MaximumConcurrency") or DEFAULT_SQS_CONCURRENCY)
        self._threads = [
            threading.Thread(target=self._poll, name=f"sqs-{mapping['UUID'][:8]}-{i}", daemon=True)
            for i in range(concurrency)
        ]

    def _queue_url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._arn.split(":")[-1])["QueueUrl"]
        return self._url

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._gather()
            except Exception:
                self._stop.wait(1.0)
                continue
            if messages:
                with contextlib.suppress(Exception):  # undeleted messages come back after their visibility timeout
                    self._deliver(messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        """Invoke with one batch; delete what succeeded (nothing, when the invocation failed)."""
        received_at = time.monotonic()
        ids = [m["MessageId"] for m in messages]
        self._stats.received(ids, received_at)
        outcome = self._invoke({"Records": [self._shape(m) for m in messages]})
        failed = _failed_ids(outcome, self._reports)
        if failed is None:
            self._stats.failed(ids, received_at, crashed=True)
            return  # the whole batch comes back after the visibility timeout
        self._stats.failed([i for i in ids if i in set(failed)], received_at, crashed=False)
        done = [m for m in messages if m["MessageId"] not in set(failed)]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
            ]
            self._sqs.delete_message_batch(QueueUrl=self._queue_url(), Entries=entries)
        for message in done:
            if fault_plan.ACTIVE.chance(fault_plan.ACTIVE.dup):  # an injected duplicate: the same body again
                self._sqs.send_message(QueueUrl=self._queue_url(), MessageBody=message["Body"])

    def _gather(self) -> list[dict[str, Any]]:
        """Receive up to the batch size, waiting at most the batching window for more."""
        deadline = time.monotonic() + self._window
        messages: list[dict[str, Any]] = []
        while len(messages) < self._batch_size and not self._stop.is_set():
            got = self._sqs.receive_message(
                QueueUrl=self._queue_url(),
                MaxNumberOfMessages=min(10, self._batch_size - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += got
            if time.monotonic() >= deadline:
                break
            if not got:
                self._stop.wait(POLL_SECONDS)
        if not messages:
            self._stop.wait(POLL_SECONDS)
        return self._reorder(messages)

    def _reorder(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Injected reordering within a batch (messages held back are delayed at send, in the local account)."""
        if fault_plan.ACTIVE.reorder:
            fault_plan.ACTIVE.shuffle(messages)
        return messages

    def _shape(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType")}
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": self._region,
        }
