"""The local account's EventBridge Pipes: a pipe read as a mapping of its stream, and its delivery."""

from __future__ import annotations

import json
from typing import Any

from local_account.lambdas import Outcome
from local_account.pipes import PipeDelivery, as_mapping, runs_here

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
            "BatchSize": 10,
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


def test_a_pipe_created_again_under_its_name_is_read_as_a_new_mapping() -> None:
    again = {**PIPE, "CreationTime": "2026-12-05T10:00:00"}
    assert as_mapping(again)["UUID"] != as_mapping({**PIPE, "CreationTime": "2026-12-05T09:00:00"})["UUID"]


def test_a_pipe_is_read_with_its_own_source_settings() -> None:
    assert runs_here(PIPE) and not runs_here({**PIPE, "CurrentState": "STOPPED"})
    assert as_mapping(PIPE) == {
        "UUID": f"{PIPE['Arn']}@",
        "FunctionArn": PIPE["Arn"],
        "EventSourceArn": PIPE["Source"],
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRetryAttempts": 4,
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": True,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:eu-west-1:123456789012:dlq"}},
    }


def test_the_filter_runs_before_the_enrichment_and_each_element_is_one_event_in_order() -> None:
    runtime, events = Runtime(), Events()
    batch = records(*(["MODIFY", "REMOVE"] * 5))  # 5 pass the filter
    assert PipeDelivery(PIPE, runtime.invoke, events)(batch).ok
    ((name, given),) = runtime.calls
    assert name == "enrich" and [r["eventName"] for r in given] == ["MODIFY"] * 5
    assert [len(r) for r in events.requests] == [5], "one PutEvents for the batch"
    sent = [e for request in events.requests for e in request]
    assert [json.loads(e["Detail"])["n"] for e in sent] == [r["n"] for r in given]
    assert {(e["Source"], e["DetailType"], e["EventBusName"]) for e in sent} == {("src", "Thing", PIPE["Target"])}


def test_an_enrichment_that_returns_more_events_than_the_bus_takes_fails_the_batch_and_puts_nothing() -> None:
    # AWS: if the enrichment's array is larger than the batch size the target supports, the pipe does not
    # invoke the target. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html
    events = Events()
    eleven = Runtime(Outcome(result=[{"n": i} for i in range(11)]))
    assert not PipeDelivery(PIPE, eleven.invoke, events)(records("MODIFY")).ok
    assert events.requests == []


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
