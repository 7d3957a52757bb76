"""The balance guard through the signed API, with the emulator's conflict and throttle faults on.

The stack is applied with `guard = {}` and `ledger-ops guard init` seeds the guard's epoch; 60 debits and
transfers from 8 threads go against three payers whose funds (and one overdraft limit, set through
`PUT .../limits`) cover only some of them, and each 429 is retried.

- Every answer is 201 or 422 `insufficient_funds`; every 201 has its rows and every 422 wrote none.
- No balance item is below its floor.
- Once quiet, the balance items, the fold of the rows and the summaries agree.
- The guard is then switched off again (its table kept).
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from ledger_ops.guard import balance_differences, balance_item
from ledger_ops.reconcile import account_items, reconcile, reconcile_global
from sandbox.client import LedgerClient, Response
from tests.integration.conftest import TARGET, Deployment, eventually, guard_init, injected, settled_in_table

FAULTS = "conflict=0.15,conflicts=2,throttle=40wcu,throttles=2,seed=5"
FUNDS, LIMIT = Decimal("100.00"), Decimal("30.00")  # each payer's credit; the overdraft limit of the first payer
RETRIES = 8  # a client retries a 429 (a conflict on a hot account, or throttling) this many times


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
    """Send until the answer is not a 429, as a client honouring Retry-After does (without the wait: the
    emulator's conflicts are drawn per request, not held for a time)."""
    for _ in range(RETRIES):
        answer: Response = send()
        if answer.status != 429:
            return answer
        assert answer.headers.get("Retry-After") == "1", answer.headers
    return answer


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
