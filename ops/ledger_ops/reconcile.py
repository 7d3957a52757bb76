"""Recompute summaries from the details table and compare them with the summary table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger_aggregator.domain import ZERO, Key, Summary, Totals, fold, standalone_net
from ledger_aggregator.summary_item import StoredSummary, key_of, stored_summary

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Difference:
    """One ``(account, currency)`` whose summary, as the API serves it, is not the fold of its rows."""

    key: Key
    expected: Totals
    actual: Totals | None
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a person."""
        got = "no summary" if self.actual is None else describe_totals(self.actual)
        line = f"{'/'.join(self.key)}: expected {describe_totals(self.expected)}, summary has {got}"
        return line + "".join(f"; {p}" for p in self.problems)


def problems(expected: Summary | None, stored: StoredSummary | None) -> tuple[str, ...]:
    """What is wrong with a stored summary against the fold of its rows; empty when it is right.

    Every field the API serves is compared. ``balance`` must be credits less debits, exactly.
    ``lastTransactionAt`` must not be missing or earlier than the rows' latest time; a later one
    is accepted, because a row removed from the table (never through the API) leaves it as it was.
    """
    want = expected.totals if expected else Totals()
    if stored is None:
        return () if want.is_zero() else ("no summary",)
    found = []
    if stored.totals != want:
        found.append("totals differ")
    if stored.balance != stored.totals.credits - stored.totals.debits:
        found.append(f"balance {stored.balance} is not credits - debits ({stored.totals.balance})")
    latest = expected.last_transaction_at if expected else None
    if latest is not None and (stored.last_transaction_at is None or stored.last_transaction_at < latest):
        found.append(f"lastTransactionAt {stored.last_transaction_at} is earlier than the rows' latest {latest}")
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Imbalance:
    """A currency whose balances, summed over every account, are not what the standalone rows make."""

    currency: str
    balances: Decimal
    standalone: Decimal

    def describe(self) -> str:
        """One line for a person."""
        return (
            f"{self.currency}: the balances sum to {self.balances}, but standalone credits less debits are "
            f"{self.standalone}: transfers do not net to zero, or summaries differ (run reconcile per account)"
        )


def describe_totals(t: Totals) -> str:
    """Totals in words, for a person."""
    return f"credits {t.credits} debits {t.debits} held {t.held} count {t.count}"


def scan(
    client: DynamoDBClient, table: str, segments: int = 4, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Every item of a table, read with a parallel scan."""

    def segment(number: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        pages = client.get_paginator("scan").paginate(
            TableName=table, Segment=number, TotalSegments=segments, ConsistentRead=True
        )
        for page in pages:
            items += page["Items"]
            if progress:
                progress(len(page["Items"]))
        return items

    with ThreadPoolExecutor(max_workers=segments) as pool:
        return [item for part in pool.map(segment, range(segments)) for item in part]


def account_items(client: DynamoDBClient, table: str, account: str) -> list[dict[str, Any]]:
    """One account's items of a table keyed on ``accountId``: its details rows, or its summaries."""
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="accountId = :a",
        ExpressionAttributeValues={":a": {"S": account}},
        ConsistentRead=True,
    )
    return [item for page in pages for item in page["Items"]]


def differences(expected: Mapping[Key, Summary], actual: Mapping[Key, StoredSummary]) -> list[Difference]:
    """Keys whose stored summary is not the fold (a missing summary of zero is fine)."""
    found = []
    for key in sorted(set(expected) | set(actual)):
        fold_of, stored = expected.get(key), actual.get(key)
        wrong = problems(fold_of, stored)
        if wrong:
            want = fold_of.totals if fold_of else Totals()
            found.append(Difference(key, want, stored.totals if stored else None, wrong))
    return found


def imbalances(rows: Iterable[Mapping[str, Any]], summaries: Iterable[Mapping[str, Any]]) -> list[Imbalance]:
    """Currencies where the conservation invariant fails: sum of balances != standalone credits - debits."""
    balances: dict[str, Decimal] = {}
    for item in summaries:
        currency = key_of(item)[1]
        balances[currency] = balances.get(currency, ZERO) + stored_summary(item).balance  # as the API serves it
    standalone = standalone_net(rows)
    return [
        Imbalance(c, balances.get(c, ZERO), standalone.get(c, ZERO))
        for c in sorted(set(balances) | set(standalone))
        if balances.get(c, ZERO) != standalone.get(c, ZERO)
    ]


def items_of(
    client: DynamoDBClient, table: str, account: str | None = None, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Every item of a table keyed on ``accountId`` (a parallel scan), or one account's (a query)."""
    return account_items(client, table, account) if account else scan(client, table, progress=progress)


def summary_differences(rows: Iterable[Mapping[str, Any]], summaries: Iterable[Mapping[str, Any]]) -> list[Difference]:
    """Every summary item that is not the fold of the details rows."""
    return differences(fold(rows), {key_of(i): stored_summary(i) for i in summaries})


def reconcile(
    client: DynamoDBClient, details: str, summary: str, account: str | None = None, progress: Progress | None = None
) -> list[Difference]:
    """Compare every summary (or one account's) with the fold of the details rows."""
    rows = items_of(client, details, account, progress)
    return summary_differences(rows, items_of(client, summary, account, progress))


def reconcile_global(
    client: DynamoDBClient, details: str, summary: str, progress: Progress | None = None
) -> list[Imbalance]:
    """Check conservation over the whole ledger: per currency, transfers net to zero across accounts."""
    return imbalances(scan(client, details, progress=progress), scan(client, summary, progress=progress))
