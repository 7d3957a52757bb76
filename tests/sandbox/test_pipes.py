"""The local account's EventBridge Pipes: a pipe read as a mapping of its stream, and its delivery."""

from __future__ import annotations

import json
from typing import Any

from sandbox.lambdas import Outcome
from sandbox.pipes import PipeDelivery, as_mapping, runs_here

PIPE: dict[str, Any] = {
    "Name": "p",
    "Arn": "arn:aws:pipes:eu-west-1:123456789012:pipe/p",
    "CurrentState": "RUNNING",
    "Source": "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026",
    "Target": "arn:aws:events:eu-west-1:123456789012:event-bus/b",
    "Enrichment": "arn:aws:lambda:eu-west-1:123456789012:function:enrich",
    "SourceParameters": {
        "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"eventName": ["MODIFY"]})}]},
        "DynamoDBStreamParameters": {
            "BatchSize": 25,
            "StartingPosition": "TRIM_HORIZON",
            "MaximumRetryAttempts": 4,
            "MaximumRecordAgeInSeconds": -1,
            "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
            "DeadLetterConfig": {"Arn": "arn:aws:sqs:eu-west-1:123456789012:dlq"},
        },
    },
    "TargetParameters": {"EventBridgeEventBusParameters": {"Source": "src", "DetailType": "Thing"}},
}


class Runtime:
    def __init__(self, outcome: Outcome | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.outcome = outcome

    def invoke(self, name: str, event: Any) -> Outcome:
        self.calls.append((name, event))
        return self.outcome or Outcome(result=[{"n": r["n"]} for r in event])


class Events:
    def __init__(self, failed: int = 0) -> None:
        self.requests: list[list[dict[str, Any]]] = []
        self.failed = failed

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.requests.append(Entries)
        return {"FailedEntryCount": self.failed}


def records(*names: str) -> dict[str, Any]:
    return {"Records": [{"eventName": name, "n": i} for i, name in enumerate(names)]}


def test_a_pipe_is_read_with_its_own_source_settings() -> None:
    assert runs_here(PIPE) and not runs_here({**PIPE, "CurrentState": "STOPPED"})
    assert as_mapping(PIPE) == {
        "UUID": PIPE["Arn"],
        "FunctionArn": PIPE["Arn"],
        "EventSourceArn": PIPE["Source"],
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 25,
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRetryAttempts": 4,
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": True,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:eu-west-1:123456789012:dlq"}},
    }


def test_the_filter_runs_before_the_enrichment_and_each_element_is_one_event_in_order() -> None:
    runtime, events = Runtime(), Events()
    batch = records(*(["MODIFY", "REMOVE"] * 12))  # 12 pass the filter
    assert PipeDelivery(PIPE, runtime.invoke, events)(batch).ok
    ((name, given),) = runtime.calls
    assert name == "enrich" and [r["eventName"] for r in given] == ["MODIFY"] * 12
    assert [len(r) for r in events.requests] == [10, 2], "PutEvents takes 10 entries a request"
    sent = [e for request in events.requests for e in request]
    assert [json.loads(e["Detail"])["n"] for e in sent] == [r["n"] for r in given]
    assert {(e["Source"], e["DetailType"], e["EventBusName"]) for e in sent} == {("src", "Thing", PIPE["Target"])}


def test_a_batch_the_filter_empties_invokes_nothing() -> None:
    runtime, events = Runtime(), Events()
    assert PipeDelivery(PIPE, runtime.invoke, events)(records("REMOVE")).ok
    assert runtime.calls == [] and events.requests == []


def test_a_failed_enrichment_or_target_fails_the_batch_so_the_mapping_retries_it() -> None:
    crashed = Runtime(Outcome(error="boom", error_type="Crash"))
    assert not PipeDelivery(PIPE, crashed.invoke, Events())(records("MODIFY")).ok
    not_a_list = Runtime(Outcome(result={"n": 1}))
    assert not PipeDelivery(PIPE, not_a_list.invoke, Events())(records("MODIFY")).ok
    assert not PipeDelivery(PIPE, Runtime().invoke, Events(failed=1))(records("MODIFY")).ok
