"""The filtered listing's figures for `make bench-report` (and alone: `python -m bench.listing`).

On the stack as bench-report last applied it (no injected faults): ``rows`` credits posted through the signed
API into one account from 8 clients (harness.load: every answer 201), 1 in 100 of them in USD and the rest in
EUR; then the account listed through the API in pages of 100 (docs/api.md, "Listing"), following nextToken to
the end, three ways: the USD rows alone (``currency=USD``: a filter that matches 1% of the rows), every row,
and the USD rows of the newest tenth of the booking times (``from`` and ``to``: a range DynamoDB applies before
it reads).

For each listing: the pages (one DynamoDB Query each, counted through the API), the rows returned, the rows
read, and the read units those reads cost. The local account meters no reads, so the units are computed from
the rows by DynamoDB's documented rule: a Query on a global secondary index costs the size of the index
entries it reads, filtered out or not, rounded up to the next 4 KB, and half of that for an eventually
consistent read (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Reads,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.FilterExpression.html), with an item's
size as https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html gives it.
A page reads ``limit`` rows of the index in its order, so the rows each page read are known from the rows
posted: no Query is sent outside the API to find them.
"""

from __future__ import annotations

import argparse
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

import boto3

from bench.alone import measure_alone
from harness.client import LedgerClient
from harness.load import post_concurrently
from harness.stack import Stack
from ledger_ops.reconcile import account_items
from local_account import fault_plan
from local_account.account import LocalAccount

CLIENTS = 8
PAGE = 100  # the largest page the API allows
RARE = 100  # 1 row in RARE is in USD: the filter matches 1%
READ_UNIT_BYTES = 4096


@dataclass(frozen=True)
class ListingSizes:
    """How many rows the account holds: the report's, or ``--quick``'s (the same code on less)."""

    rows: int = 10_000


QUICK_LISTING = ListingSizes(rows=300)


@dataclass
class Listing:
    """One listing of the account, every page of it."""

    name: str
    query: str
    pages: int
    returned: int
    read: int
    read_units: float

    def units_per_row_returned(self) -> float:
        """Read units spent for each row the listing returned."""
        return self.read_units / self.returned if self.returned else 0.0


@dataclass
class ListingFigures:
    """Everything bench.listing measured in one run."""

    rows: int
    listings: list[Listing]


def item_size(item: dict[str, Any]) -> int:
    """An item's size in bytes as DynamoDB counts it for capacity: each attribute's name (UTF-8) plus its
    value, a string by its UTF-8 length and a number by 1 byte per two significant digits plus 1.
    Only the string and number attributes the details rows hold are counted here."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            digits = Decimal(value["N"]).normalize().as_tuple().digits
            size += math.ceil(len(digits) / 2) + 1
        else:
            raise ValueError(f"{name}: only S and N attributes are sized here, not {sorted(value)}")
    return size


def read_units(sizes: list[int]) -> float:
    """Read units of one eventually consistent Query that read items of these sizes."""
    return math.ceil(sum(sizes) / READ_UNIT_BYTES) / 2 if sizes else 0.5


def rows_to_post(account: str, rows: int) -> list[tuple[str, dict[str, Any]]]:
    """``rows`` credits of 1.00 into ``account``, every RARE-th in USD."""
    return [
        (account, {"transactionId": f"l{i:05d}", "type": "credit", "amount": "1.00", "currency": currency})
        for i, currency in ((i, "USD" if i % RARE == RARE - 1 else "EUR") for i in range(rows))
    ]


def booked_at(row: dict[str, Any]) -> int:
    """A details row's recordedAt, the index's sort key."""
    return int(row["recordedAt"]["N"])


class Query(NamedTuple):
    """A listing to measure: its name in the report, its filters, and its range of booking times if any."""

    name: str
    filters: str
    span: tuple[int, int] | None = None


def listing(client: LedgerClient, account: str, index: list[dict[str, Any]], asked: Query) -> Listing:
    """List ``account`` as ``asked`` in pages of PAGE, and cost its reads from ``index``: the account's rows
    in the index's order, newest first."""
    span = asked.span
    query = "&".join(filter(None, [asked.filters, span and f"from={span[0]}&to={span[1]}", f"limit={PAGE}"]))
    listed = client.listing(account, query)
    read = [row for row in index if span is None or span[0] <= booked_at(row) <= span[1]]
    windows = [read[start : start + PAGE] for start in range(0, len(read), PAGE)]
    units = sum(read_units([item_size(row) for row in window]) for window in windows)
    units += 0.5 * (listed.pages - len(windows))  # a last page that read nothing (its predecessor stopped at the limit)
    return Listing(asked.name, query, listed.pages, len(listed.ids), len(read), units)


def measure_listing(
    account: LocalAccount, stack: Stack, say: Callable[[str], None], sizes: ListingSizes = ListingSizes()
) -> ListingFigures:
    """Post the rows into one account of the stack (as last applied, or pattern 1 on a fresh one), then list
    them three ways (no faults)."""
    fault_plan.ACTIVE = fault_plan.Faults()
    if stack.pattern is None:
        say("listing: terraform apply (pattern 1)")
        outputs = stack.apply(1)
    else:  # as applied: its variables may have changed since (bench.events turns events off after it)
        outputs = stack.outputs()
    client = LedgerClient(account.api_base(outputs), account.region)
    holder = f"listing-{uuid.uuid4().hex[:6]}"
    say(f"listing: posting {sizes.rows:,} rows into one account, 1 in {RARE} in USD")
    post_concurrently(client, rows_to_post(holder, sizes.rows), CLIENTS)
    stored = account_items(boto3.client("dynamodb"), outputs["details_table"]["name"], holder)
    index = sorted(stored, key=lambda row: (booked_at(row), row["transactionId"]["S"]), reverse=True)
    newest = index[: len(index) - len(index) * 9 // 10]  # the newest tenth of the booking times
    queries = [
        Query("1% filter (currency=USD)", "currency=USD"),
        Query("no filter", ""),
        Query("1% filter, newest tenth of the range", "currency=USD", (booked_at(newest[-1]), booked_at(newest[0]))),
    ]
    figures = ListingFigures(sizes.rows, [listing(client, holder, index, asked) for asked in queries])
    for one in figures.listings:
        say(_line(one))
    return figures


def _line(one: Listing) -> str:
    return (
        f"listing, {one.name}: {one.pages} pages, {one.returned:,} rows returned, {one.read:,} read, "
        f"{one.read_units:,.1f} read units ({one.units_per_row_returned():.2f} per row returned)"
    )


def from_json(saved: dict[str, Any]) -> ListingFigures:
    """The figures as bench-report saved them in benchmark.json."""
    return ListingFigures(saved["rows"], [Listing(**one) for one in saved["listings"]])


def main(argv: list[str] | None = None) -> int:
    """Measure the listing alone, on a fresh local account, and print the figures as JSON."""
    parser = argparse.ArgumentParser(description="a filtered listing's pages, rows read and read units")
    parser.add_argument("--quick", action="store_true", help="a few hundred rows")
    sizes = QUICK_LISTING if parser.parse_args(argv).quick else ListingSizes()
    figures = measure_alone("listing", partial(measure_listing, sizes=sizes))
    print(json.dumps(asdict(figures), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
