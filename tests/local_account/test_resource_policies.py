"""Resource policies the local account holds callers to at apply time and at run time, as AWS does: a KMS
key's policy when CloudWatch Logs is to encrypt a log group with it, and a queue policy's Deny statements
when a principal sends to the queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_account import moto_server
from tests.support.aws import client_of

REGION = "eu-west-1"
ACCOUNT = "123456789012"
KEY_REFUSED = "The specified KMS key does not exist or is not allowed to be used with Arn"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server, endpoint = moto_server.start()
    yield endpoint
    server.stop()


def key_for(kms: Any, statement: dict[str, Any]) -> str:
    """A KMS key whose policy is the account's own statement and ``statement``."""
    account = {
        "Sid": "Account",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [account, statement]})
    return str(kms.create_key(Policy=policy)["KeyMetadata"]["Arn"])


def logs_statement(principal: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """The statement CloudWatch Logs' page on encrypting log data gives, for ``principal``."""
    actions = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    statement = {"Effect": "Allow", "Principal": {"Service": principal}, "Action": actions, "Resource": "*"}
    return {**statement, "Condition": condition} if condition else statement


def test_a_log_group_is_encrypted_only_with_a_key_cloudwatch_logs_may_use(url: str) -> None:
    """CloudWatch Logs uses the key as ``logs.<region>.amazonaws.com``, with the log group's ARN as encryption
    context, and refuses a key whose policy does not let it
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
    make = client_of(url, REGION)
    kms, logs = make("kms"), make("logs")
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
    regional = f"logs.{REGION}.amazonaws.com"
    in_context = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"{group_arn}*"}}
    elsewhere = {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": f"{group_arn}another"}}
    refused = {
        "global": key_for(kms, logs_statement("logs.amazonaws.com")),
        "other-group": key_for(kms, logs_statement(regional, elsewhere)),
        "missing": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000",
    }
    for name, key in refused.items():
        with pytest.raises(ClientError) as caught:
            logs.create_log_group(logGroupName=f"/refused/{name}", kmsKeyId=key)
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException", name
        assert caught.value.response["Error"]["Message"] == f"{KEY_REFUSED} '{group_arn}/refused/{name}'"
    assert logs.describe_log_groups(logGroupNamePrefix="/refused/")["logGroups"] == []

    for name, key in {"regional": key_for(kms, logs_statement(regional, in_context))}.items():
        logs.create_log_group(logGroupName=f"/allowed/{name}", kmsKeyId=key)
    logs.create_log_group(logGroupName="/allowed/unencrypted")
    assert len(logs.describe_log_groups(logGroupNamePrefix="/allowed/")["logGroups"]) == 2


def queue_policy(queue_arn: str, senders: list[str]) -> str:
    """A queue policy of this project's shape (modules/queue_policy): TLS only, and every IAM principal but
    the listed senders refused SendMessage."""
    anyone = {"AWS": "*"}
    tls = {"Bool": {"aws:SecureTransport": "false"}}
    others = {"ArnNotLike": {"aws:PrincipalArn": senders}, "Null": {"aws:PrincipalArn": "false"}}
    statements = [
        {"Sid": "RequireTls", "Effect": "Deny", "Principal": anyone, "Action": "sqs:*", "Resource": queue_arn},
        {"Sid": "OnlyListedSenders", "Effect": "Deny", "Principal": anyone, "Action": "sqs:SendMessage"},
    ]
    statements[0]["Condition"] = tls
    statements[1] |= {"Resource": queue_arn, "Condition": others}
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_a_queue_policy_sees_an_assumed_roles_session_as_its_role_path_included(url: str) -> None:
    """For a role session, aws:PrincipalArn is the role's ARN, path included, not the session's sts ARN
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn):
    a queue that lists the session's ARN refuses its sends, one that lists the role's accepts them."""
    make = client_of(url, REGION)
    iam, sts, sqs = make("iam"), make("sts"), make("sqs")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}}]}
    role = iam.create_role(RoleName="operator", Path="/team/ops/", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/team/ops/operator"
    session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="alice")
    assumed = session["AssumedRoleUser"]["Arn"]
    assert assumed == f"arn:aws:sts::{ACCOUNT}:assumed-role/operator/alice"
    credentials = session["Credentials"]
    operator = client_of(url, REGION, credentials["AccessKeyId"], credentials["SecretAccessKey"])("sqs")

    queues = {}
    for name, senders in {
        "by-role": [role["Arn"]],
        "by-session": [assumed],
        "by-role-no-path": [f"arn:aws:iam::{ACCOUNT}:role/operator"],
    }.items():
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        queues[name] = sqs.create_queue(QueueName=name, Attributes={"Policy": queue_policy(arn, senders)})["QueueUrl"]

    operator.send_message(QueueUrl=queues["by-role"], MessageBody="parked")
    for name in ("by-session", "by-role-no-path"):
        with pytest.raises(ClientError) as caught:
            operator.send_message(QueueUrl=queues[name], MessageBody="parked")
        assert "AccessDenied" in caught.value.response["Error"]["Code"], name
        assert "explicit deny in a resource-based policy" in caught.value.response["Error"]["Message"]
        with pytest.raises(ClientError):
            operator.send_message_batch(QueueUrl=queues[name], Entries=[{"Id": "1", "MessageBody": "parked"}])
    counts = {
        name: sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        for name, q in queues.items()
    }
    assert {n: int(c["ApproximateNumberOfMessages"]) for n, c in counts.items()} == {
        "by-role": 1,
        "by-session": 0,
        "by-role-no-path": 0,
    }
