"""reconcile: the fold of the details rows against the stored summaries."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

from ledger_aggregator.domain import Totals
from ledger_aggregator.summary_item import summary_key
from ledger_ops.__main__ import main
from ledger_ops.reconcile import reconcile, reconcile_global
from tests.support.aws import APPLIED, BALANCES, DETAILS, SUMMARY, create_balances_table
from tests.support.ledger import image


@pytest.fixture
def dynamodb(ledger_tables: Any) -> Any:
    return ledger_tables


@pytest.fixture
def outputs(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Writes the stack's outputs file the CLI reads (the test tables, plus ``extra`` outputs); returns its path."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")

    def write(**extra: Any) -> str:
        tables = {
            f"{k}_table": {"name": n} for k, n in (("details", DETAILS), ("summary", SUMMARY), ("applied", APPLIED))
        }
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps({"region": "eu-west-1", "terraform": {**tables, **extra}}))
        return str(path)

    return write


def summary(
    client: Any,
    account: str,
    credits: str,
    debits: str,
    count: int,
    *,
    currency: str = "EUR",
    latest: str | None = "2026-01-01T00:00:00.000000Z",  # the rows' time in tests.support.ledger.image
) -> None:
    item = {
        **summary_key(account, currency),
        "credits": {"N": credits},
        "debits": {"N": debits},
        "transactionCount": {"N": str(count)},
        "balance": {"N": str(Decimal(credits) - Decimal(debits))},
    }
    if latest:
        item["lastTransactionAt"] = {"S": latest}
    client.put_item(TableName=SUMMARY, Item=item)


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
    assert [(d.key, d.expected, d.actual) for d in found] == [
        (("a", "EUR"), Totals(Decimal(5), Decimal(0), 1), Totals(Decimal("5.01"), Decimal(0), 1)),
        (("b", "EUR"), Totals(Decimal(0), Decimal(2), 1), None),
    ]
    assert [d.key for d in reconcile(dynamodb, DETAILS, SUMMARY, account="b")] == [("b", "EUR")]


def test_each_currency_is_compared_on_its_own(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "100", currency="EUR"))
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t2", "debit", "5000", currency="JPY"))
    summary(dynamodb, "a", "100", "0", 1, currency="EUR")
    summary(dynamodb, "a", "0", "4900", 1, currency="JPY")
    summary(dynamodb, "a", "0", "100", 1, currency="USD")  # a currency the account never used
    found = reconcile(dynamodb, DETAILS, SUMMARY, account="a")
    assert [(d.key, d.actual) for d in found] == [
        (("a", "JPY"), Totals(Decimal(0), Decimal(4900), 1)),
        (("a", "USD"), Totals(Decimal(0), Decimal(100), 1)),
    ]


def test_global_reconcile_finds_a_transfer_that_does_not_net_to_zero(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "100"))
    legs = [image("a", "x1", "debit", "40"), image("b", "x1", "credit", "40")]
    for leg in legs:
        leg["transferId"] = {"S": "x1"}
        dynamodb.put_item(TableName=DETAILS, Item=leg)
    summary(dynamodb, "a", "100", "40", 2)
    summary(dynamodb, "b", "40", "0", 1)
    assert reconcile_global(dynamodb, DETAILS, SUMMARY) == []
    dynamodb.delete_item(TableName=DETAILS, Key={"accountId": {"S": "b"}, "transactionId": {"S": "x1"}})
    summary(dynamodb, "b", "0", "0", 0)  # the credit leg is gone, and b's summary with it
    (imbalance,) = reconcile_global(dynamodb, DETAILS, SUMMARY)
    assert (imbalance.currency, imbalance.balances, imbalance.standalone) == ("EUR", Decimal(60), Decimal(100))


def test_the_cli_exits_non_zero_on_differences(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))
    path = outputs()
    assert main(["--outputs", path, "--quiet", "reconcile"]) == 1
    assert "a/EUR: expected credits 5 debits 0 count 1, summary has no summary" in capsys.readouterr().out
    summary(dynamodb, "a", "5", "0", 1)
    assert main(["--outputs", path, "reconcile", "--account", "a"]) == 0
    assert main(["--outputs", path, "--quiet", "reconcile", "--global"]) == 0
    summary(dynamodb, "b", "1", "0", 1)
    assert main(["--outputs", path, "--quiet", "reconcile", "--global"]) == 1
    assert "EUR: the balances sum to 6, but standalone credits less debits are 5" in capsys.readouterr().out


def test_with_the_guard_reconcile_checks_the_balance_items_and_guard_init_seeds_them(
    dynamodb: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))  # a row from before the guard
    summary(dynamodb, "a", "5", "0", 1)
    assert main(["--outputs", outputs(), "--quiet", "guard", "init"]) == 2, "refused without the guard"
    create_balances_table(dynamodb)
    path = outputs(balances_table={"name": BALANCES})
    assert main(["--outputs", path, "--quiet", "reconcile"]) == 1
    out = capsys.readouterr().out
    assert "0 difference(s)" in out and "a/EUR: balance item: no balance item, but rows" in out
    assert main(["--outputs", path, "--quiet", "guard", "init"]) == 0
    assert "1 balance item(s) seeded, 0 already seeded" in capsys.readouterr().out
    assert main(["--outputs", path, "--quiet", "reconcile", "--account", "a"]) == 0
    assert "0 balance item difference(s)" in capsys.readouterr().out


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


def test_every_served_field_is_compared_not_only_the_totals(dynamodb: Any) -> None:
    """Reviewed finding: a summary with credits 100 and balance 999999 reconciled clean."""
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "100", at="2026-03-01T00:00:00Z"))
    dynamodb.put_item(TableName=DETAILS, Item=image("b", "t1", "credit", "100", at="2026-03-01T00:00:00Z"))
    summary(dynamodb, "a", "100", "0", 1, latest="2026-03-01T00:00:00.000000Z")
    dynamodb.update_item(
        TableName=SUMMARY,
        Key=summary_key("a", "EUR"),
        UpdateExpression="SET balance = :b",
        ExpressionAttributeValues={":b": {"N": "999999"}},
    )
    summary(dynamodb, "b", "100", "0", 1, latest=None)  # right totals and balance, but no lastTransactionAt
    found = {d.key[0]: d.problems for d in reconcile(dynamodb, DETAILS, SUMMARY)}
    assert found == {
        "a": ("balance 999999 is not credits - debits (100)",),
        "b": ("lastTransactionAt None is earlier than the rows' latest 2026-03-01T00:00:00.000000Z",),
    }
