"""The balance guard's figures for `make bench-report` (and alone: `python -m bench.guard`).

On one stack, guard off and then on (initialised), with no injected faults:

1. the write path's cost: write units per 1,000 committed transactions (credits) and per 1,000 committed
   transfers, per table role, as the local account meters them (an item write under 1 KB is 1 unit, 2
   inside a transaction, as DynamoDB bills them);
2. guarded debits through the signed API from 8 clients, on one hot account and spread over 100 accounts:
   committed debits a second, the share of retryable answers (429: a transaction conflict on a balance
   item), and p50/p99 latency of every answer. A 429 is not retried here, so that the share is the
   local account's conflict rate. These are the local account's figures, not AWS's.

``--quick`` (and bench-report's) measures the same on a few writes and debits over a few accounts.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import boto3

from bench.alone import measure_alone
from harness.client import LedgerClient, Response, until_not_throttled
from harness.load import percentile
from harness.stack import UNGUARDED, Stack
from ledger_ops.stage import guard_init
from local_account import fault_plan, meter
from local_account.account import LocalAccount

CLIENTS = 8
RETRIES = 20  # the write-path runs retry a 429 (a conflict) this many times: every write must commit


@dataclass(frozen=True)
class GuardSizes:
    """How much the guard's figures take: the report's, or ``--quick``'s (the same code on less)."""

    writes: int = 1000  # transactions, then transfers, per guard setting
    accounts: int = 100
    debits: int = 1000  # guarded debit attempts per load


QUICK_GUARD = GuardSizes(writes=24, accounts=6, debits=24)


@dataclass
class WriteCost:
    """Write units of one kind of write, guard off or on."""

    guard: bool
    kind: str  # "transactions" or "transfers"
    committed: int = 0
    retried: int = 0  # 429s retried to commit them
    units: dict[str, int] = field(default_factory=dict)  # by table role

    def per_thousand(self) -> dict[str, float]:
        """Write units per 1,000 committed writes, by table role."""
        return {r: 1000 * u / self.committed for r, u in sorted(self.units.items())} if self.committed else {}


@dataclass
class DebitLoad:
    """Guarded debits from concurrent clients, without retries."""

    name: str
    accounts: int
    attempts: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def committed_per_second(self) -> float:
        """Debits answered 201 a second, over the whole load."""
        return self.statuses.get("201", 0) / self.seconds if self.seconds else 0.0

    def retryable_share(self) -> float:
        """The share of answers that were 429 (retry after Retry-After)."""
        return self.statuses.get("429", 0) / self.attempts if self.attempts else 0.0

    def quantile(self, share: float) -> float:
        """A latency percentile (ms) of every answer."""
        return percentile(self.latencies_ms, share) if self.latencies_ms else 0.0


@dataclass
class GuardFigures:
    """Everything bench.guard measured in one run."""

    costs: list[WriteCost] = field(default_factory=list)
    loads: list[DebitLoad] = field(default_factory=list)


def write_cost(client: LedgerClient, guard: bool, kind: str, names: list[str], writes: int) -> WriteCost:
    """POST ``writes`` credits (or transfers of 0.01 between ``names``) and meter their write units."""
    cost = WriteCost(guard, kind)
    lock = threading.Lock()
    rng = random.Random(f"{guard}-{kind}")
    pairs = [(names[i % len(names)], rng.choice(names)) for i in range(writes)]

    def one(index: int) -> None:
        payer, payee = pairs[index]
        if kind == "transfers":
            payee = payee if payee != payer else names[(names.index(payer) + 1) % len(names)]
            body = {"transferId": f"x{index}", "toAccountId": payee, "amount": "0.01", "currency": "EUR"}
            answer, retried = until_not_throttled(lambda: client.post_transfer(payer, body), RETRIES)
        else:
            body = {"transactionId": f"t{index}", "type": "credit", "amount": "1.00", "currency": "EUR"}
            answer, retried = until_not_throttled(lambda: client.post_transaction(payer, body), RETRIES)
        if answer.status != 201:
            raise RuntimeError(f"{kind} {index}: {answer.status} {answer.text}")
        with lock:
            cost.committed += 1
            cost.retried += retried

    meter.METER.reset()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one, range(writes)))
    cost.units = {r: u for r, u in meter.METER.write_units.items() if r in ("details", "balances")}
    return cost


def debit_load(client: LedgerClient, name: str, names: list[str], debits: int) -> DebitLoad:
    """``debits`` guarded debits of 0.01 from ``CLIENTS`` threads over ``names`` (funded), not retried."""
    tag = uuid.uuid4().hex[:6]

    def debit(index: int, account: str) -> Response:
        body = {"transactionId": f"d{tag}{index}", "type": "debit", "amount": "0.01", "currency": "EUR"}
        return client.post_transaction(account, body)

    return timed_load(name, names, debits, debit)


def timed_load(name: str, names: list[str], count: int, send: Callable[[int, str], Response]) -> DebitLoad:
    """``count`` requests (``send(index, account)``) from ``CLIENTS`` threads over ``names``, each answer
    timed, none retried."""
    load = DebitLoad(name, len(names))
    lock = threading.Lock()
    statuses: Counter[str] = Counter()
    rng = random.Random(name)
    targets = [rng.choice(names) for _ in range(count)]

    def one(index: int) -> None:
        started = time.perf_counter()
        answer = send(index, targets[index])
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            statuses[str(answer.status)] += 1
            load.latencies_ms.append(round(elapsed, 2))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one, range(count)))
    load.seconds = time.perf_counter() - started
    load.attempts, load.statuses = count, dict(statuses)
    return load


def measure_guard(
    account: LocalAccount, stack: Stack, say: Callable[[str], None], sizes: GuardSizes = GuardSizes()
) -> GuardFigures:
    """Apply the stack guard off, then on, and measure both (no faults)."""
    fault_plan.ACTIVE = fault_plan.Faults()
    figures = GuardFigures()
    for guard in (False, True):
        stack.variables["guard"] = {} if guard else None
        stack.variables["buffer"] = {**UNGUARDED, "retired": True}
        say(f"guard {'on' if guard else 'off'}: terraform apply (pattern 1)")
        outputs = stack.apply(1)
        if guard:  # ledger-ops guard init: the epoch seeded (nothing to seed) and marked initialised
            guard_init(boto3.client("dynamodb"), boto3.client("apigateway"), outputs, settle=1)
        client = LedgerClient(account.api_base(outputs), account.region)
        names = [f"g{'on' if guard else 'off'}-{uuid.uuid4().hex[:6]}-{i:03d}" for i in range(sizes.accounts)]
        for kind in ("transactions", "transfers"):
            figures.costs.append(write_cost(client, guard, kind, names, sizes.writes))
            say(_cost_line(figures.costs[-1]))
        if guard:
            hot = names[:1]
            fund = {"transactionId": "hot-funds", "type": "credit", "amount": "1000000.00", "currency": "EUR"}
            if client.post_transaction(hot[0], fund).status != 201:
                raise RuntimeError("could not fund the hot account")
            for label, accounts in (("one hot account", hot), (f"{sizes.accounts} accounts", names)):
                figures.loads.append(debit_load(client, label, accounts, sizes.debits))
                say(_load_line(figures.loads[-1]))
    return figures


def _cost_line(cost: WriteCost) -> str:
    units = ", ".join(f"{r} {u:,.0f}" for r, u in cost.per_thousand().items())
    setting = "on" if cost.guard else "off"
    return f"guard {setting}, {cost.kind}: write units per 1,000: {units} (429s retried: {cost.retried})"


def _load_line(load: DebitLoad) -> str:
    return (
        f"guarded debits, {load.name}: {load.committed_per_second():.0f} committed/s, "
        f"429 share {load.retryable_share():.1%}, p50 {load.quantile(0.5):.1f} ms, p99 {load.quantile(0.99):.1f} ms, "
        f"answers {load.statuses}"
    )


def from_json(saved: dict[str, Any]) -> GuardFigures:
    """The figures as bench-report saved them in benchmark.json."""
    return GuardFigures(
        costs=[WriteCost(**c) for c in saved.get("costs", [])],
        loads=[DebitLoad(**d) for d in saved.get("loads", [])],
    )


def main(argv: list[str] | None = None) -> int:
    """Measure the guard alone, on a fresh local account, and print the figures as JSON."""
    parser = argparse.ArgumentParser(description="the balance guard's write units and guarded debits")
    parser.add_argument("--quick", action="store_true", help="a few writes and debits over a few accounts")
    sizes = QUICK_GUARD if parser.parse_args(argv).quick else GuardSizes()
    figures = measure_alone("guard", partial(measure_guard, sizes=sizes))
    print(json.dumps(asdict(figures) | {"loads": [brief(d) for d in figures.loads]}, indent=1))
    return 0


def brief(load: DebitLoad) -> dict[str, Any]:
    """A load's figures without its latencies, for a line of JSON."""
    return {k: v for k, v in asdict(load).items() if k != "latencies_ms"}


if __name__ == "__main__":
    raise SystemExit(main())
