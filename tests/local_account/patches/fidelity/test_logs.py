"""The fidelity patches of CloudWatch Logs (local_account/patches/fidelity/logs.py): a KMS key's policy is
held to at apply time, as AWS does, when CloudWatch Logs is to encrypt a log group with it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws import client_of

REGION = "eu-west-1"
ACCOUNT = "123456789012"
KEY_REFUSED = "The specified KMS key does not exist or is not allowed to be used with Arn"


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
