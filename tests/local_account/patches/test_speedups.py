"""The speed-ups (local_account.patches.speedups) change no answer: moto with them answers as without them.

The same script of DynamoDB and SQS calls runs in fresh processes, and every answer (item, error code and
message, serialized response, message bodies and queue counts) must match:

* plain moto, and moto with the speed-ups alone applied;
* the whole local account (every patch, through its server), with the speed-ups on and switched off as a
  group (``CQRS_LOCAL_ACCOUNT_SPEEDUPS=0``).

The script covers what the speed-ups touch: update expressions of every clause kind, functions,
arithmetic, nested paths, the errors the validators raise, a transaction, responses of every attribute
type (which the alias spellings pick), and SQS receives, deletes and counts.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from local_account import moto_server, patches
from local_account.patches import speedups
from local_account.patching import WITHOUT
from tests.support.aws import client_of

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = r"""
import contextlib, json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="eu-west-1")
mode = sys.argv[2]
import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
speed = 0
if mode == "fast":
    from local_account.patches import speedups
    speed = len(speedups.apply().applied)
if mode.startswith("account"):
    from local_account import moto_server, patches
    server, url = moto_server.start()
    applied = set(patches.patch_moto().applied)
    speed = sum(1 for p in patches.PATCHES if p.purpose == "speed" and p.name in applied)
    served = contextlib.nullcontext()
    def client(service):
        return boto3.client(service, region_name="eu-west-1", endpoint_url=url)
else:
    served = mock_aws()
    def client(service):
        return boto3.client(service, region_name="eu-west-1")

N = {"#a": "a", "#b": "b", "#l": "l", "#m": "m", "#s": "s", "#k": "k"}
V = {":one": {"N": "1"}, ":two": {"N": "2.50"}, ":txt": {"S": "x"}, ":list": {"L": [{"N": "3"}]},
     ":set": {"SS": ["p", "q"]}, ":p": {"SS": ["p"]}, ":map": {"M": {"n": {"N": "7"}, "b": {"B": "AAE="}}},
     ":bool": {"BOOL": True}, ":null": {"NULL": True}, ":bin": {"B": "AQI="}, ":ns": {"NS": ["1", "2"]}}
UPDATES = [
    "SET #a = :one, #b = :txt",
    "SET #a = #a + :two",
    "SET #a = #a - :one, #l = list_append(if_not_exists(#l, :list), :list)",
    "SET #m = :map, #s = :set",
    "SET #m.n = #m.n + :one, #m.z = :bool",
    "ADD #a :one, #s :p",
    "DELETE #s :p",
    "REMOVE #b, #m.z",
    "SET #l[0] = :null, #b = :bin, #k = :ns",
    "REMOVE #l[0]",
    "SET #a = :one SET #b = :one",
    "SET #a = :one ADD #b :one SET #l = :list ADD #k :one",
    "REMOVE #m ADD #a :one REMOVE #b SET #l = :list SET #s = :set",
    "ADD #a :one REMOVE #b ADD #k :one DELETE #s :p",
    "SET #a = :one, #a = :two",
    "SET #m = :one, #m.n = :two",
    "SET #a = #nothere",
    "SET #b = #b + :one",
    "SET #a = :missing",
    "SET id = :txt",
    "SET #a = ",
    "ADD #a :txt",
]

def call(fn, **kw):
    try:
        answer = fn(**kw)
        answer.pop("ResponseMetadata", None)
        return {"ok": answer}
    except ClientError as error:
        return {"error": error.response["Error"]}

out = []
with served:
    c = client("dynamodb")
    c.create_table(TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")
    for key in ("one", "two"):
        for expression in UPDATES:
            used_n = {k: v for k, v in N.items() if k in expression}
            used_v = {k: v for k, v in V.items() if k in expression}
            kw = dict(TableName="t", Key={"id": {"S": key}}, UpdateExpression=expression, ReturnValues="ALL_NEW")
            if used_n: kw["ExpressionAttributeNames"] = used_n
            if used_v: kw["ExpressionAttributeValues"] = used_v
            out.append({"update": expression, "answer": call(c.update_item, **kw)})
    out.append(call(c.transact_write_items, TransactItems=[
        {"Update": {"TableName": "t", "Key": {"id": {"S": "one"}}, "UpdateExpression": "SET #a = #a + :one",
                    "ExpressionAttributeNames": {"#a": "a"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Update": {"TableName": "t", "Key": {"id": {"S": "three"}}, "UpdateExpression": "SET #a = :one",
                    "ConditionExpression": "attribute_exists(id)",
                    "ExpressionAttributeNames": {"#a": "a"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ]))
    CONDITIONS = [
        ("attribute_not_exists(id)", {}, {}),
        ("attribute_exists(#a) AND #a > :one", {"#a": "a"}, {":one": {"N": "1"}}),
        ("attribute_exists(#a) AND #a > :one", {"#a": "a"}, {":one": {"N": "1000"}}),
        ("#a BETWEEN :one AND :two OR begins_with(#b, :txt)", {"#a": "a", "#b": "b"}, V),
        ("#a IN (:one, :two) OR contains(#s, :txt)", {"#a": "a", "#s": "s"}, V),
        ("NOT attribute_type(#b, :txt)", {"#b": "b"}, {":txt": {"S": "S"}}),
    ]
    for expression, names, values in CONDITIONS * 2:
        for key in ("one", "four"):
            used = {k: v for k, v in values.items() if k in expression}
            kw = dict(TableName="t", Key={"id": {"S": key}}, UpdateExpression="SET #z = :zz",
                      ConditionExpression=expression, ExpressionAttributeNames={**names, "#z": "z"},
                      ExpressionAttributeValues={**used, ":zz": {"N": "1"}}, ReturnValues="ALL_NEW")
            out.append({"condition": expression, "answer": call(c.update_item, **kw)})
    out.append(call(c.scan, TableName="t"))
    def keys(hash_name, range_name):
        return [{"AttributeName": hash_name, "KeyType": "HASH"}, {"AttributeName": range_name, "KeyType": "RANGE"}]
    index = {"IndexName": "byR", "KeySchema": keys("a", "r"), "Projection": {"ProjectionType": "ALL"}}
    types = (("a", "S"), ("t", "S"), ("r", "N"))
    c.create_table(TableName="g", KeySchema=keys("a", "t"), GlobalSecondaryIndexes=[index],
                   AttributeDefinitions=[{"AttributeName": n, "AttributeType": k} for n, k in types],
                   BillingMode="PAY_PER_REQUEST")
    for n in range(40):  # written out of key order; some rows share a booking time, some have none
        item = {"a": {"S": f"acc-{n % 3}"}, "t": {"S": f"t{(n * 7) % 40:02d}"}}
        if n % 5:
            item["r"] = {"N": str(1000 + (n * 13) % 9)}
        c.put_item(TableName="g", Item=item)
    for forward in (True, False):
        for limit in (None, 4):
            kw = dict(TableName="g", IndexName="byR", KeyConditionExpression="a = :a AND r BETWEEN :lo AND :hi",
                      ExpressionAttributeValues={":a": {"S": "acc-1"}, ":lo": {"N": "1002"}, ":hi": {"N": "1007"}},
                      ScanIndexForward=forward)
            if limit: kw["Limit"] = limit
            out.append({"index query": call(c.query, **kw)})
            kw = dict(TableName="g", KeyConditionExpression="a = :a", ExpressionAttributeValues={":a": {"S": "acc-2"}},
                      ScanIndexForward=forward)
            if limit: kw["Limit"] = limit
            out.append({"table query": call(c.query, **kw)})
    out.append(call(c.scan, TableName="g"))
    # An index on an attribute that writes change: each write must show in the next Query of the index.
    moved = {"IndexName": "byS", "KeySchema": keys("s", "t"), "Projection": {"ProjectionType": "ALL"}}
    c.create_table(TableName="m", KeySchema=keys("a", "t"), GlobalSecondaryIndexes=[moved],
                   AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("a", "t", "s")],
                   BillingMode="PAY_PER_REQUEST")
    for n in range(12):
        c.put_item(TableName="m", Item={"a": {"S": f"acc-{n % 2}"}, "t": {"S": f"t{n:02d}"}, "s": {"S": f"s{n % 3}"}})
    def by_s(value):
        return {"moved": call(c.query, TableName="m", IndexName="byS", KeyConditionExpression="s = :s",
                              ExpressionAttributeValues={":s": {"S": value}})}
    def key(n):
        return {"a": {"S": f"acc-{n % 2}"}, "t": {"S": f"t{n:02d}"}}
    out += [by_s("s0"), by_s("s9")]
    c.update_item(TableName="m", Key=key(1), UpdateExpression="SET s = :s",
                  ExpressionAttributeValues={":s": {"S": "s0"}})
    c.update_item(TableName="m", Key=key(3), UpdateExpression="REMOVE s")
    out += [by_s("s0"), by_s("s1")]
    c.delete_item(TableName="m", Key=key(0))
    c.put_item(TableName="m", Item={**key(20), "s": {"S": "s0"}})
    out.append(by_s("s0"))
    c.batch_write_item(RequestItems={"m": [{"PutRequest": {"Item": {**key(21), "s": {"S": "s9"}}}},
                                           {"DeleteRequest": {"Key": key(6)}}]})
    out += [by_s("s0"), by_s("s9")]
    refused = [{"Put": {"TableName": "m", "Item": {**key(22), "s": {"S": "s9"}}}},
               {"Update": {"TableName": "m", "Key": key(9), "UpdateExpression": "SET s = :s",
                           "ConditionExpression": "attribute_not_exists(a)",
                           "ExpressionAttributeValues": {":s": {"S": "s9"}}}}]
    out.append({"refused transaction": call(c.transact_write_items, TransactItems=refused)})
    out.append(by_s("s9"))
    taken = [{"Update": {"TableName": "m", "Key": key(9), "UpdateExpression": "SET s = :s",
                         "ExpressionAttributeValues": {":s": {"S": "s9"}}}},
             {"Delete": {"TableName": "m", "Key": key(21)}}]
    out.append({"transaction": call(c.transact_write_items, TransactItems=taken)})
    out += [by_s("s9"), by_s("s0")]
    c.execute_statement(Statement="UPDATE m SET s='s9' WHERE a='acc-0' AND t='t02'")
    out += [by_s("s9"), by_s("s2")]
    out.append(call(c.get_item, TableName="t", Key={"id": {"S": "one"}}))
    out.append(call(c.describe_table, TableName="t")["ok"]["Table"]["KeySchema"])
    sqs = client("sqs")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    for n in range(0, 30, 10):
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{n + i}"} for i in range(10)])
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=60)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    out.append({"received": sorted(m["Body"] for m in got)})
    counts = [f"ApproximateNumberOfMessages{kind}" for kind in ("", "NotVisible", "Delayed")]
    out.append({"counts": sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=counts)["Attributes"]})
    for message in got[:4]:
        out.append({"deleted": call(sqs.delete_message, QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])})
    out.append({"again": call(sqs.delete_message, QueueUrl=queue, ReceiptHandle=got[0]["ReceiptHandle"])})
    out.append({"invalid": call(sqs.delete_message, QueueUrl=queue, ReceiptHandle="not-a-handle")})
    out.append({"counts": sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=counts)["Attributes"]})
    rest = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    out.append({"received": sorted(m["Body"] for m in rest)})
print(json.dumps({"speedups": speed, "answers": out}, default=str, sort_keys=True))
"""


def run_script(mode: str, switch: str | None = None) -> tuple[int, list[Any]]:
    """The script in a fresh process: how many speed-ups it ran with, and its answers.

    ``plain`` is moto alone, ``fast`` moto with the speed-ups alone; ``account`` is the whole local account,
    through its server, with ``CQRS_LOCAL_ACCOUNT_SPEEDUPS`` set to ``switch`` (unset when None).
    """
    env = {k: v for k, v in os.environ.items() if k not in (speedups.SWITCH, WITHOUT)}
    if switch is not None:
        env[speedups.SWITCH] = switch
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT), mode], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    result = json.loads(run.stdout)
    return int(result["speedups"]), list(result["answers"])


def answers(mode: str) -> list[Any]:
    """The script's answers in a fresh process, with (``fast``) or without (``plain``) the speed-ups."""
    return run_script(mode)[1]


@pytest.fixture(scope="module")
def both() -> tuple[list[Any], list[Any]]:
    return answers("plain"), answers("fast")


def test_every_answer_is_the_same_with_the_speedups(both: tuple[list[Any], list[Any]]) -> None:
    plain, fast = both
    assert len(plain) == len(fast)
    for expected, got in zip(plain, fast, strict=True):
        assert got == expected


def test_the_local_account_answers_the_same_with_its_speedups_switched_off() -> None:
    """The whole local account, every patch in place, through its server: the speed-ups on (the default)
    and switched off as a group answer every call of the script alike."""
    on, with_them = run_script("account")
    off, without_them = run_script("account", switch="0")
    assert (on, off) == (len(speedups.SPEEDUPS), 0)  # every speed-up ran in one, none in the other
    assert len(with_them) == len(without_them)
    for expected, got in zip(without_them, with_them, strict=True):
        assert got == expected
    assert "ValidationException" in json.dumps(with_them)  # refusals compared too, not only writes


def test_the_switch_leaves_out_the_speedups_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off leaves out exactly the patches of purpose "speed", 12 of them; on (or unset) keeps every patch."""
    speed = [p for p in patches.PATCHES if p.purpose == "speed"]
    assert [p.name for p in speed] == [p.name for p in speedups.SPEEDUPS] and len(speed) == 13
    for value in ("0", "off", "false", "no", " OFF "):
        monkeypatch.setenv(speedups.SWITCH, value)
        assert patches.chosen() == [p for p in patches.PATCHES if p.purpose != "speed"]
    for value in ("1", "on", ""):
        monkeypatch.setenv(speedups.SWITCH, value)
        assert patches.chosen() == patches.PATCHES
    monkeypatch.delenv(speedups.SWITCH)
    assert patches.chosen() == patches.PATCHES


def test_the_script_reaches_both_answers_and_refusals(both: tuple[list[Any], list[Any]]) -> None:
    """Guard on the comparison itself: it must compare writes that happened and every kind of refusal."""
    plain, _ = both
    answers = [entry["answer"] for entry in plain if isinstance(entry, dict) and "update" in entry]
    written = [a for a in answers if "ok" in a]
    refused = [a["error"] for a in answers if "error" in a]
    assert len(written) >= 12
    assert {e["Code"] for e in refused} == {"ValidationException"}
    assert len({e["Message"] for e in refused}) >= 6
    assert "TransactionCanceledException" in json.dumps(plain)
    conditions = [entry["answer"] for entry in plain if isinstance(entry, dict) and "condition" in entry]
    assert {"ok", "error"} <= {kind for answer in conditions for kind in answer}
    assert {a["error"]["Code"] for a in conditions if "error" in a} == {"ConditionalCheckFailedException"}


def _shape(node: Any, inside: dict[int, Any]) -> Any:
    """A tree's structure with its nodes' attributes, and whether each parent link stays inside the tree."""
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

    if not isinstance(node, Node):
        return repr(node)
    inside[id(node)] = node
    attributes = {k: _shape(v, inside) for k, v in vars(node).items() if k not in ("children", "parent")}
    children = [_shape(c, inside) for c in node.children or []]
    return [type(node).__name__, attributes, children, node.parent is None or id(node.parent) in inside]


def test_a_tree_copied_by_structure_equals_deepcopy_and_shares_no_node() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    from local_account.patches.speedups import copy_tree

    for expression in ("SET #a = #a + :v, #l = list_append(if_not_exists(#l, :e), :v) REMOVE #b[1]", "ADD x :y"):
        tree = UpdateExpressionParser.make(expression)
        ours, theirs = copy_tree(tree, {}), copy.deepcopy(tree)
        original: dict[int, Any] = {}
        copied: dict[int, Any] = {}
        assert _shape(ours, copied) == _shape(theirs, {}) == _shape(tree, original)
        assert not set(original) & set(copied)


def test_a_kept_tree_is_not_changed_by_the_updates_that_use_it() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    patches.patch_moto()
    expression = "SET #a = if_not_exists(#a, :zero) + :one, #m.n = :one"
    before = _shape(UpdateExpressionParser.make(expression), {})
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        client.create_table(
            TableName="kept",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="kept", Item={"id": {"S": "k"}, "m": {"M": {}}})
        for _ in range(2):
            client.update_item(
                TableName="kept",
                Key={"id": {"S": "k"}},
                UpdateExpression=expression,
                ExpressionAttributeNames={"#a": "a", "#m": "m"},
                ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
            )
        assert client.get_item(TableName="kept", Key={"id": {"S": "k"}})["Item"]["a"] == {"N": "2"}
    assert UpdateExpressionParser.make(expression) is UpdateExpressionParser.make(expression)
    assert _shape(UpdateExpressionParser.make(expression), {}) == before


def _attribute_values() -> Any:
    from hypothesis import strategies as st

    text = st.text(max_size=6)
    number = st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)
    leaf = st.one_of(
        st.builds(lambda v: {"S": v}, text),
        st.builds(lambda v: {"N": v}, number),
        st.builds(lambda v: {"BOOL": v}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda v: {"SS": v}, st.lists(text, min_size=1, max_size=3, unique=True)),
        st.builds(lambda v: {"NS": v}, st.lists(number, min_size=1, max_size=3, unique=True)),
        st.builds(lambda v: {"B": v}, st.binary(max_size=4)),  # the generic way (base64)
        st.builds(lambda v: {"N": v}, st.integers()),  # not a string: the generic way
        st.builds(lambda a, b: {"S": a, "N": b}, text, number),  # two members: the generic way
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda v: {"M": v}, st.dictionaries(text, inner, max_size=3)),
            st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
        ),
        max_leaves=12,
    )


def _serialized(item: dict[str, Any], structure: Any) -> str:
    from unittest import mock

    from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    model = get_service_model("dynamodb").operation_model("GetItem")
    with mock.patch.object(BaseJSONSerializer, "_serialize_type_structure", structure):
        serializer = JSONSerializer(operation_model=model, value_picker=XFormedAttributePicker())
        return str(serializer.serialize({"Item": item})["body"])


def test_attribute_values_are_written_as_the_generic_serializer_writes_them() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    patches.patch_moto()  # once per process: the speed-ups are among its patches
    from moto.core.serialize import BaseJSONSerializer

    patched = BaseJSONSerializer._serialize_type_structure
    generic = speedups.ORIGINALS["attribute_values"]
    direct = 0

    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(st.dictionaries(st.text(max_size=5), _attribute_values(), max_size=4))
    def same(item: dict[str, Any]) -> None:
        nonlocal direct
        assert _serialized(item, patched) == _serialized(item, generic)
        direct += all(speedups.attribute_value_json(v) is not None for v in item.values())

    same()
    assert direct >= 100  # most examples took the direct way, so the comparison covered it


VOLATILE = {"date", "x-amzn-requestid", "x-amz-crc32"}


def _both_ways(url: str, target: str, body: dict[str, Any], service: str) -> tuple[Any, Any]:
    """One request answered through moto's Flask app and through the direct way: (status, headers, body) each."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    app = moto_server._IN_PROCESS[url]
    headers = [
        ("X-Amz-Target", target),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Authorization", f"AWS4-HMAC-SHA256 Credential=x/20260101/eu-west-1/{service}/aws4_request, Signature=x"),
    ]
    answers = []
    for way in ("flask", "direct"):
        environ = EnvironBuilder(base_url=url, path="/", method="POST", data=json.dumps(body), headers=headers)
        wsgi = app.get_application(environ.get_environ())
        assert type(wsgi).__name__ == "DirectJsonTargets"
        chosen = wsgi.app if way == "flask" else wsgi
        answer, status, got = run_wsgi_app(chosen, environ.get_environ(), buffered=True)
        kept = sorted((k.lower(), v) for k, v in got.items() if k.lower() not in VOLATILE)
        answers.append((status, kept, b"".join(answer)))
    return answers[0], answers[1]


def test_a_json_call_answers_the_same_without_flask() -> None:
    """Reads and refusals (which change nothing, so both ways see the same state) answer alike."""

    server, url = moto_server.start()
    try:
        make = client_of(url)
        table = {
            "TableName": "direct",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        make("dynamodb").create_table(**table)
        make("dynamodb").put_item(TableName="direct", Item={"id": {"S": "a"}, "n": {"N": "1"}, "m": {"B": b"x"}})
        make("sqs").create_queue(QueueName="direct")
        key = {"TableName": "direct", "Key": {"id": {"S": "a"}}}
        query = {"TableName": "direct", "KeyConditionExpression": "id = :a"}
        calls: list[tuple[str, dict[str, Any], str]] = [
            ("DynamoDB_20120810.CreateTable", table, "dynamodb"),
            ("DynamoDB_20120810.GetItem", key, "dynamodb"),
            ("DynamoDB_20120810.GetItem", {**key, "TableName": "missing"}, "dynamodb"),
            ("DynamoDB_20120810.Query", {**query, "ExpressionAttributeValues": {":a": {"S": "a"}}}, "dynamodb"),
            ("DynamoDB_20120810.UpdateItem", {**key, "UpdateExpression": "SET n = n + :x"}, "dynamodb"),
            ("DynamoDB_20120810.Query", {**query, "IndexName": "none"}, "dynamodb"),
            ("AmazonSQS.ListQueues", {}, "sqs"),
            ("AmazonSQS.GetQueueAttributes", {"QueueUrl": f"{url}/123456789012/direct"}, "sqs"),
            ("AmazonSQS.ReceiveMessage", {"QueueUrl": f"{url}/123456789012/nope"}, "sqs"),
            ("DynamoDBStreams_20120810.ListStreams", {}, "dynamodb"),
        ]
        statuses = set()
        for target, body, service in calls:
            flask, direct = _both_ways(url, target, body, service)
            assert direct == flask, target
            statuses.add(flask[0].split()[0])
        assert statuses >= {"200", "400"}  # answers and refusals both compared
    finally:
        server.stop()


# --- each speed-up is on the path moto takes ------------------------------------------------------------
# The answers above are the same with and without the speed-ups; what a speed-up changes is the path. A
# speed-up that moto's calls never reach (moto moved the work elsewhere) would be applied and idle: each
# is held here to have run while the local account served a script of DynamoDB calls, in process.

_TABLE = {
    "TableName": "p",
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
_UPDATE = {
    "TableName": "p",
    "Key": {"id": {"S": "a"}},
    "UpdateExpression": "SET #n = :n ADD #c :one",
    "ConditionExpression": "attribute_not_exists(#n) OR #n <> :n",
    "ExpressionAttributeNames": {"#n": "n", "#c": "c"},
    "ExpressionAttributeValues": {":n": {"S": "x"}, ":one": {"N": "1"}},
    "ReturnValues": "ALL_NEW",
}


def _dynamodb_call(url: str, action: str, body: dict[str, Any]) -> tuple[int, str]:
    """One SDK-shaped DynamoDB call to moto's server at ``url``, served in this thread."""
    answer = moto_server.call_in_process(url, "/", json.dumps(body).encode(), moto_server.dynamodb_headers(action))
    assert answer is not None, "moto's server serves in this process"
    return answer


def _unwrapped(value: Any) -> Any:
    """What a patched attribute calls: a classmethod's or property's function, or the value itself."""
    for wrapped in ("__func__", "fget"):
        value = getattr(value, wrapped, value)
    return value


@dataclass
class Served:
    """What ran while the local account served the script: code objects, and the hits of each cache patched in."""

    ran: set[CodeType]
    hits: dict[int, int]  # id of a cache -> hits during the script


@pytest.fixture(scope="module")
def served() -> Served:
    server, url = moto_server.start()
    caches = [
        cache
        for values in patches.patch_moto().values.values()
        for cache in map(_unwrapped, values)
        if hasattr(cache, "cache_info")
    ]
    before = {id(cache): cache.cache_info().hits for cache in caches}
    ran: set[CodeType] = set()

    def profile(frame: FrameType, event: str, _: Any) -> None:
        if event == "call":
            ran.add(frame.f_code)

    sys.setprofile(profile)
    try:
        answers = [_dynamodb_call(url, "CreateTable", _TABLE)]
        answers += [_dynamodb_call(url, "UpdateItem", _UPDATE) for _ in range(2)]
        answers.append(_dynamodb_call(url, "GetItem", {"TableName": "p", "Key": {"id": {"S": "a"}}}))
        query = {"TableName": "p", "KeyConditionExpression": "id = :a", "ExpressionAttributeValues": {":a": {"S": "a"}}}
        answers.append(_dynamodb_call(url, "Query", query))
        answers.append(_dynamodb_call(url, "DeleteItem", {"TableName": "p", "Key": {"id": {"S": "a"}}}))
    finally:
        sys.setprofile(None)
        server.stop()
    assert [status for status, _ in answers] == [200, 200, 400, 200, 200, 200], answers  # the second update is refused
    return Served(ran, {id(cache): cache.cache_info().hits - before[id(cache)] for cache in caches})


@pytest.mark.parametrize(
    "name",
    [p.name for p in patches.PATCHES if p.held_by.startswith(speedups.ON_PATH_TEST)],
    ids=speedups.case_of,
)
def test_each_speedup_is_on_motos_path(name: str, served: Served) -> None:
    """Each replacement ran; a cache put in place answered at least once (the script repeats its calls)."""
    values = patches.patch_moto().values.get(name)
    assert values, f"{name} is not applied"
    for value in map(_unwrapped, values):
        if hasattr(value, "cache_info"):
            assert served.hits[id(value)] > 0, f"{name}: its cache never answered"
        else:
            assert value.__code__ in served.ran, f"{name}: moto's calls never reached {value.__qualname__}"


# --- SQS in time independent of the queue's depth --------------------------------------------------------


def _cycle_seconds(sqs: Any, url: str, rounds: int = 5) -> float:
    """Best time of a receive of 10, their delete and a send of 10 more (the writer's mapping in a loop)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])
        best = min(best, time.perf_counter() - started)
    return best


def _queue_of(sqs: Any, name: str, depth: int) -> str:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    for _ in range(0, depth, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])
    return url


def test_sqs_does_not_slow_down_as_the_queue_grows(clients: dict[str, Any]) -> None:
    """moto took 1.1 s per cycle at 2,000 messages and 3.5 s at 6,000 (15 ms at 10): 230x. AWS does not."""
    sqs = clients["sqs"]
    shallow, deep = _queue_of(sqs, "depth-10", 10), _queue_of(sqs, "depth-3000", 3000)
    ratio = _cycle_seconds(sqs, deep) / _cycle_seconds(sqs, shallow)
    assert ratio < 5, f"a cycle on 3,000 messages took {ratio:.1f}x one on 10"


def test_sqs_counts_deletes_and_retention_still_behave_as_documented(clients: dict[str, Any]) -> None:
    sqs = clients["sqs"]
    url = _queue_of(sqs, "depth-semantics", 20)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("10", "10")
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    handle = got[0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)  # deleting again is not an error
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert raised.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "9"
    expiring = sqs.create_queue(QueueName="depth-retention", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=expiring, MessageBody="old")
    with mock.patch("time.time", return_value=time.time() + 61):
        assert sqs.receive_message(QueueUrl=expiring).get("Messages", []) == []
