"""The fidelity patches of IAM (local_account/patches/fidelity/iam.py): a function's calls held to its
execution role, and a sender to a queue's policy, in the local account as on AWS."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_account import moto_server
from local_account.execution_roles import access_key
from tests.support.aws import client_of

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def account() -> Iterator[tuple[Any, Any]]:
    server, url = moto_server.start()
    make = client_of(url, REGION)
    dynamodb, iam = make("dynamodb"), make("iam")
    dynamodb.create_table(
        TableName="granted",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({"Statement": []}))["Role"]
    allow = {"Effect": "Allow", "Action": ["dynamodb:UpdateItem"], "Resource": "arn:aws:dynamodb:*:*:table/granted"}
    iam.put_role_policy(
        RoleName="fn-role", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow]})
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("f.py", "def handler(event, context):\n    return None\n")
    make("lambda").create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="f.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    yield dynamodb, client_of(url, REGION, access_key("fn"))("dynamodb")
    server.stop()


def test_a_function_is_refused_what_its_role_does_not_allow_and_granted_what_it_does(account: tuple[Any, Any]) -> None:
    """moto answered every call: the store's new read of the summary table passed here, unallowed."""
    admin, as_function = account
    key = {"id": {"S": "a"}}
    as_function.update_item(
        TableName="granted", Key=key, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "1"}}
    )
    with pytest.raises(ClientError) as refused:
        as_function.batch_get_item(RequestItems={"granted": {"Keys": [key]}})
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "assumed-role/fn-role/fn is not authorized to perform: dynamodb:BatchGetItem" in error["Message"]
    with pytest.raises(ClientError):
        as_function.put_item(TableName="granted", Item=key)  # would drop v
    assert admin.get_item(TableName="granted", Key=key)["Item"]["v"] == {"N": "1"}, "the refused put wrote nothing"


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
