"""The first-apply acceptance suite: a throwaway stack applied with every option on, into a real account
(``make verify-aws``, CQRS_TARGET=aws) or the local one (CQRS_TARGET=local, in ``make test``), checked for
what only an AWS account can settle, and always destroyed.

The stack: pattern 2, the balance guard with holds (seeded by ``ledger-ops guard init``), balance events, COGNITO with a
user pool made here, a customer managed key made here whose policy lets CloudWatch Logs and EventBridge use
it, and the access log when the account names API Gateway's CloudWatch role (CQRS_VERIFY_LOGGING_ROLE=create
makes and names one when there is none, and leaves it: an account-wide setting). Each check is one test;
the session ends with one verdict per check.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from harness.client import LedgerClient
from harness.stack import ROOT, UNGUARDED, UNPROTECTED, Stack
from ledger_ops.stage import guard_init
from local_account.account import LocalAccount
from tests.support.velocity import velocity_or_skip

TARGET = os.environ.get("CQRS_TARGET", "local")
PASSWORD = "Verify-1234-password"  # a throwaway user's, in a pool deleted with the stack
CLAIMS = ("accounts", "operators")
VERDICTS: list[tuple[str, str, str]] = []  # (check, verdict, why), as the checks end


@dataclass
class FirstApply:
    """The applied stack, its clients, and what the checks share."""

    stack: Stack
    outputs: dict[str, Any]
    region: str
    api_base: str
    pool: str
    client_id: str
    account: str  # the Cognito user's account: it may read, post, transfer and set limits
    key_arn: str
    access_log: bool
    local: LocalAccount | None = None  # the local account, when the checks run in it

    def now(self) -> float:
        """The account's time (epoch seconds): the local account's clock, or this machine's."""
        return self.local.clock.now() if self.local else time.time()

    def reach(self, moment: float) -> None:
        """Let the account's time reach ``moment`` (epoch seconds). A real account's gets there on its own,
        and the check polls meanwhile; the local account's clock is moved there, once its scheduler has
        looked at the schedules as they are now (a schedule created a moment ago is one it has seen)."""
        if self.local and self.local.clock.now() < moment:
            self.local.scheduler.tick()
            self.local.clock.move_to(moment)

    def client(self, service: str) -> Any:
        """A boto3 client of this account."""
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]

    def token(self, pool: str | None = None, client_id: str | None = None) -> str:
        """An ID token of the pool's user."""
        answer = self.client("cognito-idp").admin_initiate_auth(
            UserPoolId=pool or self.pool,
            ClientId=client_id or self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "verifier", "PASSWORD": PASSWORD},
        )
        return str(answer["AuthenticationResult"]["IdToken"])

    def api(self, token: str | None = None) -> LedgerClient:
        """The stage, called with the user's ID token (COGNITO)."""
        return LedgerClient(self.api_base, self.region, sign=False, token=token or self.token())


def user_pool(cognito: Any, name: str, account: str) -> tuple[str, str, str]:
    """A pool with the grants' claims, an app client, and one user who holds ``account`` in both."""
    schema = [{"Name": c, "AttributeDataType": "String", "Mutable": True} for c in CLAIMS]
    pool = cognito.create_user_pool(PoolName=name, Schema=schema)["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=f"{name}-app",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool["Id"],
        Username="verifier",
        UserAttributes=[{"Name": f"custom:{c}", "Value": account} for c in CLAIMS],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool["Id"], Username="verifier", Password=PASSWORD, Permanent=True)
    return pool["Id"], client, pool["Arn"]


def key_policy(account_id: str, region: str, prefix: str) -> dict[str, Any]:
    """A key CloudWatch Logs and EventBridge may use, as examples/complete's (its comments say why)."""
    sqs = f"arn:aws:sqs:{region}:{account_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:*"}
                },
            },
            {
                "Sid": "EventBridgeBus",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {
                "Sid": "EventBridgeToQueues",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringLike": {"kms:EncryptionContext:aws:sqs:arn": f"{sqs}:{prefix}-*"}},
            },
        ],
    }


PUSH_TO_LOGS = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def logging_role(make: Callable[[str], Any], prefix: str) -> bool:
    """Whether the account names API Gateway's CloudWatch role. With CQRS_VERIFY_LOGGING_ROLE=create and none
    named, one is made and named, and both are left: an account-wide setting that every API of the region
    logs through is not a throwaway stack's to take away (docs/deploying.md)."""
    apigateway = make("apigateway")
    if apigateway.get_account().get("cloudwatchRoleArn"):
        return True
    if os.environ.get("CQRS_VERIFY_LOGGING_ROLE") != "create":
        return False
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = make("iam")
    role = iam.create_role(RoleName=f"apigateway-cloudwatch-{prefix}", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=PUSH_TO_LOGS)
    apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role["Arn"]}])
    return True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        check = report.nodeid.split("::")[-1].removeprefix("test_").replace("_", " ")
        why = str(report.longrepr[2]) if report.skipped and isinstance(report.longrepr, tuple) else ""
        if report.failed:
            why = report.longreprtext.strip().splitlines()[-1][:200] if report.longreprtext else "failed"
        VERDICTS.append((check, {"passed": "PASS", "failed": "FAIL", "skipped": "NOT HERE"}[report.outcome], why))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not VERDICTS:
        return
    terminalreporter.section(
        f"first apply into the {'AWS' if TARGET == 'aws' else 'local'} account: one verdict per check"
    )
    for check, verdict, why in VERDICTS:
        terminalreporter.write_line(f"{verdict:8} {check}" + (f": {why}" if why else ""))


@pytest.fixture(scope="session")
def first_apply(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstApply]:
    """The stack, applied with every option on; destroyed afterwards whatever happened."""
    state = tmp_path_factory.mktemp("first-apply")
    assert (ROOT / "dist" / "lambda.zip").exists(), "run `make package` first"
    local: LocalAccount | None = None
    if TARGET == "local":
        velocity_or_skip()
        local = LocalAccount(state / "logs").start()
        region = local.region
    elif TARGET == "aws":
        region = os.environ.get("AWS_REGION") or boto3.Session().region_name or ""
    else:
        raise pytest.UsageError(f"CQRS_TARGET must be local or aws, not {TARGET!r}")

    def make(service: str) -> Any:
        return boto3.client(service, region_name=region)  # type: ignore[call-overload]

    prefix = f"fa-{uuid.uuid4().hex[:8]}"
    account_id = make("sts").get_caller_identity()["Account"]
    cognito, kms = make("cognito-idp"), make("kms")
    holder = f"{prefix}-holder"
    pool, client_id, pool_arn = user_pool(cognito, f"{prefix}-users", holder)
    key = kms.create_key(Policy=json.dumps(key_policy(account_id, region, prefix)), Description=f"{prefix} verify")
    key_arn = key["KeyMetadata"]["Arn"]
    access_log = logging_role(make, prefix)
    grants = {
        "read": "custom:accounts",
        "transfer": "custom:accounts",
        "post": "custom:accounts",
        "limits": "custom:operators",
        "hold": "custom:accounts",
        "capture": "custom:accounts",
        "void": "custom:accounts",
    }
    variables: dict[str, Any] = {
        "name_prefix": prefix,
        "lambda_zip": str(ROOT / "dist" / "lambda.zip"),
        "kms_key_arn": key_arn,
        "tables": UNPROTECTED,
        "buffer": UNGUARDED,
        "alarms": None,
        "guard": {"holds": {}},
        "events": {},
        "api": {
            "authorization": "COGNITO",
            "cognito_user_pool_arns": [pool_arn],
            "cognito_grants": grants,
            "access_log": access_log,
        },
        "functions": {"timeout_seconds": 10},
    }
    stack = Stack(state / "stack", variables)
    try:
        stack.init()
        outputs = stack.apply(2)
        if TARGET == "aws":  # guard init waits as an operator's does
            guard_init(make("dynamodb"), make("apigateway"), outputs)
        else:  # the local gateway serves a stage's change from the next request
            guard_init(make("dynamodb"), make("apigateway"), outputs, settle=2.0)
        api_base = local.api_base(outputs) if local else str(outputs["api_url"])
        yield FirstApply(stack, outputs, region, api_base, pool, client_id, holder, key_arn, access_log, local)
    finally:
        try:
            stack.destroy()
        finally:
            cognito.delete_user_pool(UserPoolId=pool)
            kms.schedule_key_deletion(KeyId=key["KeyMetadata"]["KeyId"], PendingWindowInDays=7)
            if local:
                local.stop()
