"""The balance guard's items: seeding them from the rows written before the guard, and checking them.

With the guard on, the API writes every row with ``guarded: true`` and, in the same transaction, adds its
amount to the balance item of its ``(account, currency)``. A balance item holds ``available`` (the rows it
has counted: credits - debits), ``headroom`` (``available`` + ``overdraftLimit``, what a debit may take)
and ``seeded``: true once every row of its key is counted. The rows from before the guard carry no flag,
and no new one can appear once the guard's deployment serves, so their fold per key is fixed: ``guard
init`` adds it to each item once (conditional on the item not being seeded), safely while guarded writes
go on adding their own amounts to the same items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger_aggregator.domain import ZERO, Key, fold

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

GUARDED = "guarded"  # the attribute the guarded templates write on every row


@dataclass(frozen=True, slots=True)
class BalanceItem:
    """A balance item as stored."""

    key: Key
    available: Decimal
    headroom: Decimal
    overdraft_limit: Decimal
    seeded: bool


def balance_item(item: Mapping[str, Any]) -> BalanceItem:
    """Read a balance item (DynamoDB JSON); a missing number is 0, a missing ``seeded`` is false."""

    def number(name: str) -> Decimal:
        return Decimal(item[name]["N"]) if name in item else ZERO

    key = (item["accountId"]["S"], item["currency"]["S"])
    seeded = bool(item.get("seeded", {}).get("BOOL", False))
    return BalanceItem(key, number("available"), number("headroom"), number("overdraftLimit"), seeded)


def is_guarded(row: Mapping[str, Any]) -> bool:
    """Whether the guard counted this row when it was written."""
    return bool(row.get(GUARDED, {}).get("BOOL", False))


def net_by_key(rows: Iterable[Mapping[str, Any]]) -> dict[Key, Decimal]:
    """Credits - debits per ``(account, currency)`` of the valid rows, as the summaries fold them."""
    return {key: summary.totals.balance for key, summary in fold(rows).items()}


def seeds(rows: Iterable[Mapping[str, Any]]) -> dict[Key, Decimal]:
    """What ``guard init`` adds to each balance item: the fold of its rows written before the guard."""
    return net_by_key(row for row in rows if not is_guarded(row))


@dataclass(frozen=True, slots=True)
class BalanceDifference:
    """A balance item that is not what its rows make it."""

    key: Key
    problems: tuple[str, ...]

    def describe(self) -> str:
        """One line for a person."""
        return f"{'/'.join(self.key)}: balance item: {'; '.join(self.problems)}"


def balance_problems(expected: Decimal, stored: BalanceItem | None, has_rows: bool) -> tuple[str, ...]:
    """What is wrong with one balance item against the fold of the rows it should have counted."""
    if stored is None:
        return ("no balance item, but rows: run ledger-ops guard init",) if has_rows else ()
    found = []
    counted = "its rows" if stored.seeded else "its guarded rows (not seeded yet: run ledger-ops guard init)"
    if stored.available != expected:
        found.append(f"available {stored.available} is not the fold of {counted}, {expected}")
    if stored.headroom != stored.available + stored.overdraft_limit:
        floor_sum = stored.available + stored.overdraft_limit
        found.append(f"headroom {stored.headroom} is not available + overdraftLimit ({floor_sum})")
    return tuple(found)


def balance_differences(
    rows: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]]
) -> list[BalanceDifference]:
    """Every balance item that differs from the fold of its rows: all of them once seeded, the guarded
    ones before. Run it once the API is quiet: a write between the two scans shows as a difference."""
    listed = list(rows)
    every, guarded = net_by_key(listed), net_by_key(row for row in listed if is_guarded(row))
    stored = {b.key: b for b in map(balance_item, items)}
    found = []
    for key in sorted(set(every) | set(stored)):
        item = stored.get(key)
        expected = every.get(key, ZERO) if item is None or item.seeded else guarded.get(key, ZERO)
        wrong = balance_problems(expected, item, key in every)
        if wrong:
            found.append(BalanceDifference(key, wrong))
    return found


@dataclass(frozen=True, slots=True)
class Seeded:
    """What ``guard init`` did: items seeded now, and items it found seeded already."""

    seeded: int
    already: int


def seed_balances(
    client: DynamoDBClient, balances: str, rows: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]]
) -> Seeded:
    """Seed every balance item that is not seeded: add the fold of its rows from before the guard, once.

    The keys are those with such rows and those whose item exists unseeded (created by a credit before the
    guard was initialised). The update is conditional on the item not being seeded, so a second run, or
    two runs at once, add nothing twice; guarded writes meanwhile add their own amounts to the same item.
    """
    before = seeds(rows)
    unseeded = {b.key for b in map(balance_item, items) if not b.seeded}
    seeded = already = 0
    for key in sorted(set(before) | unseeded):
        amount = before.get(key, ZERO)
        try:
            client.update_item(
                TableName=balances,
                Key={"accountId": {"S": key[0]}, "currency": {"S": key[1]}},
                UpdateExpression="ADD #av :n, #hr :n SET #sd = :true",
                ConditionExpression="attribute_not_exists(#sd) OR #sd = :false",
                ExpressionAttributeNames={"#av": "available", "#hr": "headroom", "#sd": "seeded"},
                ExpressionAttributeValues={
                    ":n": {"N": str(amount)},
                    ":true": {"BOOL": True},
                    ":false": {"BOOL": False},
                },
            )
            seeded += 1
        except client.exceptions.ConditionalCheckFailedException:
            already += 1
    return Seeded(seeded, already)
