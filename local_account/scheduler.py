"""EventBridge Scheduler for the local account: moto stores schedules and runs none; this runs them.

Each enabled schedule whose target is a Lambda function runs on the account's clock (``local_account.clock``):
a background thread looks every second, and a move of the clock is looked at once it is made. A run does
what AWS documents:

- The scheduler assumes the schedule's execution role: its trust policy must let ``scheduler.amazonaws.com``
  assume it with ``aws:SourceAccount`` the account and ``aws:SourceArn`` the schedule's group, never the
  schedule (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
  Otherwise nothing runs and nothing is parked: the dead-letter queue is sent to with that role too.
- The role must allow ``lambda:InvokeFunction`` on the target (the account's IAM evaluation,
  ``local_account.iam``). A run it does not allow, or whose function does not exist, is retried up to the
  target's ``RetryPolicy.MaximumRetryAttempts`` and then sent to the schedule's dead-letter queue, its input
  as the body with the ``ERROR_CODE`` and ``ERROR_MESSAGE`` attributes, if the role may send there
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
- The function is invoked asynchronously, with the target's ``Input`` as its event
  (https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html). An invocation that fails
  is retried as the function's event invoke configuration says (``MaximumRetryAttempts``, 2 without one);
  then its invocation record goes to the configuration's on-failure destination, an SQS queue, sent with
  the function's own role as Lambda does
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).

Expressions: ``rate(n minute|minutes|hour|hours|day|days)``, counted from when the account first saw the
schedule, and ``cron(minutes hours day-of-month month day-of-week year)`` whose minutes and hours are ``*``,
numbers, lists, ranges or steps, and whose other fields are ``*`` or ``?``: the schedules this stack makes.
Another expression is not run, and the log says so.

Not as on AWS: when a move of the clock passes several of a schedule's times, the schedule runs once, for
the latest of them (the jump stands for time the account did not live through; the closer's runs after the
first would find nothing to do). A ``rate()`` first runs one period after the account first sees it, where
AWS runs it at once. A schedule has one run at a time: a time that comes while its run is under way is run
when that run ends, once, for the latest such time (AWS would start each at its time, side by side; on a
machine of two cores, a month of day moves started as many closer runs at once, whose calls timed out).
Retries are made at once, not after the minutes AWS waits. Flexible time windows, time zones other than UTC,
and start and end dates are not read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.awslambda.exceptions import UnknownFunctionException

from . import execution_roles, iam
from .clock import Clock
from .lambdas import LambdaRuntime

log = logging.getLogger(__name__)

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86_400, "days": 86_400}
_SEARCH_MINUTES = 366 * 24 * 60  # how far back a cron schedule's latest time is looked for
DEFAULT_ASYNC_RETRIES = 2  # Lambda's, without an event invoke configuration


class UnsupportedExpressionError(ValueError):
    """An expression the local scheduler does not run."""


def _field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (int(n) for n in base.split("-", 1))
        else:
            first = int(base)
            last = high if step_text else first
        if not low <= first <= last <= high or step < 1:
            raise UnsupportedExpressionError(f"{text!r}: outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return values


@dataclass(frozen=True)
class Expression:
    """When a schedule runs: every ``period`` seconds from its anchor, at ``minutes`` past ``hours``, or
    ``once``, at one time."""

    period: int | None = None
    once: float | None = None
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Expression:
        """The expression; UnsupportedExpressionError for a form the local scheduler does not run."""
        if text.startswith("rate(") and text.endswith(")"):
            value, _, unit = text[5:-1].partition(" ")
            if not value.isdigit() or unit not in _UNITS or int(value) < 1 or (int(value) == 1) != (unit[-1] != "s"):
                raise UnsupportedExpressionError(text)  # 1 takes the singular unit, more the plural
            return cls(period=int(value) * _UNITS[unit])
        if text.startswith("at(") and text.endswith(")"):
            # at(yyyy-mm-ddThh:mm:ss) (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html)
            try:
                moment = datetime.strptime(text[3:-1], "%Y-%m-%dT%H:%M:%S")
            except ValueError:
                raise UnsupportedExpressionError(text) from None
            return cls(once=moment.replace(tzinfo=UTC).timestamp())
        if text.startswith("cron(") and text.endswith(")"):
            fields = text[5:-1].split()
            days = (fields[2], fields[4]) if len(fields) == 6 else ()
            # AWS: "You can't use * in both the Day-of-month and Day-of-week fields. If you use it in one, you
            # must use ? in the other" (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
            if days not in (("*", "?"), ("?", "*")) or fields[3] != "*" or fields[5] != "*":
                raise UnsupportedExpressionError(text)
            try:
                return cls(minutes=frozenset(_field(fields[0], 0, 59)), hours=frozenset(_field(fields[1], 0, 23)))
            except ValueError as error:
                raise UnsupportedExpressionError(f"{text}: {error}") from None
        raise UnsupportedExpressionError(text)

    def latest(self, after: float, until: float, anchor: float) -> float | None:
        """The latest of its times in ``(after, until]`` (epoch seconds), or None."""
        if self.once is not None:
            return self.once if after < self.once <= until else None
        if self.period is not None:
            steps = int((until - anchor) // self.period)
            time_ = anchor + steps * self.period
            return time_ if after < time_ <= until else None
        minute = int(until // 60) * 60
        for _ in range(_SEARCH_MINUTES):
            if minute <= after:
                return None
            moment = datetime.fromtimestamp(minute, UTC)
            if moment.minute in self.minutes and moment.hour in self.hours:
                return float(minute)
            minute -= 60
        return None


@dataclass
class Run:
    """One run of a schedule: when it was due, and how it ended."""

    schedule: str
    due: float
    outcome: str = "running"  # succeeded, failed (the function's error), undelivered (never invoked)
    attempts: int = 0
    error: str | None = None


class Scheduler:
    """Runs the local account's schedules on its clock."""

    def __init__(self, clock: Clock, runtime: LambdaRuntime, endpoint: str, region: str) -> None:
        self._clock, self._runtime, self._region = clock, runtime, region
        self._client = boto3.client("scheduler", endpoint_url=endpoint, region_name=region)
        self._lambda = boto3.client("lambda", endpoint_url=endpoint, region_name=region)
        self._sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
        self._endpoint = endpoint
        self._looked: dict[str, tuple[float, float]] = {}  # schedule ARN -> (first seen, looked at up to)
        self._under_way: dict[str, Run] = {}  # schedule ARN -> its run under way
        self._waiting: dict[str, tuple[dict[str, Any], float]] = {}  # schedule ARN -> the latest time come since
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self.runs: list[Run] = []

    def start(self) -> Scheduler:
        """Look every second, and at every move of the clock."""
        self._clock.on_move(self._moved)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop looking (runs under way finish)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _moved(self, _: float) -> None:
        self.tick()

    def busy(self) -> bool:
        """Whether a run is under way or waits for one to end."""
        with self._lock:
            return bool(self._under_way or self._waiting)

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.tick()
            except Exception:  # the loop outlives one bad look (a schedule deleted while read)
                log.exception("the local scheduler's look failed")

    def tick(self) -> list[Run]:
        """Start a run of every schedule one of whose times has come since the last look (or, while its
        run is under way, keep the latest such time for when it ends)."""
        started: list[Run] = []
        with self._lock:
            now = self._clock.now()
            for schedule in self._schedules():
                due = self._due(schedule, now)
                if due is None:
                    continue
                if schedule["Arn"] in self._under_way:
                    self._waiting[schedule["Arn"]] = (schedule, due)
                else:
                    started.append(self._start(schedule, due))
        return started

    def _start(self, schedule: dict[str, Any], due: float) -> Run:
        """Start a run (the lock held)."""
        run = Run(schedule["Name"], due)
        self.runs.append(run)
        self._under_way[schedule["Arn"]] = run
        threading.Thread(target=self._run, args=(schedule, run), daemon=True).start()
        return run

    def _schedules(self) -> list[dict[str, Any]]:
        """The enabled schedules with a Lambda target; one deleted between the listing and its read (a
        destroy under way) is left out."""
        found = []
        for page in self._client.get_paginator("list_schedules").paginate(State="ENABLED"):
            for listed in page["Schedules"]:
                if ":lambda:" in listed.get("Target", {}).get("Arn", ""):
                    with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):
                        found.append(self._client.get_schedule(Name=listed["Name"], GroupName=listed["GroupName"]))
        return found

    def _due(self, schedule: dict[str, Any], now: float) -> float | None:
        arn = schedule["Arn"]
        first, looked = self._looked.get(arn, (now, now))
        self._looked[arn] = (first, now)
        try:
            expression = Expression.parse(schedule["ScheduleExpression"])
        except UnsupportedExpressionError as error:
            log.warning("schedule %s is not run here: %s", schedule["Name"], error)
            return None
        return expression.latest(looked, now, anchor=first)

    def _run(self, schedule: dict[str, Any], run: Run) -> None:
        try:
            self._attempt(schedule, run)
            self._complete(schedule)
        except Exception as error:  # the local account's own failure: said, and the run ended
            log.exception("schedule %s: the local scheduler failed", schedule["Name"])
            run.error, run.outcome = f"the local scheduler failed: {error}", "error"
        finally:
            with self._lock:
                del self._under_way[schedule["Arn"]]
                waiting = self._waiting.pop(schedule["Arn"], None)
                if waiting:
                    self._start(*waiting)

    def _complete(self, schedule: dict[str, Any]) -> None:
        """Delete a one-time schedule set to be deleted once it has invoked its target (a recurring one is
        deleted after the invocation nearest its EndDate, which is not read here)
        (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-delete.html)."""
        if schedule.get("ActionAfterCompletion") != "DELETE" or not schedule["ScheduleExpression"].startswith("at("):
            return
        with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):  # deleted meanwhile
            self._client.delete_schedule(Name=schedule["Name"], GroupName=schedule.get("GroupName", "default"))

    def _attempt(self, schedule: dict[str, Any], run: Run) -> None:
        target = schedule["Target"]
        function = target["Arn"].rpartition(":function:")[2].split(":")[0]
        retries = int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185))
        if not self._may_assume(schedule, target["RoleArn"]):
            # The scheduler sends dead-letter events with the same role: none reaches the queue.
            run.attempts, run.error, run.outcome = retries + 1, "may not assume its role", "undelivered"
            return
        arn = self._function_arn(function)
        refused = self._refusal(schedule, arn)
        if refused:
            dropped = self._dead_letter(schedule, *refused)
            run.attempts, run.outcome = retries + 1, "undelivered"  # once all is done
            run.error = f"{refused[1]}; {dropped}" if dropped else refused[1]
            return
        event = json.loads(target["Input"]) if target.get("Input") else {}
        config = self._invoke_config(function)
        for attempt in range(1 + int(config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES))):
            run.attempts = attempt + 1
            try:
                outcome = self._runtime.invoke(function, event)  # the injected crashes apply, as to every function
            except UnknownFunctionException:  # deleted once the invoke was accepted (a destroy): the event goes
                run.error, run.outcome = f"{function} was deleted before it ran: the event was dropped", "failed"
                return
            if outcome.ok:
                run.outcome = "succeeded"
                return
            run.error = f"{outcome.error_type}: {outcome.error}"
        destination = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            dropped = self._record_failure(
                str(arn), event, destination, run, (outcome.error or "", outcome.error_type or "")
            )
            run.error = f"{run.error}; {dropped}" if dropped else run.error
        run.outcome = "failed"

    def _may_assume(self, schedule: dict[str, Any], role_arn: str) -> bool:
        """Whether the role's trust policy lets the scheduler assume it for this schedule: the request's
        aws:SourceArn is the schedule's group, not the schedule
        (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html)."""
        *_, account, path = schedule["Arn"].split(":", 5)
        group = f"{schedule['Arn'].rsplit(':', 1)[0]}:schedule-group/{path.split('/')[1]}"
        context = {"aws:SourceAccount": account, "aws:SourceArn": group}
        trust = execution_roles.trust_policy(role_arn)
        if trust is None:  # deleted (a destroy under way): no role to assume
            log.info("schedule %s: its role %s no longer exists", schedule["Name"], role_arn)
            return False
        said = iam.decision([trust], ("Service", "scheduler.amazonaws.com"), "sts:AssumeRole", context)
        if said != "allow":
            log.warning("schedule %s: EventBridge Scheduler may not assume %s", schedule["Name"], role_arn)
        return said == "allow"

    def _function_arn(self, function: str) -> str | None:
        """The function's ARN, or None when it does not exist."""
        try:
            return str(self._lambda.get_function(FunctionName=function)["Configuration"]["FunctionArn"])
        except self._lambda.exceptions.ResourceNotFoundException:
            return None

    def _refusal(self, schedule: dict[str, Any], arn: str | None) -> tuple[str, str] | None:
        """Why the schedule cannot invoke its target, the function ``arn`` (None: none), or None."""
        target = schedule["Target"]
        if arn is None:
            return "ResourceNotFoundException", f"Function not found: {target['Arn']}"
        if not iam.allowed(execution_roles.role_documents(target["RoleArn"]), "lambda:InvokeFunction", arn):
            return "AccessDeniedException", f"{target['RoleArn']} is not authorized to invoke {arn}"
        return None

    def _invoke_config(self, function: str) -> dict[str, Any]:
        try:
            return dict(self._lambda.get_function_event_invoke_config(FunctionName=function))
        except self._lambda.exceptions.ResourceNotFoundException:
            return {}

    def _dead_letter(self, schedule: dict[str, Any], code: str, message: str) -> str | None:
        """Park the run's input on the schedule's dead-letter queue; None, or why it was dropped."""
        target = schedule["Target"]
        queue = target.get("DeadLetterConfig", {}).get("Arn")
        if not queue or not iam.allowed(execution_roles.role_documents(target["RoleArn"]), "sqs:SendMessage", queue):
            log.warning("schedule %s: %s %s, and no dead-letter queue it may send to", schedule["Name"], code, message)
            return "no dead-letter queue it may send to"
        attributes = {
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message,
            "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
            "SCHEDULE_ARN": schedule["Arn"],
            "TARGET_ARN": target["Arn"],
        }
        return self._send(
            self._sqs,
            queue,
            MessageBody=target.get("Input") or "{}",
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )

    def _record_failure(self, arn: str, event: Any, destination: str, run: Run, error: tuple[str, str]) -> str | None:
        """Send the asynchronous invocation record Lambda sends to an on-failure destination, as the
        function; None, or why it was dropped."""
        function = arn.rpartition(":function:")[2]
        record = {
            "version": "1.0",
            "timestamp": datetime.fromtimestamp(self._clock.now(), UTC).isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": f"{function}-{int(time.time() * 1000)}",
                "functionArn": f"{arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": run.attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": error[0], "errorType": error[1], "stackTrace": []},
        }
        sqs = boto3.client(
            "sqs",
            endpoint_url=self._endpoint,
            region_name=self._region,
            aws_access_key_id=execution_roles.access_key(function),  # held to the function's role
            aws_secret_access_key="local",
        )
        return self._send(sqs, destination, MessageBody=json.dumps(record))

    def _send(self, sqs: Any, queue: str, **message: Any) -> str | None:
        """Send ``message`` with the client ``sqs`` to the queue ``queue`` (an ARN, its URL asked of SQS as
        the event source mappings ask for theirs); None, or why it was dropped. A queue deleted under a run
        (a destroy deletes the schedule, its function and its queues while a run is under way) drops what
        was to be sent, as AWS does, counting it in InvocationsFailedToBeSentToDeadLetterCount
        (https://docs.aws.amazon.com/scheduler/latest/UserGuide/monitoring-cloudwatch.html)."""
        *_, account, name = queue.split(":")
        try:
            url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            sqs.send_message(QueueUrl=url, **message)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            log.info("dropped what was to be sent to %s: %s", queue, code)
            return f"dropped what was to be sent to {queue}: {code}"
        return None
