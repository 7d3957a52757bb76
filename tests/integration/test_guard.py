"""The balance guard through the signed API: under the local account's conflict and throttle faults, and
switched off and on again while writes keep coming (the guard's part of the lifecycle suite; the events' is
test_events_lifecycle.py, Cognito grants' test_access.py, the patterns' test_switch.py).

The stack is applied with `guard = {}` and `ledger-ops guard init` seeds the guard's epoch; 60 debits and
transfers from 8 threads go against three payers whose funds (and one overdraft limit, set through
`PUT .../limits`) cover only some of them, and each 429 is retried.

- Every answer is 201 or 422 `insufficient_funds`; every 201 has its rows and every 422 wrote none.
- No balance item is below its floor.
- Once quiet, the balance items, the fold of the rows and the summaries agree.

Then four accounts are written to by one client thread each, for the rest of the module: credits, debits and
transfers that the writer's own books cover (so that a debit written while the guard is off never takes an
account below its floor), and, while the guard is on and seeded, debits far past the funds, which it must
refuse. The guard is switched off (its balances table protected from deletion, the default), on, and seeded
by guard init, while they write; after each step, with the writers paused and the pipelines quiet:

- every balance item of the stage's epoch equals the fold of its account's rows (all of them once seeded,
  those of the epoch before), and the overdraft limit set before the switch is kept;
- no account's rows fold below its floor (0, lowered by its limit): no debit passed the guard;
- every summary is exact, and a consumer of the balance events (docs/events.md) is equal to them.

`make test` runs the off -> on -> guard init cycle once in each pattern; `make lifecycle`
(CQRS_LIFECYCLE=full) three times. The guard is switched off again at the end (its table kept).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from harness.client import LedgerClient, Response, until_not_throttled
from harness.probes import eventually
from ledger_aggregator.domain import fold
from ledger_ops.guard import balance_differences, balance_item
from ledger_ops.reconcile import account_items, reconcile, reconcile_global
from tests.integration.conftest import TARGET, Deployment, guard_init, injected, settled_in_table
from tests.integration.test_events import Consumer, subscribed, until_caught_up

pytestmark = pytest.mark.second_stack  # its pattern-2 runs go on the second stack (docs/testing.md)

FAULTS = "conflict=0.15,conflicts=2,throttle=40wcu,throttles=2,seed=5"
FUNDS, LIMIT = Decimal("100.00"), Decimal("30.00")  # each payer's credit; the overdraft limit of the first payer
# What the load may be answered across a switch: written, refused past the floor, throttled, or (guard on, not
# yet seeded in its epoch) unavailable; never a 500.
EXPECTED = {201, 422, 429, 503}
RETRIES = 8  # a client retries a 429 (a conflict on a hot account, or throttling) this many times
FULL = os.environ.get("CQRS_LIFECYCLE") == "full"  # make lifecycle: the off -> on cycle three times


@pytest.fixture(scope="module")
def guarded(deployed: Deployment) -> Iterator[Deployment]:
    """The stack with the balance guard on, its epoch seeded by guard init, and off again afterwards (the
    balances table stays)."""
    stack = deployed.env.stack
    saved = dict(stack.variables)
    stack.variables["guard"] = {}
    try:
        guarded = dataclasses.replace(deployed, outputs=stack.apply(deployed.pattern))
        guard_init(guarded)
        yield guarded
    finally:
        stack.variables = saved
        stack.apply(deployed.pattern)


def with_retries(send: Any) -> Response:
    """Send until the answer is not a 429, as a client honouring Retry-After does; every 429 says when."""

    def checked() -> Response:
        answer: Response = send()
        if answer.status == 429:
            assert answer.headers.get("Retry-After") == "1", answer.headers
        return answer

    return until_not_throttled(checked, RETRIES - 1)[0]


def faults_on() -> contextlib.AbstractContextManager[Any]:
    return injected(FAULTS) if TARGET == "local" else contextlib.nullcontext()


def test_concurrent_debits_and_transfers_never_take_a_balance_below_its_floor(guarded: Deployment) -> None:
    payers = [guarded.account(f"guard-payer{i}") for i in range(3)]
    payees = [guarded.account(f"guard-payee{i}") for i in range(2)]
    dynamodb = guarded.env.client("dynamodb")
    balances = guarded.outputs["balances_table"]["name"]
    for payer in payers:
        credit = {"transactionId": "funds", "type": "credit", "amount": str(FUNDS), "currency": "EUR"}
        assert guarded.api.post_transaction(payer, credit).status == 201
    # The first payer's overdraft limit, as an operator sets it (its role holds the limits grant).
    limit = guarded.api.put_limits(payers[0], {"currency": "EUR", "overdraftLimit": str(LIMIT)})
    assert (limit.status, limit.body) == (200, {"accountId": payers[0], "currency": "EUR", "overdraftLimit": "30.00"})
    rng = random.Random(21)
    requests = []
    for i in range(60):  # 60 x about 17.50 from three payers holding 100 each: about a third can pass
        payer = rng.choice(payers)
        if rng.random() < 0.5:
            requests.append(
                (
                    "transaction",
                    payer,
                    {"transactionId": f"d{i}", "type": "debit", "amount": "15.00", "currency": "EUR"},
                )
            )
        else:
            body = {"transferId": f"x{i}", "toAccountId": rng.choice(payees), "amount": "20.00", "currency": "EUR"}
            requests.append(("transfer", payer, body))

    def send(request: tuple[str, str, dict[str, Any]]) -> Response:
        kind, payer, body = request
        client = LedgerClient(guarded.api.base_url, guarded.env.region)
        post = client.post_transfer if kind == "transfer" else client.post_transaction
        return with_retries(lambda: post(payer, body))

    with faults_on(), ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, requests))

    statuses = [a.status for a in answers]
    assert set(statuses) <= {201, 422}, statuses
    assert statuses.count(201) and statuses.count(422), "the funds covered some of the debits, not all"
    for (kind, payer, body), answer in zip(requests, answers, strict=True):
        ids = {r["transactionId"]["S"] for r in guarded.rows(payer)}
        written = body.get("transactionId", body.get("transferId")) in ids
        assert written == (answer.status == 201), f"{kind} {body}: {answer.status} {answer.body}"
        if answer.status == 422:
            assert (answer.body["error"], answer.body["field"]) == ("insufficient_funds", "amount")
    floors = {payers[0]: -LIMIT}
    for account in payers + payees:
        for item in map(balance_item, account_items(dynamodb, balances, account)):
            assert item.available >= floors.get(account, Decimal(0)), f"{account} is below its floor"
            assert item.seeded
    for account in payers + payees:
        rows, items = guarded.rows(account), account_items(dynamodb, balances, account)
        assert balance_differences(rows, items, guarded.outputs["guard"]["epoch"]) == [], account
    eventually(lambda: settled_in_table(guarded, payers + payees), timeout=180)
    details, summary = guarded.outputs["details_table"]["name"], guarded.outputs["summary_table"]["name"]
    for account in payers + payees:
        assert reconcile(dynamodb, details, summary, account) == [], account
        net = sum((b.available for b in map(balance_item, account_items(dynamodb, balances, account))), Decimal(0))
        assert net == guarded.stored(account)["EUR"].balance, "the balance item and the summary agree"
    # reconcile --global still holds with the guard: every transfer nets to zero across the ledger.
    eventually(lambda: not reconcile_global(dynamodb, details, summary), timeout=180)


# --- switched off and on again while writes keep coming -----------------------------------------


@dataclass
class Writer:
    """One client thread per account, writing until stopped; its own books say what each account holds."""

    deployed: Deployment
    accounts: list[str]
    funds: dict[str, Decimal] = field(default_factory=dict)
    answers: list[tuple[str, int]] = field(default_factory=list)  # (kind, status), every answer
    unexpected: list[tuple[str, int, Any]] = field(default_factory=list)  # (kind, status, body) of any other
    guard_serving: bool = False  # the guard is on and initialised: far-past-the-funds debits may be sent
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _writing: bool = False
    _in_flight: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.resume()
        self._threads = [threading.Thread(target=self._write, args=(a, n)) for n, a in enumerate(self.accounts)]
        for thread in self._threads:
            thread.start()

    def pause(self) -> None:
        """Stop writing; every request sent has its answer when this returns."""
        with self._lock:
            self._writing = False
            if not self._lock.wait_for(lambda: self._in_flight == 0, timeout=120):
                raise AssertionError("a write did not end within 120 s")

    def resume(self) -> None:
        with self._lock:
            self._writing = True
            self._lock.notify_all()

    def serving(self, on: bool) -> None:
        """Whether the guard is on and initialised, so that debits past the funds may be sent."""
        with self._lock:
            self.guard_serving = on

    def stop(self) -> None:
        self._stop.set()
        self.resume()
        for thread in self._threads:
            thread.join(timeout=120)

    def _write(self, account: str, seed: int) -> None:
        client, rng = LedgerClient(self.deployed.api.base_url, self.deployed.env.region), random.Random(seed)
        others = [a for a in self.accounts if a != account]
        n = 0
        while not self._stop.is_set():
            with self._lock:
                if not self._lock.wait_for(lambda: self._writing, timeout=0.5):
                    continue
                self._in_flight += 1
            try:
                n += 1
                self._one(client, rng, account, rng.choice(others), f"{seed}-{n}")
            finally:
                with self._lock:
                    self._in_flight -= 1
                    self._lock.notify_all()

    def _one(self, client: LedgerClient, rng: random.Random, account: str, payee: str, txid: str) -> None:
        kind = rng.choice(["credit", "debit", "transfer", "hostile"])
        with self._lock:
            held, hostile = self.funds[account], self.guard_serving
        if kind == "credit":
            amount = Decimal(rng.randint(1, 9))
        elif kind == "hostile" and hostile:  # far past the funds and any limit: the guard must refuse it
            amount = held + LIMIT + 1000
        else:  # covered by what the account holds, by this writer's own books
            kind = "debit" if kind == "hostile" else kind
            amount = min(Decimal(rng.randint(1, 9)), held)
            if amount <= 0:
                return
        write = Write(kind, account, payee, txid, amount)
        answer = write.send(client)
        with self._lock:
            self.answers.append((kind, answer.status))
            if answer.status not in EXPECTED:
                self.unexpected.append((kind, answer.status, answer.body))
            if answer.status == 201:
                self.funds[account] += amount if kind == "credit" else -amount
                if kind == "transfer":
                    self.funds[payee] += amount


@dataclass(frozen=True)
class Write:
    """One money write of the load."""

    kind: str  # credit, debit, transfer, or hostile: a debit past the funds
    account: str
    payee: str
    txid: str
    amount: Decimal

    def send(self, client: LedgerClient) -> Response:
        """Send it, retrying a 429 as a client honouring Retry-After does."""
        value = f"{self.amount:.2f}"
        if self.kind == "transfer":
            body = {"transferId": self.txid, "toAccountId": self.payee, "amount": value, "currency": "EUR"}
            return with_retries(lambda: client.post_transfer(self.account, body))
        kind = "debit" if self.kind == "hostile" else self.kind
        body = {"transactionId": self.txid, "type": kind, "amount": value, "currency": "EUR"}
        return with_retries(lambda: client.post_transaction(self.account, body))


@pytest.fixture
def writing(guarded: Deployment) -> Iterator[tuple[Writer, Consumer]]:
    """Four funded accounts, their writer running, a consumer of their balance events (the guard on and
    seeded, as the module's fixture leaves it, which switches it off again at the end)."""
    accounts = [guarded.account(f"lc{i}") for i in range(4)]
    # Subscribed before the first write: an event published before the rule exists never reaches the queue,
    # and the consumer would wait for that revision for ever.
    with subscribed(guarded, guarded.outputs["events"]["bus"]["name"], accounts) as consumer:
        for account in accounts:
            body = {"transactionId": "funds", "type": "credit", "amount": f"{FUNDS:.2f}", "currency": "EUR"}
            assert guarded.api.post_transaction(account, body).status == 201
        writer = Writer(guarded, accounts, dict.fromkeys(accounts, FUNDS))
        writer.serving(True)
        writer.start()
        try:
            yield writer, consumer
        finally:
            writer.stop()


def apply(deployed: Deployment, guard: dict[str, Any] | None, protected: bool = True) -> None:
    """Apply the stack with the guard so, while the writers write, the balances table protected from deletion
    (the default: switching the guard off must not try to delete it)."""
    stack = deployed.env.stack
    stack.variables["guard"] = guard
    stack.variables["tables"] = {**stack.variables["tables"], "balances_deletion_protection": protected}
    before = {name: deployed.outputs[f"{name}_table"]["arn"] for name in ("details", "summary", "balances")}
    deployed.outputs = stack.apply(deployed.pattern)
    after = {name: deployed.outputs[f"{name}_table"]["arn"] for name in before}
    assert after == before, "switching the guard replaces no table"


def check(writer: Writer, consumer: Consumer, step: str, seeded: bool = True) -> None:
    """The invariants, with the writers paused: then they write again. Before guard init (``seeded`` false)
    the accounts' items are still of the earlier epoch: left as they were, counting nothing new."""
    writer.pause()
    deployed, accounts = writer.deployed, writer.accounts
    try:
        for account in accounts:
            net = sum(s.totals.balance for s in fold(deployed.rows(account)).values())
            floor = -LIMIT if account == accounts[0] else Decimal(0)
            assert net >= floor, f"{step}: {account}'s rows fold to {net}, below its floor"
            assert net == writer.funds[account], f"{step}: {account}'s rows are what its writer was answered 201"
        guard = deployed.outputs.get("guard")
        if guard:
            dynamodb, balances = deployed.env.client("dynamodb"), deployed.outputs["balances_table"]["name"]
            for account in accounts:
                rows, items = deployed.rows(account), account_items(dynamodb, balances, account)
                found = [p for d in balance_differences(rows, items, guard["epoch"]) for p in d.problems]
                stale = [p for p in found if "of an earlier epoch" in p]
                assert found == ([] if seeded else stale), f"{step}: {account}: {found}"
        eventually(lambda: settled_in_table(deployed, accounts), timeout=180)
        until_caught_up(consumer, accounts, timeout=180, step=step)
    finally:
        writer.resume()


def limit_kept(deployed: Deployment, account: str) -> bool:
    """The account's balance item holds the limit set before the guard was last switched off."""
    dynamodb, balances = deployed.env.client("dynamodb"), deployed.outputs["balances_table"]["name"]
    (item,) = map(balance_item, account_items(dynamodb, balances, account))
    return item.overdraft_limit == LIMIT and item.epoch == deployed.outputs["guard"]["epoch"]


def switch_on(writer: Writer, consumer: Consumer, step: str) -> None:
    """Guard on (a new epoch), checked before and after guard init; then debits past the funds are sent."""
    deployed = writer.deployed
    apply(deployed, {})
    check(writer, consumer, f"{step}: on, not initialised", seeded=False)
    guard_init(deployed)
    writer.serving(True)
    check(writer, consumer, f"{step}: initialised")


def switch_off(writer: Writer, consumer: Consumer, step: str) -> None:
    writer.serving(False)
    apply(writer.deployed, None)  # the balances table protected from deletion: nothing is deleted
    check(writer, consumer, f"{step}: off")


def test_the_guard_switched_off_and_on_again_keeps_every_invariant(writing: tuple[Writer, Consumer]) -> None:
    writer, consumer = writing
    first = writer.accounts[0]
    # The writer's debits hold the item in transactions: the PUT may meet one (429, TransactionConflict).
    body = {"currency": "EUR", "overdraftLimit": f"{LIMIT:.2f}"}
    limit = with_retries(lambda: writer.deployed.api.put_limits(first, body))
    assert limit.status == 200, limit.body
    check(writer, consumer, "on, seeded, a limit set")
    for cycle in range(3 if FULL else 1):
        switch_off(writer, consumer, f"cycle {cycle}")
        switch_on(writer, consumer, f"cycle {cycle}")
        assert limit_kept(writer.deployed, first), f"cycle {cycle}: the overdraft limit outlives the switch"
    statuses = {(kind, status) for kind, status in writer.answers}
    assert ("hostile", 422) in statuses, "debits past the funds were sent while the guard was on, and refused"
    assert ("hostile", 201) not in statuses, "no debit past the funds was written"
    assert {s for _, s in statuses} <= EXPECTED, writer.unexpected[:5]
