"""Recompute summaries from the details table and compare them with the summary table."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain import Summary, Totals, fold

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Difference:
    """One account whose summary is not the fold of its rows."""

    account_id: str
    expected: Totals
    actual: Totals | None

    def describe(self) -> str:
        """One line for a person."""
        got = "no summary" if self.actual is None else describe_totals(self.actual)
        return f"{self.account_id}: expected {describe_totals(self.expected)}, summary has {got}"


def describe_totals(t: Totals) -> str:
    """Totals in words, for a person."""
    return f"credits {t.credits} debits {t.debits} count {t.count}"


def scan(client: Any, table: str, segments: int = 4, progress: Progress | None = None) -> list[dict[str, Any]]:
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


def account_rows(client: Any, table: str, account: str) -> list[dict[str, Any]]:
    """One account's details rows."""
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="accountId = :a",
        ExpressionAttributeValues={":a": {"S": account}},
        ConsistentRead=True,
    )
    return [item for page in pages for item in page["Items"]]


def summary_totals(item: dict[str, Any]) -> Totals:
    """The money totals stored in a summary item."""

    def number(name: str) -> Decimal:
        return Decimal(item.get(name, {"N": "0"})["N"])

    return Totals(number("credits"), number("debits"), int(number("transactionCount")))


def differences(expected: dict[str, Summary], actual: dict[str, Totals]) -> list[Difference]:
    """Accounts whose stored totals differ from the fold (a missing summary of zero is fine)."""
    found = []
    for account in sorted(set(expected) | set(actual)):
        want = expected[account].totals if account in expected else Totals()
        have = actual.get(account)
        if (have or Totals()) != want or (have is None and not want.is_zero()):
            found.append(Difference(account, want, have))
    return found


def reconcile(
    client: Any, details: str, summary: str, account: str | None = None, progress: Progress | None = None
) -> list[Difference]:
    """Compare every summary (or one account's) with the fold of the details rows."""
    if account:
        rows = account_rows(client, details, account)
        item = client.get_item(TableName=summary, Key={"accountId": {"S": account}}, ConsistentRead=True).get("Item")
        stored = {account: summary_totals(item)} if item else {}
    else:
        rows = scan(client, details, progress=progress)
        stored = {i["accountId"]["S"]: summary_totals(i) for i in scan(client, summary, progress=progress)}
    return differences(fold(rows), stored)
