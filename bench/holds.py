"""Holds' figures for `make bench-report` (and alone: `python -m bench.holds`).

On one stack with holds on (pattern 1, no injected faults, the guard's epoch seeded by guard init):

1. write units per hold lifecycle, by table role, as the local account meters them (an item write under 1
   KB is 1 unit, 2 inside a transaction, as DynamoDB bills them; the holds index's writes are not metered):
   a hold captured whole, a hold to a payee captured whole, a hold captured in part and the rest voided, a
   hold voided, and a hold expired and released by the sweeper's code; against a guarded debit in the same
   run;
2. authorisations (holds of 0.01) through the signed API from 8 clients, on one hot account and spread
   over 100 accounts: committed a second, the share of retryable answers (429), p50/p99 latency, and the
   ratio to guarded debits measured the same way in the same run. These are the local account's figures,
   not AWS's.

The stack allows 10,000 open holds per balance (the most), so that the hot account's holds are refused
for no cap. Every hold is released before the function returns: a stack may not drop holds while one is
open.

``--quick`` (and bench-report's) measures the same on a few lifecycles and holds over a few accounts.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import boto3

from bench.alone import Say, add_record_option, check_record, measure_alone, record_apart
from bench.guard import CLIENTS, RETRIES, DebitLoad, brief, debit_load, timed_load
from harness.client import LedgerClient, Response, until_not_throttled
from harness.stack import UNGUARDED, Stack
from ledger_aggregator.adapters.holds import HoldTables, open_items, sweep
from ledger_aggregator.items import HOLD_INDEX
from ledger_ops.stage import guard_init
from local_account import fault_plan, meter
from local_account.account import LocalAccount

ROLES = ("details", "holds", "balances")  # the tables the write path writes
LOAD_EXPIRY_SECONDS = 300  # the load's holds outlive the load, and are released after it


@dataclass(frozen=True)
class HoldSizes:
    """How much the holds' figures take: the report's, or ``--quick``'s (the same code on less)."""

    lifecycles: int = 100  # of each kind
    accounts: int = 100
    requests: int = 1000  # per load


QUICK_HOLDS = HoldSizes(lifecycles=4, accounts=6, requests=24)


@dataclass
class LifecycleCost:
    """Write units of one kind of lifecycle, by table role."""

    kind: str
    requests: int  # writes in one lifecycle: its API requests, and an expiry's release
    lifecycles: int = 0
    retried: int = 0  # 429s retried to finish them
    units: dict[str, int] = field(default_factory=dict)

    def per_lifecycle(self) -> dict[str, float]:
        """Write units per lifecycle, by table role."""
        return {r: u / self.lifecycles for r, u in sorted(self.units.items())} if self.lifecycles else {}


@dataclass
class HoldFigures:
    """Everything bench.holds measured in one run."""

    costs: list[LifecycleCost] = field(default_factory=list)
    loads: list[DebitLoad] = field(default_factory=list)  # guarded debits and holds, one hot then spread
    measured_by: str = "make bench-report"  # with the rest of the report, or apart (main's --record)

    def ratio(self, accounts: str) -> float | None:
        """Holds committed a second over guarded debits committed a second, on the same accounts."""
        rates = {
            load.name.split(", ")[0]: load.committed_per_second() for load in self.loads if load.name.endswith(accounts)
        }
        return rates["holds"] / rates["debits"] if rates.get("debits") and "holds" in rates else None


# One request of a lifecycle: (client, payer, payee, the lifecycle's id) -> its answer.
Step = Callable[[LedgerClient, str, str, str], Response]


def _hold(
    client: LedgerClient, payer: str, payee: str, hold_id: str, *, expires: int = 600, to_payee: bool = False
) -> Response:
    body: dict[str, Any] = {"holdId": hold_id, "amount": "10.00", "currency": "EUR", "expiresInSeconds": expires}
    return client.post_hold(payer, body | ({"toAccountId": payee} if to_payee else {}))


def _capture(
    client: LedgerClient,
    payer: str,
    payee: str,
    hold_id: str,
    *,
    amount: str = "10.00",
    final: bool = True,
    to_payee: bool = False,
) -> Response:
    body: dict[str, Any] = {"captureId": f"c-{hold_id}", "amount": amount, "currency": "EUR", "final": final}
    return client.capture(payer, hold_id, body | ({"toAccountId": payee} if to_payee else {}))


def _void(client: LedgerClient, payer: str, payee: str, hold_id: str, *, remaining: str = "10.00") -> Response:
    return client.void(payer, hold_id, {"currency": "EUR", "remaining": remaining})


def _debit(client: LedgerClient, payer: str, payee: str, hold_id: str) -> Response:
    return client.post_transaction(
        payer, {"transactionId": hold_id, "type": "debit", "amount": "10.00", "currency": "EUR"}
    )


LIFECYCLES: dict[str, list[Step]] = {
    "a guarded debit (no hold)": [_debit],
    "hold, capture whole": [_hold, _capture],
    "hold to a payee, capture whole": [partial(_hold, to_payee=True), partial(_capture, to_payee=True)],
    "hold, capture part, void the rest": [
        _hold,
        partial(_capture, amount="4.00", final=False),
        partial(_void, remaining="6.00"),
    ],
    "hold, void": [_hold, _void],
    "hold, expire (the sweeper's release)": [partial(_hold, expires=1)],
}


def lifecycle_cost(
    account: LocalAccount, client: LedgerClient, tables: HoldTables, *, epoch: str, kind: str, count: int
) -> LifecycleCost:
    """Run ``count`` lifecycles of ``kind``, each on an account of its own (funded first, unmetered), and
    meter the write path's units; an expiry's release is the sweeper's code, run once the clock has passed."""
    steps = LIFECYCLES[kind]
    cost = LifecycleCost(kind, len(steps) + (1 if kind.startswith("hold, expire") else 0))
    tag = uuid.uuid4().hex[:6]
    pairs = [(f"h{tag}-{i:03d}", f"h{tag}-{i:03d}-payee") for i in range(count)]
    for payer, _ in pairs:
        _must(
            client.post_transaction(payer, {"type": "credit", "amount": "100.00", "currency": "EUR"}), f"{kind}: fund"
        )
    lock = threading.Lock()

    def one(index: int) -> None:
        payer, payee = pairs[index]
        for step in steps:
            answer, retried = until_not_throttled(partial(step, client, payer, payee, f"l{index}"), RETRIES)
            _must(answer, kind)
            with lock:
                cost.retried += retried

    meter.METER.reset()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one, range(count)))
    if kind.startswith("hold, expire"):
        account.clock.advance(2)
        sweep(boto3.client("dynamodb"), tables, int(account.clock.now() * 1000), epoch=epoch, request_id="bench")
        left = [i for i in open_items(boto3.client("dynamodb"), tables) if i["accountId"]["S"].startswith(f"h{tag}")]
        if left:
            raise RuntimeError(f"{kind}: {len(left)} expired holds not released")
    cost.lifecycles = count
    cost.units = {r: u for r, u in meter.METER.write_units.items() if r in ROLES}
    return cost


def _must(answer: Response, what: str) -> None:
    if answer.status not in (200, 201):
        raise RuntimeError(f"{what}: {answer.status} {answer.text}")


def hold_load(client: LedgerClient, name: str, names: list[str], count: int) -> DebitLoad:
    """``count`` holds of 0.01 from ``CLIENTS`` threads over ``names`` (funded), not retried."""
    tag = uuid.uuid4().hex[:6]

    def hold(index: int, account: str) -> Response:
        body = {
            "holdId": f"a{tag}{index}",
            "amount": "0.01",
            "currency": "EUR",
            "expiresInSeconds": LOAD_EXPIRY_SECONDS,
        }
        return client.post_hold(account, body)

    return timed_load(name, names, count, hold)


def measure_holds(account: LocalAccount, stack: Stack, say: Say, sizes: HoldSizes = HoldSizes()) -> HoldFigures:
    """Apply the stack with holds on, seed the guard's epoch, and measure (no faults); release every hold."""
    fault_plan.ACTIVE = fault_plan.Faults()
    stack.variables["guard"] = {"holds": {"max_open_per_balance": 10000}}
    stack.variables["buffer"] = {**UNGUARDED, "retired": True}
    say("holds on: terraform apply (pattern 1)")
    outputs = stack.apply(1)
    guard_init(boto3.client("dynamodb"), boto3.client("apigateway"), outputs, settle=1)
    client = LedgerClient(account.api_base(outputs), account.region)
    tables = HoldTables(
        outputs["details_table"]["name"], outputs["holds_table"]["name"], HOLD_INDEX, outputs["balances_table"]["name"]
    )
    figures = HoldFigures()
    for kind in LIFECYCLES:
        epoch = outputs["guard"]["epoch"]
        figures.costs.append(lifecycle_cost(account, client, tables, epoch=epoch, kind=kind, count=sizes.lifecycles))
        say(_cost_line(figures.costs[-1]))
    names = [f"a{uuid.uuid4().hex[:6]}-{i:03d}" for i in range(sizes.accounts)]
    for name in names:
        _must(client.post_transaction(name, {"type": "credit", "amount": "1000000.00", "currency": "EUR"}), "fund")
    for layout, accounts in (("one hot account", names[:1]), (f"{sizes.accounts} accounts", names)):
        figures.loads.append(debit_load(client, f"debits, {layout}", accounts, sizes.requests))
        say(_load_line(figures.loads[-1]))
        figures.loads.append(hold_load(client, f"holds, {layout}", accounts, sizes.requests))
        say(_load_line(figures.loads[-1]))
    say("releasing the load's holds: the clock past their expiry, then the sweeper's code")
    account.clock.advance(LOAD_EXPIRY_SECONDS + 1)
    swept = sweep(
        boto3.client("dynamodb"),
        tables,
        int(account.clock.now() * 1000),
        epoch=outputs["guard"]["epoch"],
        request_id="bench",
    )
    say(f"sweep: {swept.describe()}")
    return figures


def _cost_line(cost: LifecycleCost) -> str:
    units = ", ".join(f"{r} {u:,.1f}" for r, u in cost.per_lifecycle().items())
    return f"{cost.kind}: write units per lifecycle: {units} (429s retried: {cost.retried})"


def _load_line(load: DebitLoad) -> str:
    return (
        f"{load.name}: {load.committed_per_second():.0f} committed/s, 429 share {load.retryable_share():.1%}, "
        f"p50 {load.quantile(0.5):.1f} ms, p99 {load.quantile(0.99):.1f} ms, answers {load.statuses}"
    )


def from_json(saved: dict[str, Any]) -> HoldFigures:
    """The figures as bench-report saved them in benchmark.json."""
    return HoldFigures(
        costs=[LifecycleCost(**c) for c in saved.get("costs", [])],
        loads=[DebitLoad(**d) for d in saved.get("loads", [])],
        measured_by=saved.get("measured_by", "make bench-report"),
    )


def main(argv: list[str] | None = None) -> int:
    """Measure holds alone, on a fresh local account, and print the figures as JSON."""
    parser = argparse.ArgumentParser(description="holds' write units per lifecycle and authorisations a second")
    parser.add_argument("--quick", action="store_true", help="a few lifecycles and holds over a few accounts")
    add_record_option(parser)
    args = parser.parse_args(argv)
    check_record(parser, args.record)
    figures = measure_alone("holds", partial(measure_holds, sizes=QUICK_HOLDS if args.quick else HoldSizes()))
    print(json.dumps(asdict(figures) | {"loads": [brief(d) for d in figures.loads]}, indent=1))
    if args.record:
        record_apart(args.record, "holds", figures, " ".join(["python -m bench.holds", *(argv or sys.argv[1:])]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
