"""The stack, applied once per session into the local account (default) or a real one.

CQRS_TARGET=local  the local account on this machine (local_account/, started by harness/): nothing leaves it.
CQRS_TARGET=aws    a real account from the usual AWS environment; the stack gets a unique
                   name_prefix and is always destroyed at the end of the session.

The session applies pattern 1, runs every test, then applies pattern 2 on the same state
(recording the plan of that switch) and runs every test again.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
import pytest

from harness.client import LedgerClient
from harness.stack import ROOT, UNGUARDED, UNLOGGED, UNPROTECTED, Stack
from ledger_aggregator.domain import Totals, fold
from ledger_aggregator.summary_item import key_of, stored_totals
from ledger_ops.dlq import release
from ledger_ops.guard import Initialised
from ledger_ops.stage import guard_init as stack_guard_init
from local_account import fault_plan
from local_account.account import LocalAccount
from tests.support.velocity import velocity_or_skip, warn_in_summary

TARGET = os.environ.get("CQRS_TARGET", "local")
# How long guard init lets the guard's epoch serve before it reads the rows: in an AWS account its default
# (the integration timeout, and time for the stage's change to reach API Gateway); the local gateway serves
# a stage's change from the next request, and its requests end within a second or two.
GUARD_SETTLE_SECONDS = None if TARGET == "aws" else 2.0


@dataclass
class Environment:
    """Where the stack lives, and the stack itself."""

    stack: Stack
    region: str
    api_base: Callable[[dict[str, Any]], str]
    account: LocalAccount | None
    applied: int | None = None
    posted: dict[str, dict[str, Totals]] = field(default_factory=dict)  # per account, per currency

    def now(self) -> float:
        """The account's time, in epoch seconds: the local account's clock, which a test may have moved
        (local_account.clock), or this machine's in a real account."""
        return self.account.clock.now() if self.account else time.time()

    def client(self, service: str) -> Any:
        """A boto3 client for this environment."""
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]


@dataclass
class Deployment:
    """The stack as deployed with one pattern."""

    pattern: int
    outputs: dict[str, Any]
    api: LedgerClient
    env: Environment
    switch_changes: list[tuple[str, str]] | None

    def account(self, name: str) -> str:
        """An account id unique to this pattern and session."""
        return f"p{self.pattern}-{name}-{uuid.uuid4().hex[:6]}"

    def rows(self, account: str) -> list[dict[str, Any]]:
        """Every details row of an account, read straight from the table."""
        dynamodb = self.env.client("dynamodb")
        pages = dynamodb.get_paginator("query").paginate(
            TableName=self.outputs["details_table"]["name"],
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues={":a": {"S": account}},
            ConsistentRead=True,
        )
        return [item for page in pages for item in page["Items"]]

    def expected(self, account: str) -> dict[str, Totals]:
        """The fold of the account's rows, per currency: what its summary must say."""
        return {c: s.totals for (_, c), s in fold(self.rows(account)).items() if s.totals.count}

    def stored(self, account: str) -> dict[str, Totals]:
        """The account's summary items as the table holds them, per currency (not through the API)."""
        answer = self.env.client("dynamodb").query(
            TableName=self.outputs["summary_table"]["name"],
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues={":a": {"S": account}},
            ConsistentRead=True,
        )
        return {key_of(i)[1]: stored_totals(i) for i in answer["Items"] if stored_totals(i).count}

    def summary(self, account: str) -> dict[str, Totals] | None:
        """The balances the API answers, per currency, or None while there are none."""
        answer = self.api.summary(account)
        if answer.status != 200:
            return None
        balances = answer.body["balances"]
        assert [b["currency"] for b in balances] == sorted(b["currency"] for b in balances)
        for b in balances:
            assert Decimal(b["balance"]) == Decimal(b["credits"]) - Decimal(b["debits"])
        return {
            b["currency"]: Totals(
                Decimal(b["credits"]), Decimal(b["debits"]), int(b["transactionCount"]), Decimal(b["held"])
            )
            for b in balances
        }


def operator_arn(sts: Any, iam: Any) -> str:
    """The ARN a queue policy sees for the caller (aws:PrincipalArn): an assumed role's session is its role,
    whose ARN holds its path, which the session's ARN leaves out."""
    arn = str(sts.get_caller_identity()["Arn"])
    if ":assumed-role/" in arn:
        return str(iam.get_role(RoleName=arn.split("/")[1])["Role"]["Arn"])
    return arn


def guard_init(deployed: Deployment) -> Initialised:
    """``ledger-ops guard init``, as an operator runs it once the guard is switched on: every balance item of
    the stage's epoch seeded, and the epoch marked initialised on the stage. (It waits for the epoch to
    settle itself: that wait is guard init's, not the test's synchronisation.)"""
    clients = deployed.env.client("dynamodb"), deployed.env.client("apigateway")
    if GUARD_SETTLE_SECONDS is None:
        return stack_guard_init(*clients, deployed.outputs)
    return stack_guard_init(*clients, deployed.outputs, GUARD_SETTLE_SECONDS)


def buffer_output(deployed: Deployment, name: str) -> str:
    """An output of pattern 2's buffer (its queue's or DLQ's URL); the test is skipped in pattern 1, which
    publishes nothing to the buffer (it keeps one, draining, after a switch from pattern 2)."""
    url = deployed.outputs.get(name)
    if deployed.pattern != 2 or not url:
        pytest.skip("pattern 1 publishes nothing to a buffer queue")
    return str(url)


def buffer_visibility_timeout(deployed: Deployment) -> int:
    """The buffer queue's visibility timeout, as SQS reports it."""
    attributes = deployed.env.client("sqs").get_queue_attributes(
        QueueUrl=deployed.outputs["buffer_queue_url"], AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    return int(attributes["VisibilityTimeout"])


@contextmanager
def injected(spec: str) -> Iterator[fault_plan.Faults]:
    """The local account injects these faults while the block runs."""
    previous = fault_plan.ACTIVE
    fault_plan.ACTIVE = fault_plan.Faults.parse(spec)
    try:
        yield fault_plan.ACTIVE
    finally:
        fault_plan.ACTIVE = previous


def dlq_messages(deployed: Deployment, url: str | None) -> list[dict[str, Any]]:
    """Every message in a queue, left there: each receive hides what it got, until none is left, and
    then every message is made visible again (an operator's tool counts a hidden one as unseen).

    (With a visibility timeout of 0, SQS may keep answering with the same first ten messages.)
    """
    if not url:
        return []
    sqs = deployed.env.client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    receipts: list[str] = []
    for _ in range(500):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            break
        seen.update({m["MessageId"]: json.loads(m["Body"]) for m in got})
        receipts += [m["ReceiptHandle"] for m in got]
    release(sqs, url, receipts)
    return list(seen.values())


def settled(deployment: Deployment, accounts: list[str]) -> bool:
    """True when every account's summary equals the fold of its rows, in every currency."""
    return all((deployment.summary(a) or {}) == deployment.expected(a) for a in accounts)


def settled_in_table(deployment: Deployment, accounts: list[str]) -> bool:
    """``settled``, read from the summary table rather than through the API."""
    return all(deployment.stored(a) == deployment.expected(a) for a in accounts)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TARGET == "local":
        warn_in_summary(terminalreporter)


@pytest.fixture(scope="session")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    state = tmp_path_factory.mktemp("stack")
    zip_path = ROOT / "dist" / "lambda.zip"
    assert zip_path.exists(), "run `make package` first"
    variables: dict[str, Any] = {
        "name_prefix": f"it-{uuid.uuid4().hex[:8]}",
        "lambda_zip": str(zip_path),
        "tables": UNPROTECTED,
        "api": UNLOGGED,
        "alarms": None,
        # Nothing may be given up under injected faults (the soak test): retry until it works. The
        # buffer keeps its defaults (a crashed writer's messages come back within 31 s).
        "stream": {"retry_attempts": -1, "maximum_record_age_seconds": -1, "batching_window_seconds": 0},
        "functions": {"timeout_seconds": 10},
        "buffer": {"batching_window_seconds": 0, **UNGUARDED},
        # The balance events feed is on for the whole session (test_events.py consumes it): every test's
        # summary writes flow through it, and switching patterns must leave it alone.
        "events": {},
    }
    if os.environ.get("CQRS_SOAK_GUARD") == "1":  # make soak-guarded: the soak on a stack with the guard on
        variables["guard"] = {}
    if TARGET == "local":
        velocity_or_skip()  # the local gateway renders mapping templates with Velocity 1.7
        local = LocalAccount(state / "logs").start()
        account: LocalAccount | None = local
        region, api_base = local.region, local.api_base
    elif TARGET == "aws":
        account, region = None, os.environ.get("AWS_REGION") or boto3.Session().region_name
        api_base = lambda outputs: outputs["api_url"]  # noqa: E731
    else:
        raise pytest.UsageError(f"CQRS_TARGET must be local or aws, not {TARGET!r}")
    sts, iam = (boto3.client(service, region_name=str(region)) for service in ("sts", "iam"))
    variables["operator_arns"] = [operator_arn(sts, iam)]  # the tests send to DLQs
    stack = Stack(state, variables)
    env = Environment(stack, str(region), api_base, account)
    try:
        stack.init()
        yield env
    finally:
        try:
            stack.destroy()
        finally:
            if account:
                account.stop()


# A pattern-2 run is marked pattern_2: `-m "second_stack and pattern_2"` is the second stack's share (Makefile).
PATTERNS = [pytest.param(1, id="pattern-1"), pytest.param(2, id="pattern-2", marks=pytest.mark.pattern_2)]


@pytest.fixture(scope="session", params=PATTERNS)
def deployed(request: pytest.FixtureRequest, environment: Environment) -> Deployment:
    pattern = int(request.param)
    # The session starts in pattern 1 as a stack that never had a buffer (retired), then switches to 2;
    # test_switch takes it back to pattern 1, keeping the buffer, and retires it.
    stack = environment.stack
    stack.variables["buffer"] = {**stack.variables["buffer"], "retired": pattern == 1}
    switch = environment.stack.plan(pattern) if environment.applied else None
    outputs = environment.stack.apply(pattern)
    environment.applied = pattern
    api = LedgerClient(environment.api_base(outputs), environment.region)
    return Deployment(pattern, outputs, api, environment, switch)
