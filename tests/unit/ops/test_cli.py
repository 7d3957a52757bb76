"""The operator's CLI (python -m ledger_ops): what it refuses, what it exits with, what it reads of a stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from ledger_ops.__main__ import main
from tests.support.aws import (
    BALANCES,
    DETAILS,
    HOLDS,
    SUMMARY,
    create_balances_table,
    create_holds_table,
    put_summary,
)
from tests.support.ledger import image
from tests.unit.adapters.test_holds import balance, hold_item


def test_the_cli_exits_non_zero_on_differences(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))
    path = outputs()
    assert main(["--outputs", path, "--quiet", "reconcile"]) == 1
    assert "a/EUR: expected credits 5 debits 0 held 0 count 1, summary has no summary" in capsys.readouterr().out
    put_summary(dynamodb, "a", "5", "0", 1)
    assert main(["--outputs", path, "reconcile", "--account", "a"]) == 0
    assert main(["--outputs", path, "--quiet", "reconcile", "--global"]) == 0
    put_summary(dynamodb, "b", "1", "0", 1)
    assert main(["--outputs", path, "--quiet", "reconcile", "--global"]) == 1
    assert "EUR: the balances sum to 6, but standalone credits less debits are 5" in capsys.readouterr().out


def test_with_the_guard_reconcile_checks_the_balance_items_and_guard_init_seeds_them(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))  # a row from before the guard
    put_summary(dynamodb, "a", "5", "0", 1)
    init = ["guard", "init", "--settle-seconds", "0"]
    assert main(["--outputs", outputs(), "--quiet", *init]) == 2, "refused without the guard"
    assert "serves no balance guard" in capsys.readouterr().err
    create_balances_table(dynamodb)
    path = outputs(stage={"balancesTable": BALANCES, "guardEpoch": "e1"})
    assert main(["--outputs", path, "--quiet", "reconcile"]) == 1
    out = capsys.readouterr().out
    assert "0 difference(s)" in out and "a/EUR: balance item: no balance item, but rows" in out
    assert main(["--outputs", path, "--quiet", *init]) == 0
    assert "epoch e1: 1 balance item(s) seeded, 0 carried from an earlier epoch" in capsys.readouterr().out
    assert main(["--outputs", path, "--quiet", "reconcile", "--account", "a"]) == 0
    assert "0 balance item difference(s) (epoch e1)" in capsys.readouterr().out
    api = json.loads(Path(path).read_text())["terraform"]["rest_api_id"]
    stage = boto3.client("apigateway").get_stage(restApiId=api, stageName="v1")
    assert stage["variables"]["guardInitialised"] == "e1", "guard init marks the epoch initialised on the stage"
    # The guard switched off and on again (a new epoch): the item is of an earlier epoch until guard init.
    path = outputs(stage={"balancesTable": BALANCES, "guardEpoch": "e2"})
    assert main(["--outputs", path, "--quiet", "reconcile", "--account", "a"]) == 1
    assert "of an earlier epoch of the guard (e1, not e2): run ledger-ops guard init" in capsys.readouterr().out
    assert main(["--outputs", path, "--quiet", *init]) == 0
    assert "0 balance item(s) seeded, 1 carried from an earlier epoch" in capsys.readouterr().out


@pytest.mark.parametrize("settle", ["-1", "601", "abc"])
def test_guard_inits_settle_time_is_validated(settle: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--outputs", "/nonexistent", "guard", "init", "--settle-seconds", settle])
    assert raised.value.code == 2 and "--settle-seconds" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("queue", "delay", "named"), [("buffer_dlq_url", 0, "buffer DLQ"), ("buffer_queue_url", 900, "buffer queue")]
)
def test_rebuild_refuses_while_the_buffer_queue_or_its_dlq_holds_deltas(  # noqa: PLR0917 - fixtures and parameters
    dynamodb: Any,
    outputs: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
    queue: str,
    delay: int,
    named: str,
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=queue.replace("_", "-"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}", DelaySeconds=delay)  # a delayed message counts too
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))
    path = outputs(**{queue: url, "details_stream_arn": "arn:unused"})
    assert main(["--outputs", path, "--quiet", "rebuild"]) == 2
    assert f"the {named} holds 1 message(s)" in capsys.readouterr().err
    assert dynamodb.scan(TableName=SUMMARY)["Items"] == [], "nothing written"


@pytest.mark.parametrize(("waiting", "code"), [("buffer_queue_url", 2), ("buffer_dlq_url", 2), (None, 0)])
def test_preflight_says_whether_the_guard_would_let_the_buffer_go(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str], waiting: str | None, code: int
) -> None:
    """Reviewed finding: switching from pattern 2 to 1 destroyed the buffer queue and its DLQ with the
    deltas in them. Pattern 1 now keeps the buffer; preflight asks what the writer's removal guard asks
    before buffer.retired removes it (here the stream function is gone, so only the queues count)."""
    sqs = boto3.client("sqs")
    urls = {
        name: sqs.create_queue(QueueName=name.replace("_", "-"))["QueueUrl"]
        for name in ("buffer_queue_url", "buffer_dlq_url")
    }
    if waiting:
        sqs.send_message(QueueUrl=urls[waiting], MessageBody="{}")
    assert main(["--outputs", outputs(**urls, stream_function_name="gone"), "preflight"]) == code
    if code:
        assert "holds 1 message(s)" in capsys.readouterr().err


def test_a_poison_record_left_in_the_buffer_dlq_does_not_hold_a_rebuild_back(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Reviewed finding: one poison message in the buffer DLQ refused rebuild (and preflight) for up to
    14 days, though it is never applied. The writer now parks in the stream DLQ; one parked by an older
    version is recognised and passed over."""
    sqs = boto3.client("sqs")
    urls = {
        name: sqs.create_queue(QueueName=name.replace("_", "-"))["QueueUrl"]
        for name in ("buffer_queue_url", "buffer_dlq_url")
    }
    parked = {"kind": "poison-record", "source": "queue", "reason": "x", "field": "changes", "recordId": "m1"}
    sqs.send_message(QueueUrl=urls["buffer_dlq_url"], MessageBody=json.dumps(parked))
    stream = dynamodb.describe_table(TableName=DETAILS)["Table"]["LatestStreamArn"]
    path = outputs(**urls, details_stream_arn=stream)
    assert main(["--outputs", path, "--quiet", "rebuild", "--settle", "1"]) == 0
    sqs.send_message(QueueUrl=urls["buffer_dlq_url"], MessageBody="a delta, or anything else")
    assert main(["--outputs", path, "--quiet", "rebuild", "--settle", "1"]) == 2
    assert "the buffer DLQ holds 1 message(s) that may be applied" in capsys.readouterr().err


@pytest.mark.parametrize("settle", ["0", "-1", "0.5", "301", "abc"])
def test_the_settle_time_is_validated(settle: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--outputs", "/nonexistent", "rebuild", "--settle", settle])
    assert raised.value.code == 2 and "--settle" in capsys.readouterr().err


def test_holds_expire_releases_the_expired_holds_and_is_refused_without_holds(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--outputs", outputs(stage={"balancesTable": BALANCES, "guardEpoch": "e1"}), "holds", "expire"]) == 2
    assert "serves no holds" in capsys.readouterr().err
    create_balances_table(dynamodb)
    create_holds_table(dynamodb)
    dynamodb.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    dynamodb.put_item(TableName=HOLDS, Item=hold_item("acc-2", "h1", "30", 1000))
    balance(dynamodb, "acc-1", "30", epoch="e1")
    balance(dynamodb, "acc-2", "30", epoch="e0")  # of an epoch before: guard init has not counted it yet
    path = outputs(stage={"balancesTable": BALANCES, "guardEpoch": "e1", "holdsTable": HOLDS})
    assert main(["--outputs", path, "--quiet", "holds", "expire"]) == 1, "one expired hold is left"
    out = capsys.readouterr().out
    assert "holds expire: epoch e1" in out and "1 released" in out and "1 on a balance not counted" in out
    release = dynamodb.get_item(
        TableName=DETAILS, Key={"accountId": {"S": "acc-1"}, "transactionId": {"S": "h1.release"}}
    )
    assert release["Item"]["reason"] == {"S": "expiry"}
    balance(dynamodb, "acc-2", "30", epoch="e1")
    assert main(["--outputs", path, "--quiet", "holds", "expire"]) == 0
    assert "1 released" in capsys.readouterr().out


def test_reconcile_names_hold_rows_no_request_could_write(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    release = image("a", "h9.release", "release", "40") | {"holdId": {"S": "h9"}}
    dynamodb.put_item(TableName=DETAILS, Item=release)
    put_summary(dynamodb, "a", "0", "0", 1)
    dynamodb.update_item(
        TableName=SUMMARY,
        Key={"accountId": {"S": "a"}, "currency": {"S": "EUR"}},
        UpdateExpression="SET held = :h",
        ExpressionAttributeValues={":h": {"N": "-40"}},
    )
    assert main(["--outputs", outputs(), "--quiet", "reconcile"]) == 1
    out = capsys.readouterr().out
    assert "0 difference(s)" in out, "the summary is the fold of the rows"
    assert "a/EUR: hold h9: a capture or release without the hold's row" in out and "1 hold problem(s)" in out


def test_guard_init_refuses_an_epoch_without_holds_while_a_hold_is_open_and_reconcile_names_it(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A hold made after the switch-off's refusal had passed, and before the stage left the epoch with holds,
    stays open: an epoch seeded without holds would let its funds be spent (docs/holds.md)."""
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "100"))
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "late", "hold", "30"))
    create_balances_table(dynamodb)
    path = outputs(stage={"balancesTable": BALANCES, "guardEpoch": "e2"})  # holds off: no holdsTable
    assert main(["--outputs", path, "--quiet", "guard", "init", "--settle-seconds", "0"]) == 2
    assert "the stage serves no holds, yet holds are open: a/EUR: late" in capsys.readouterr().err
    assert dynamodb.scan(TableName=BALANCES)["Items"] == [], "nothing seeded"
    assert main(["--outputs", path, "--quiet", "reconcile", "--account", "a"]) == 1
    assert "a/EUR: hold late is open, and the stage serves no holds" in capsys.readouterr().out
