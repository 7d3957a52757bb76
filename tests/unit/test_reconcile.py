"""reconcile: the fold of the details rows against the stored summaries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest

from ledger_aggregator.domain import Totals
from ledger_aggregator.ops.__main__ import main
from ledger_aggregator.ops.reconcile import reconcile
from tests.support.aws import APPLIED, DETAILS, SUMMARY
from tests.support.ledger import image


@pytest.fixture
def dynamodb(ledger_tables: Any) -> Any:
    return ledger_tables


def summary(client: Any, account: str, credits: str, debits: str, count: int) -> None:
    client.put_item(
        TableName=SUMMARY,
        Item={
            "accountId": {"S": account},
            "credits": {"N": credits},
            "debits": {"N": debits},
            "transactionCount": {"N": str(count)},
            "balance": {"N": str(Decimal(credits) - Decimal(debits))},
        },
    )


def test_exact_summaries_give_no_difference(dynamodb: Any) -> None:
    for i in range(30):
        dynamodb.put_item(TableName=DETAILS, Item=image(f"a{i % 3}", f"t{i}", "credit", "1.10"))
    for account in ("a0", "a1", "a2"):
        summary(dynamodb, account, "11.00", "0", 10)
    assert reconcile(dynamodb, DETAILS, SUMMARY) == []


def test_a_planted_corruption_and_a_missing_summary_are_found(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))
    dynamodb.put_item(TableName=DETAILS, Item=image("b", "t1", "debit", "2"))
    bad = image("a", "t2", "credit", "1")
    bad["amount"] = {"S": "abc"}
    dynamodb.put_item(TableName=DETAILS, Item=bad)  # a poison row counts for nothing
    summary(dynamodb, "a", "5.01", "0", 1)
    found = reconcile(dynamodb, DETAILS, SUMMARY)
    assert [(d.account_id, d.expected, d.actual) for d in found] == [
        ("a", Totals(Decimal(5), Decimal(0), 1), Totals(Decimal("5.01"), Decimal(0), 1)),
        ("b", Totals(Decimal(0), Decimal(2), 1), None),
    ]
    assert [d.account_id for d in reconcile(dynamodb, DETAILS, SUMMARY, account="b")] == ["b"]


def test_the_cli_exits_non_zero_on_differences(
    dynamodb: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "awsEndpointUrl": "",
                "region": "eu-west-1",
                "terraform": {
                    "details_table": {"name": DETAILS},
                    "summary_table": {"name": SUMMARY},
                    "applied_table": {"name": APPLIED},
                },
            }
        )
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    assert main(["--outputs", str(outputs), "--quiet", "reconcile"]) == 1
    assert "a: expected credits 5 debits 0 count 1, summary has no summary" in capsys.readouterr().out
    summary(dynamodb, "a", "5", "0", 1)
    assert main(["--outputs", str(outputs), "reconcile", "--account", "a"]) == 0


def test_rebuild_refuses_while_the_buffer_dlq_holds_deltas(
    dynamodb: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="buffer-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    outputs = tmp_path / "outputs.json"
    tables = {f"{k}_table": {"name": n} for k, n in (("details", DETAILS), ("summary", SUMMARY), ("applied", APPLIED))}
    terraform = {**tables, "buffer_dlq_url": url, "details_stream_arn": "arn:unused"}
    outputs.write_text(json.dumps({"region": "eu-west-1", "terraform": terraform}))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    assert main(["--outputs", str(outputs), "--quiet", "rebuild"]) == 2
    assert "the buffer DLQ holds 1 message(s)" in capsys.readouterr().err
