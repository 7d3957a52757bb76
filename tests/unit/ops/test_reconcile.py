"""reconcile: the fold of the details rows against the stored summaries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger_aggregator.domain import Totals
from ledger_aggregator.summary_item import summary_key
from ledger_ops.reconcile import reconcile, reconcile_global
from tests.support.aws import DETAILS, SUMMARY, put_summary
from tests.support.ledger import image


def test_exact_summaries_give_no_difference(dynamodb: Any) -> None:
    for i in range(30):
        dynamodb.put_item(TableName=DETAILS, Item=image(f"a{i % 3}", f"t{i}", "credit", "1.10"))
    for account in ("a0", "a1", "a2"):
        put_summary(dynamodb, account, "11.00", "0", 10)
    assert reconcile(dynamodb, DETAILS, SUMMARY) == []


def test_a_planted_corruption_and_a_missing_summary_are_found(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "5"))
    dynamodb.put_item(TableName=DETAILS, Item=image("b", "t1", "debit", "2"))
    bad = image("a", "t2", "credit", "1")
    bad["amount"] = {"S": "abc"}
    dynamodb.put_item(TableName=DETAILS, Item=bad)  # a poison row counts for nothing
    put_summary(dynamodb, "a", "5.01", "0", 1)
    found = reconcile(dynamodb, DETAILS, SUMMARY)
    assert [(d.key, d.expected, d.actual) for d in found] == [
        (("a", "EUR"), Totals(Decimal(5), Decimal(0), 1), Totals(Decimal("5.01"), Decimal(0), 1)),
        (("b", "EUR"), Totals(Decimal(0), Decimal(2), 1), None),
    ]
    assert [d.key for d in reconcile(dynamodb, DETAILS, SUMMARY, account="b")] == [("b", "EUR")]


def test_each_currency_is_compared_on_its_own(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "100", currency="EUR"))
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t2", "debit", "5000", currency="JPY"))
    put_summary(dynamodb, "a", "100", "0", 1, currency="EUR")
    put_summary(dynamodb, "a", "0", "4900", 1, currency="JPY")
    put_summary(dynamodb, "a", "0", "100", 1, currency="USD")  # a currency the account never used
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
    put_summary(dynamodb, "a", "100", "40", 2)
    put_summary(dynamodb, "b", "40", "0", 1)
    assert reconcile_global(dynamodb, DETAILS, SUMMARY) == []
    dynamodb.delete_item(TableName=DETAILS, Key={"accountId": {"S": "b"}, "transactionId": {"S": "x1"}})
    put_summary(dynamodb, "b", "0", "0", 0)  # the credit leg is gone, and b's summary with it
    (imbalance,) = reconcile_global(dynamodb, DETAILS, SUMMARY)
    assert (imbalance.currency, imbalance.balances, imbalance.standalone) == ("EUR", Decimal(60), Decimal(100))


def test_every_served_field_is_compared_not_only_the_totals(dynamodb: Any) -> None:
    """Reviewed finding: a summary with credits 100 and balance 999999 reconciled clean."""
    dynamodb.put_item(TableName=DETAILS, Item=image("a", "t1", "credit", "100", at="2026-03-01T00:00:00Z"))
    dynamodb.put_item(TableName=DETAILS, Item=image("b", "t1", "credit", "100", at="2026-03-01T00:00:00Z"))
    put_summary(dynamodb, "a", "100", "0", 1, latest="2026-03-01T00:00:00.000000Z")
    dynamodb.update_item(
        TableName=SUMMARY,
        Key=summary_key("a", "EUR"),
        UpdateExpression="SET balance = :b",
        ExpressionAttributeValues={":b": {"N": "999999"}},
    )
    put_summary(dynamodb, "b", "100", "0", 1, latest=None)  # right totals and balance, but no lastTransactionAt
    found = {d.key[0]: d.problems for d in reconcile(dynamodb, DETAILS, SUMMARY)}
    assert found == {
        "a": ("balance 999999 is not credits - debits (100)",),
        "b": ("lastTransactionAt None is earlier than the rows' latest 2026-03-01T00:00:00.000000Z",),
    }


def test_held_is_compared_with_what_the_open_holds_reserve(dynamodb: Any) -> None:
    for row in (image("a", "t1", "credit", "100"), image("a", "h1", "hold", "30"), image("a", "c1", "capture", "10")):
        dynamodb.put_item(TableName=DETAILS, Item=row)
    put_summary(dynamodb, "a", "100", "10", 3)
    (difference,) = reconcile(dynamodb, DETAILS, SUMMARY)
    assert (difference.expected.held, difference.actual) == (Decimal(20), Totals(Decimal(100), Decimal(10), 3))
    assert "held 20" in difference.describe() and "held 0" in difference.describe()
    dynamodb.update_item(
        TableName=SUMMARY,
        Key=summary_key("a", "EUR"),
        UpdateExpression="SET held = :h",
        ExpressionAttributeValues={":h": {"N": "20"}},
    )
    assert reconcile(dynamodb, DETAILS, SUMMARY) == []
