"""The local account's clock and scheduler: a test moves the clock, the account's services read it, and the
schedules that came due run as EventBridge Scheduler and Lambda's asynchronous invocation run them."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import pytest

from harness.probes import eventually
from local_account.account import LocalAccount
from local_account.clock import Clock
from local_account.scheduler import Expression, UnsupportedExpressionError

HOUR = 3600.0
PROBE = """
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"now": time.time(), "event": event}
"""


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_a_rate_runs_at_whole_periods_from_its_anchor_and_once_for_a_jump() -> None:
    hourly = Expression.parse("rate(1 hour)")
    assert hourly.latest(after=100.0, until=100.0 + HOUR - 1, anchor=100.0) is None
    assert hourly.latest(after=100.0, until=100.0 + HOUR, anchor=100.0) == 100.0 + HOUR
    assert hourly.latest(after=100.0, until=100.0 + 30 * HOUR + 5, anchor=100.0) == 100.0 + 30 * HOUR


def test_a_cron_runs_at_its_minutes_past_its_hours_in_utc() -> None:
    five_past = Expression.parse("cron(5 * * * ? *)")
    assert five_past.latest(after=at("2026-12-07T10:05:00"), until=at("2026-12-07T11:04:59"), anchor=0) is None
    assert five_past.latest(after=at("2026-12-07T10:05:00"), until=at("2026-12-07T11:05:00"), anchor=0) == at(
        "2026-12-07T11:05:00"
    )
    jump = five_past.latest(after=at("2026-12-07T10:00:00"), until=at("2026-12-20T23:59:00"), anchor=0)
    assert jump == at("2026-12-20T23:05:00"), "a jump over many times runs once, for the latest"
    twice_daily = Expression.parse("cron(0/30 6-7,18 * * ? *)")
    assert twice_daily.latest(after=at("2026-12-07T07:31:00"), until=at("2026-12-07T17:59:00"), anchor=0) is None
    assert twice_daily.latest(after=at("2026-12-07T07:00:00"), until=at("2026-12-07T07:45:00"), anchor=0) == at(
        "2026-12-07T07:30:00"
    )


def test_a_one_time_schedule_runs_once_at_its_time() -> None:
    once = Expression.parse("at(2026-12-07T10:00:00)")
    assert once.latest(after=at("2026-12-07T09:00:00"), until=at("2026-12-07T09:59:59"), anchor=0) is None
    assert once.latest(after=at("2026-12-07T09:00:00"), until=at("2026-12-08T00:00:00"), anchor=0) == at(
        "2026-12-07T10:00:00"
    )
    assert once.latest(after=at("2026-12-07T10:00:00"), until=at("2026-12-09T00:00:00"), anchor=0) is None


@pytest.mark.parametrize(
    "expression",
    [
        "cron(5 * * * MON *)",
        "cron(5 * 1 * ? *)",
        "cron(5 * * * ?)",
        "cron(60 * * * ? *)",
        "cron(5 * * * * *)",  # AWS refuses * in both day fields
        "cron(5 * ? * ? *)",
        "rate(1 hours)",
        "rate(2 hour)",
        "at(2026-12-07T10:00)",
        "at(2026-12-07 10:00:00)",
    ],
)
def test_an_expression_the_scheduler_does_not_run_is_refused_by_name(expression: str) -> None:
    with pytest.raises(UnsupportedExpressionError):
        Expression.parse(expression)


def test_the_clock_only_goes_forward_and_tells_who_listens() -> None:
    machine = [1_000.0]
    clock = Clock(lambda: machine[0])
    heard: list[float] = []
    clock.on_move(heard.append)
    assert clock.advance(86_400) == 87_400.0 and heard == [87_400.0]
    machine[0] += 1
    assert clock.now() == 87_401.0 and clock.http_date() == "Fri, 02 Jan 1970 00:16:41 GMT"
    with pytest.raises(ValueError, match="only goes forward"):
        clock.move_to(87_000.0)


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", PROBE)
    return buffer.getvalue()


def _role(iam: Any, name: str, service: str, statements: list[dict[str, Any]], source_arn: str | None = None) -> str:
    trust: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_arn:
        trust["Condition"] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    arn = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    )["Role"]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]}
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return str(arn)


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalAccount, dict[str, Any]]]:
    local = LocalAccount(tmp_path_factory.mktemp("scheduler") / "logs").start()
    make: dict[str, Any] = {
        s: boto3.client(s, endpoint_url=local.endpoint, region_name=local.region) for s in ("iam", "lambda")
    }
    sqs = boto3.client("sqs", endpoint_url=local.endpoint, region_name=local.region)
    queues = {n: sqs.create_queue(QueueName=n)["QueueUrl"] for n in ("failed-runs", "undelivered")}
    arns = {
        n: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for n, u in queues.items()
    }
    function_role = _role(
        make["iam"], "probe", "lambda.amazonaws.com", [{"Action": "sqs:SendMessage", "Resource": arns["failed-runs"]}]
    )
    function = make["lambda"].create_function(
        FunctionName="probe",
        Runtime="python3.12",
        Role=function_role,
        Handler="probe.handler",
        Code={"ZipFile": _package()},
        Timeout=10,
    )["FunctionArn"]
    make["lambda"].put_function_event_invoke_config(
        FunctionName="probe",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": arns["failed-runs"]}},
    )
    allowed = _role(
        make["iam"],
        "may-invoke",
        "scheduler.amazonaws.com",
        [
            {"Action": "lambda:InvokeFunction", "Resource": function},
            {"Action": "sqs:SendMessage", "Resource": arns["undelivered"]},
        ],
    )
    refused = _role(
        make["iam"],
        "may-not",
        "scheduler.amazonaws.com",
        [{"Action": "sqs:SendMessage", "Resource": arns["undelivered"]}],
    )
    may_invoke = [
        {"Action": "lambda:InvokeFunction", "Resource": function},
        {"Action": "sqs:SendMessage", "Resource": arns["undelivered"]},
    ]
    prefix = function.split(":function:")[0].replace(":lambda:", ":scheduler:")
    scoped = {
        "group-scoped": _role(
            make["iam"], "group-scoped", "scheduler.amazonaws.com", may_invoke, f"{prefix}:schedule-group/default"
        ),
        # AWS: "Do not scope the aws:SourceArn statement to a specific schedule": the scheduler never assumes it.
        "schedule-scoped": _role(
            make["iam"],
            "schedule-scoped",
            "scheduler.amazonaws.com",
            may_invoke,
            f"{prefix}:schedule/default/schedule-scoped",
        ),
    }
    roles = {"runs": allowed, "fail-runs": allowed, "not-allowed": refused, **scoped}
    yield local, {"sqs": sqs, "queues": queues, "arns": arns, "function": function, "roles": roles}
    local.stop()


def _schedule(local: LocalAccount, name: str, role: str, given: dict[str, Any], undelivered: str) -> None:
    boto3.client("scheduler", endpoint_url=local.endpoint, region_name=local.region).create_schedule(
        Name=name,
        ScheduleExpression="cron(5 * * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": given["function"],
            "RoleArn": role,
            "Input": json.dumps(
                {
                    "schedule": name,
                    **({"fail": True} if "fail" in name else {}),
                    **({"sleep": 3} if "slow" in name else {}),
                }
            ),
            "RetryPolicy": {"MaximumRetryAttempts": 0},
            "DeadLetterConfig": {"Arn": undelivered},
        },
    )


def _next_five_past(clock: Clock) -> float:
    now = clock.now()
    top = now - now % HOUR
    return top + 300 if now < top + 300 else top + HOUR + 300


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return got


def test_a_schedule_runs_its_function_at_the_moved_time_and_its_failures_reach_the_dead_letter_queues(
    account: tuple[LocalAccount, dict[str, Any]],
) -> None:
    local, given = account
    for name, role in given["roles"].items():
        _schedule(local, name, role, given, given["arns"]["undelivered"])
    eventually(lambda: len(local.scheduler._looked) == 5 or None, timeout=10, interval=0.2)
    assert local.scheduler.runs == [], "nothing is due before its time"
    due = _next_five_past(local.clock)
    local.clock.move_to(due + 1)
    eventually(lambda: (not local.scheduler.busy() and len(local.scheduler.runs) == 5) or None, timeout=30)
    runs = {r.schedule: r for r in local.scheduler.runs}
    assert {n: (r.outcome, r.attempts, r.due) for n, r in runs.items()} == {
        "runs": ("succeeded", 1, due),
        "fail-runs": ("failed", 2, due),  # the first try and the configuration's one retry
        "not-allowed": ("undelivered", 1, due),  # the target's RetryPolicy: no retry
        "group-scoped": ("succeeded", 1, due),
        "schedule-scoped": ("undelivered", 1, due),
    }
    assert "may not assume" in str(runs["schedule-scoped"].error)
    record = json.loads(eventually(lambda: _received(given["sqs"], given["queues"]["failed-runs"]))[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted" and record["requestPayload"]["fail"] is True
    assert record["responsePayload"]["errorMessage"] == "asked to fail"
    [parked] = eventually(lambda: _received(given["sqs"], given["queues"]["undelivered"]))
    assert parked["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "AccessDeniedException"
    assert json.loads(parked["Body"]) == {"schedule": "not-allowed"}, "a role it may not assume parks nothing"


def test_the_function_and_dynamodb_read_the_moved_clock(
    account: tuple[LocalAccount, dict[str, Any]],
) -> None:
    local, _ = account
    local.clock.advance(10 * 86_400)
    outcome = local._parts["runtime"].invoke("probe", {}, faults_apply=False)
    assert abs(outcome.result["now"] - local.clock.now()) < 5, "time.time() inside the function"
    dynamodb = boto3.client("dynamodb", endpoint_url=local.endpoint, region_name=local.region)
    dated = dynamodb.list_tables()["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert abs(parsedate_to_datetime(dated).timestamp() - local.clock.now()) < 5, "DynamoDB's Date header"


def test_a_second_look_at_the_same_time_starts_nothing(account: tuple[LocalAccount, dict[str, Any]]) -> None:
    local, _ = account
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    assert local.scheduler.tick() == []


def test_a_time_that_comes_while_its_run_is_under_way_is_run_once_when_it_ends(
    account: tuple[LocalAccount, dict[str, Any]],
) -> None:
    local, given = account
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    _schedule(local, "slow", given["roles"]["runs"], given, given["arns"]["undelivered"])
    eventually(lambda: any(r.endswith("/slow") for r in local.scheduler._looked) or None, timeout=10, interval=0.2)
    first = _next_five_past(local.clock)
    local.clock.move_to(first + 1)
    local.clock.advance(HOUR)
    local.clock.advance(HOUR)  # two more times while the first run sleeps
    eventually(lambda: not local.scheduler.busy() or None, timeout=60)
    slow = [(r.due, r.outcome) for r in local.scheduler.runs if r.schedule == "slow"]
    assert slow == [(first, "succeeded"), (first + 2 * HOUR, "succeeded")]


def test_a_run_whose_function_and_dead_letter_queue_were_deleted_under_it_is_dropped_and_said(
    account: tuple[LocalAccount, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """A destroy deletes a schedule, its function and its queue while a run that read the schedule is
    under way: AWS drops what it cannot deliver and counts it (InvocationsFailedToBeSentToDeadLetterCount),
    and the local scheduler ends that run as undelivered, with no failure of its own."""
    local, given = account
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    sqs = given["sqs"]
    gone_url = sqs.create_queue(QueueName="gone")["QueueUrl"]
    gone_arn = sqs.get_queue_attributes(QueueUrl=gone_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    iam = boto3.client("iam", endpoint_url=local.endpoint, region_name=local.region)
    role = _role(iam, "may-park-gone", "scheduler.amazonaws.com", [{"Action": "sqs:SendMessage", "Resource": gone_arn}])
    deleted = {**given, "function": given["function"].replace(":function:probe", ":function:deleted")}
    _schedule(local, "deleted", role, deleted, gone_arn)
    sqs.delete_queue(QueueUrl=gone_url)
    eventually(lambda: any(r.endswith("/deleted") for r in local.scheduler._looked) or None, timeout=10, interval=0.2)
    due = _next_five_past(local.clock)
    local.clock.move_to(due + 1)
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    [run] = [r for r in local.scheduler.runs if r.schedule == "deleted"]
    assert (run.outcome, run.due) == ("undelivered", due)
    assert "Function not found" in str(run.error) and f"dropped what was to be sent to {gone_arn}" in str(run.error)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], "no failure of the scheduler's own"


def test_a_run_whose_role_was_deleted_under_it_is_undelivered_and_parks_nothing(
    account: tuple[LocalAccount, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """The scheduler cannot assume a role that no longer exists, and sends dead letters with that role:
    the run is undelivered and nothing is parked, with no failure of the scheduler's own."""
    local, given = account
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    iam = boto3.client("iam", endpoint_url=local.endpoint, region_name=local.region)
    statements = [{"Action": "lambda:InvokeFunction", "Resource": given["function"]}]
    role = _role(iam, "deleted-role", "scheduler.amazonaws.com", statements)
    _schedule(local, "role-deleted", role, given, given["arns"]["undelivered"])
    iam.delete_role_policy(RoleName="deleted-role", PolicyName="p")
    iam.delete_role(RoleName="deleted-role")
    eventually(lambda: any(r.endswith("/role-deleted") for r in local.scheduler._looked) or None, timeout=10)
    due = _next_five_past(local.clock)
    local.clock.move_to(due + 1)
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    [run] = [r for r in local.scheduler.runs if r.schedule == "role-deleted"]
    assert (run.outcome, run.due, run.error) == ("undelivered", due, "may not assume its role")
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], "no failure of the scheduler's own"


def test_a_one_time_schedule_set_to_delete_runs_once_and_is_deleted(
    account: tuple[LocalAccount, dict[str, Any]],
) -> None:
    """AWS deletes a one-time schedule with ActionAfterCompletion DELETE once it has invoked its target
    (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-delete.html)."""
    local, given = account
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    scheduler = boto3.client("scheduler", endpoint_url=local.endpoint, region_name=local.region)
    when = datetime.fromtimestamp(local.clock.now() + 3 * HOUR, UTC).replace(microsecond=0)
    scheduler.create_schedule(
        Name="once",
        ScheduleExpression=f"at({when.isoformat(timespec='seconds').removesuffix('+00:00')})",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={"Arn": given["function"], "RoleArn": given["roles"]["runs"], "Input": json.dumps({"schedule": "once"})},
    )
    eventually(lambda: any(r.endswith("/once") for r in local.scheduler._looked) or None, timeout=10, interval=0.2)
    local.clock.move_to(when.timestamp() - 1)
    assert [r for r in local.scheduler.runs if r.schedule == "once"] == [], "not before its time"
    local.clock.move_to(when.timestamp() + 30)
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    assert [(r.due, r.outcome) for r in local.scheduler.runs if r.schedule == "once"] == [
        (when.timestamp(), "succeeded")
    ]
    names = [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    assert "once" not in names, "deleted after its run"


def test_a_schedule_deleted_between_the_listing_and_its_read_is_skipped(
    account: tuple[LocalAccount, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A destroy deletes a schedule between the look's ListSchedules and its GetSchedule: the look goes on
    without it (before, it failed with ResourceNotFoundException, printed over make demo's destroy)."""
    local, given = account
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    _schedule(local, "vanishing", given["roles"]["runs"], given, given["arns"]["undelivered"])
    client = local.scheduler._client
    read = client.get_schedule

    def deleted_meanwhile(**asked: Any) -> Any:
        if asked["Name"] == "vanishing":
            client.delete_schedule(Name="vanishing")
        return read(**asked)

    monkeypatch.setattr(client, "get_schedule", deleted_meanwhile)
    assert local.scheduler.tick() == []
    assert not any(r.endswith("/vanishing") for r in local.scheduler._looked)


def test_a_function_deleted_as_its_run_invokes_it_ends_the_run_failed_and_said(
    account: tuple[LocalAccount, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A destroy deletes the function after the run found it and before Lambda runs it: the event is
    dropped with the function, and the run ends failed, saying so, with no failure of the scheduler's own."""
    local, given = account
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    functions = boto3.client("lambda", endpoint_url=local.endpoint, region_name=local.region)
    functions.create_function(
        FunctionName="short-lived",
        Runtime="python3.12",
        Role=functions.get_function(FunctionName="probe")["Configuration"]["Role"],
        Handler="probe.handler",
        Code={"ZipFile": _package()},
    )
    iam = boto3.client("iam", endpoint_url=local.endpoint, region_name=local.region)
    arn = functions.get_function(FunctionName="short-lived")["Configuration"]["FunctionArn"]
    role = _role(
        iam, "may-invoke-short", "scheduler.amazonaws.com", [{"Action": "lambda:InvokeFunction", "Resource": arn}]
    )
    _schedule(local, "short-lived", role, {**given, "function": arn}, given["arns"]["undelivered"])
    runtime = local._parts["runtime"]
    invoke = runtime.invoke

    def deleted_first(name: str, event: Any, **kwargs: Any) -> Any:
        if name == "short-lived":
            functions.delete_function(FunctionName="short-lived")
        return invoke(name, event, **kwargs)

    monkeypatch.setattr(runtime, "invoke", deleted_first)
    eventually(lambda: any(r.endswith("/short-lived") for r in local.scheduler._looked) or None, timeout=10)
    due = _next_five_past(local.clock)
    local.clock.move_to(due + 1)
    eventually(lambda: not local.scheduler.busy() or None, timeout=30)
    [run] = [r for r in local.scheduler.runs if r.schedule == "short-lived"]
    assert (run.outcome, run.due) == ("failed", due) and "deleted" in str(run.error)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], "no failure of the scheduler's own"
