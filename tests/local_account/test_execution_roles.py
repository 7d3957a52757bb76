"""A function's calls are held to its execution role, in the local account as on AWS."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
from moto import mock_aws

from local_account.execution_roles import Call, access_key, caller, needed, refusal, role_policies

REGION = "eu-west-1"


def call(service: str, target: str, body: dict[str, Any], method: str = "POST", path: str = "/") -> Call:
    return Call(service, REGION, method, path, target, json.dumps(body).encode())


def test_a_transaction_needs_each_items_own_action_and_a_batch_the_action_of_one_message() -> None:
    """AWS's IAM has no TransactWriteItems action, nor SendMessageBatch: each item or message needs its own."""
    items = [
        {"Update": {"TableName": "summary", "Key": {}}},
        {"Put": {"TableName": "applied", "Item": {}}},
        {"ConditionCheck": {"TableName": "details", "Key": {}}},
    ]
    table = f"arn:aws:dynamodb:{REGION}:123456789012:table"
    assert needed(call("dynamodb", "DynamoDB_20120810.TransactWriteItems", {"TransactItems": items})) == [
        ("dynamodb:UpdateItem", f"{table}/summary"),
        ("dynamodb:PutItem", f"{table}/applied"),
        ("dynamodb:ConditionCheckItem", f"{table}/details"),
    ]
    reads: dict[str, Any] = {"RequestItems": {"summary": {"Keys": []}, "applied": {"Keys": []}}}
    assert needed(call("dynamodb", "DynamoDB_20120810.BatchGetItem", reads)) == [
        ("dynamodb:BatchGetItem", f"{table}/summary"),
        ("dynamodb:BatchGetItem", f"{table}/applied"),
    ]
    query = {"TableName": "details", "IndexName": "byRecordedAt"}
    assert needed(call("dynamodb", "DynamoDB_20120810.Query", query)) == [
        ("dynamodb:Query", f"{table}/details/index/byRecordedAt")
    ]
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/buffer"
    queue = f"arn:aws:sqs:{REGION}:123456789012:buffer"
    assert needed(call("sqs", "AmazonSQS.SendMessageBatch", {"QueueUrl": url, "Entries": []})) == [
        ("sqs:SendMessage", queue)
    ]
    query_protocol = Call(
        "sqs", REGION, "POST", "/", "", f"Action=ChangeMessageVisibilityBatch&QueueUrl={url}".encode()
    )
    assert needed(query_protocol) == [("sqs:ChangeMessageVisibility", queue)]
    lookup = call("lambda", "", {}, "GET", "/2015-03-31/functions/ledger-stream/configuration")
    assert needed(lookup) == [
        ("lambda:GetFunctionConfiguration", f"arn:aws:lambda:{REGION}:123456789012:function:ledger-stream")
    ]


def test_a_call_the_local_account_cannot_read_is_refused_by_name_not_waved_through() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert refusal([policy], call("dynamodb", "DynamoDB_20120810.ListTables", {})) == (
        "the local account cannot tell which IAM actions DynamoDB ListTables needs"
    )
    assert refusal([policy], call("kms", "TrentService.Decrypt", {})) is not None
    assert refusal([policy], call("dynamodb", "DynamoDB_20120810.UpdateItem", {"TableName": "t"})) is None


def conditional(condition: dict[str, Any], effect: str = "Allow") -> dict[str, Any]:
    table = f"arn:aws:dynamodb:{REGION}:123456789012:table/holds"
    return {
        "Statement": [{"Effect": effect, "Action": "dynamodb:UpdateItem", "Resource": table, "Condition": condition}]
    }


def test_an_item_allowed_only_inside_a_transaction_is_refused_outside_one() -> None:
    """dynamodb:EnclosingOperation names the transaction around an item, and is absent from a lone
    UpdateItem (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html)."""
    inside = conditional({"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}})
    alone = conditional({"Null": {"dynamodb:EnclosingOperation": "true"}})
    transaction = call(
        "dynamodb", "DynamoDB_20120810.TransactWriteItems", {"TransactItems": [{"Update": {"TableName": "holds"}}]}
    )
    update = call("dynamodb", "DynamoDB_20120810.UpdateItem", {"TableName": "holds"})
    assert refusal([inside], transaction) is None
    assert refusal([inside], update) is not None
    assert refusal([alone], update) is None
    assert refusal([alone], transaction) is not None


def test_a_condition_on_a_key_or_with_an_operator_not_modelled_never_allows() -> None:
    update = call("dynamodb", "DynamoDB_20120810.UpdateItem", {"TableName": "holds"})
    unmodelled_key = conditional({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
    unmodelled_operator = conditional({"ForAllValues:StringEquals": {"dynamodb:EnclosingOperation": ["x"]}})
    assert refusal([unmodelled_key], update) is not None, (
        "an absent key would pass a Not operator on AWS only if absent"
    )
    assert refusal([unmodelled_operator], update) is not None
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    denied = conditional({"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}}, "Deny")
    assert refusal([{"Statement": [everything]}, denied], update) is not None, "a Deny denies, its conditions unread"


def test_only_the_runtimes_keys_are_held_to_a_role() -> None:
    key = access_key("ledger-writer")
    header = f"AWS4-HMAC-SHA256 Credential={key}/20261202/{REGION}/dynamodb/aws4_request, SignedHeaders=host"
    assert caller(header) == ("ledger-writer", REGION, "dynamodb")
    assert caller(header.replace(key, "AKIDEXAMPLE")) is None
    assert caller(header.replace(key, key[:-1] + "X")) is None, "an unregistered key of the same form"


def test_a_function_deleted_while_it_runs_keeps_its_roles_permissions_until_the_role_goes() -> None:
    """A destroy deletes a function while it runs: its calls are still held to its role's policies as they
    stand (IAM reads them at each request), and a deleted role grants nothing. Before, the local account
    failed such a call with a 500 (the function was not found)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("f.py", "def handler(event, context):\n    return None\n")
    statement = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}
    with mock_aws():
        iam, functions = boto3.client("iam", region_name=REGION), boto3.client("lambda", region_name=REGION)
        trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        document = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
        role = iam.create_role(RoleName="gone", AssumeRolePolicyDocument=document)["Role"]["Arn"]
        policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        iam.put_role_policy(RoleName="gone", PolicyName="p", PolicyDocument=policy)
        functions.create_function(
            FunctionName="gone",
            Runtime="python3.12",
            Role=role,
            Handler="f.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
        get = call("dynamodb", "DynamoDB_20120810.GetItem", {"TableName": "t"})
        found_role, found = role_policies("gone", REGION)
        assert found_role == role and refusal(found, get) is None
        functions.delete_function(FunctionName="gone")
        kept_role, kept = role_policies("gone", REGION)
        assert kept_role == role and refusal(kept, get) is None, "the role's policies still hold"
        iam.delete_role_policy(RoleName="gone", PolicyName="p")
        iam.delete_role(RoleName="gone")
        assert role_policies("gone", REGION) == (role, [])
        assert refusal([], get) is not None, "a deleted role grants nothing"
