"""EventBridge Pipes with a DynamoDB stream source, for the local account (moto stores pipes, runs none).

A pipe is run as an event source mapping of its stream (``esm.StreamPoller``), because AWS documents the
same source semantics for both: batch size, starting position, retries up to ``MaximumRetryAttempts``,
records older than ``MaximumRecordAgeInSeconds`` skipped, ``AUTOMATIC_BISECT``, and the dead-letter queue
that receives where a given-up batch was
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-dynamodb.html). What the mapping
invokes is the pipe's own delivery:

1. the filter criteria (EventBridge event patterns, moto's matcher) drop the records that match none;
2. the enrichment (a Lambda function, through the local runtime) gets the records left, as a list, and
   returns the list to send (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-enrichment.html);
3. an event bus target gets one event per element, in order, with the target's source and detail-type
   (one ``PutEvents``, whose rules deliver to their SQS targets in moto); more elements than the bus takes
   (10) fail the batch, as AWS then does not invoke the target.

A failed enrichment or a ``PutEvents`` with failed entries fails the batch, which is retried as a
mapping's. The injected faults of the mappings apply: duplicates (the batch delivered again) and crashes
(of the enrichment).

Not emulated: sources other than DynamoDB streams, targets other than event buses, input templates,
``ParallelizationFactor`` above 1, and the batch being cut by the filter before it is formed (here the
filter runs on each batch; what reaches the target is the same, in the same order).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

from moto.events.models import EventPattern

from .lambdas import Outcome

Invoke = Callable[[str, Any], Outcome]  # a function's name and event -> its outcome (LambdaRuntime.invoke)

# The largest batch an event bus target takes: a source batch above it is refused when the pipe is created
# (local_account.patches.fidelity.pipes), and an enrichment that returns more elements fails the batch: AWS
# does not invoke the target (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html).
BUS_TARGET_BATCH = 10


def runs_here(pipe: dict[str, Any]) -> bool:
    """Whether the local account runs this pipe: running, from a DynamoDB stream, to an event bus."""
    return (
        pipe.get("CurrentState") in ("RUNNING", "CREATING", "UPDATING", "STARTING")
        and ":dynamodb:" in pipe.get("Source", "")
        and ":event-bus/" in pipe.get("Target", "")
    )


def as_mapping(pipe: dict[str, Any]) -> dict[str, Any]:
    """The event source mapping that reads a pipe's stream as the pipe does."""
    source = (pipe.get("SourceParameters") or {}).get("DynamoDBStreamParameters") or {}
    mapping: dict[str, Any] = {
        # A pipe deleted and created again under its name is a new pipe, which reads from its starting
        # position: its creation time is part of its mapping's identity, even when the poller never saw it gone.
        "UUID": f"{pipe['Arn']}@{pipe.get('CreationTime', '')}",
        "FunctionArn": pipe["Arn"],
        "EventSourceArn": pipe["Source"],
        "StartingPosition": source.get("StartingPosition", "LATEST"),
        "BatchSize": source.get("BatchSize", 10),
        "MaximumBatchingWindowInSeconds": source.get("MaximumBatchingWindowInSeconds", 0),
        "MaximumRetryAttempts": source.get("MaximumRetryAttempts", -1),
        "MaximumRecordAgeInSeconds": source.get("MaximumRecordAgeInSeconds", -1),
        "BisectBatchOnFunctionError": source.get("OnPartialBatchItemFailure") == "AUTOMATIC_BISECT",
    }
    dead_letter = (source.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter:
        mapping["DestinationConfig"] = {"OnFailure": {"Destination": dead_letter}}
    return mapping


class PipeDelivery:
    """What a pipe does with one batch of its stream: filter, enrich, put on the bus."""

    def __init__(self, pipe: dict[str, Any], invoke: Invoke, events: Any) -> None:
        filters = ((pipe.get("SourceParameters") or {}).get("FilterCriteria") or {}).get("Filters") or []
        self._patterns = [EventPattern.load(f["Pattern"]) for f in filters if f.get("Pattern")]
        self._enrichment = (pipe.get("Enrichment") or "").split(":")[-1] or None
        bus = (pipe.get("TargetParameters") or {}).get("EventBridgeEventBusParameters") or {}
        self._source, self._detail_type = bus.get("Source", "Pipe " + pipe["Name"]), bus.get("DetailType", "Event")
        self._bus = pipe["Target"]
        self._invoke, self._events = invoke, events

    def __call__(self, event: dict[str, Any]) -> Outcome:
        """Deliver ``event["Records"]`` (the mapping's batch); a failed Outcome makes the mapping retry it."""
        records = [r for r in event["Records"] if self._passes(r)]
        if not records:
            return Outcome(result={})
        details: Any = records
        if self._enrichment:
            enriched = self._invoke(self._enrichment, records)
            if not enriched.ok:
                return enriched
            details = enriched.result
        if not isinstance(details, list):
            return Outcome(error="the enrichment returned no list", error_type="InvalidEnrichmentResult")
        return self._put(details)

    def _passes(self, record: dict[str, Any]) -> bool:
        return not self._patterns or any(p.matches_event(cast(Any, record)) for p in self._patterns)

    def _put(self, details: list[Any]) -> Outcome:
        if len(details) > BUS_TARGET_BATCH:  # AWS does not invoke the target: the batch fails
            return Outcome(error=f"{len(details)} events: an event bus takes {BUS_TARGET_BATCH}", error_type="Target")
        if not details:
            return Outcome(result={})
        head = {"EventBusName": self._bus, "Source": self._source, "DetailType": self._detail_type}
        entries = [{**head, "Detail": json.dumps(detail)} for detail in details]
        answer = self._events.put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            return Outcome(error=f"PutEvents failed {answer['FailedEntryCount']} entries", error_type="Target")
        return Outcome(result={})


Delivery = Callable[[dict[str, Any]], Outcome]


def deliveries(pipes_client: Any, invoke: Invoke, events: Any) -> dict[str, tuple[dict[str, Any], Delivery]]:
    """Every pipe the local account runs: its mapping and its delivery, by the mapping's id."""
    found: dict[str, tuple[dict[str, Any], Delivery]] = {}
    for listed in pipes_client.list_pipes().get("Pipes", []):
        pipe = pipes_client.describe_pipe(Name=listed["Name"])
        if runs_here(pipe):
            mapping = as_mapping(pipe)
            found[mapping["UUID"]] = (mapping, PipeDelivery(pipe, invoke, events))
    return found
