"""Soak: 5,000 transactions over 50 accounts with every fault on, then reconciliation to the cent.

Local account only (docs/local-account.md, fault injection). It prints each pattern's drain against
the summary table's capacity floor and its refused conditional writes. With `CQRS_SOAK_GUARD=1`
(`make soak-guarded`) the stack runs with the balance guard on but not initialised; `ledger-ops guard
init` then seeds every balance item, and each must equal the fold of its rows. `CQRS_SOAK_TRANSACTIONS`
(`make soak SOAK_TRANSACTIONS=n`) soaks fewer, over fewer accounts, with the same faults.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.probes import eventually
from ledger_aggregator.adapters.guard import queue_depth
from ledger_ops.guard import balance_differences
from ledger_ops.reconcile import Imbalance, account_items, imbalances, reconcile, scan
from local_account import fault_plan, meter
from tests.integration.conftest import (
    TARGET,
    Deployment,
    buffer_visibility_timeout,
    dlq_messages,
    injected,
)
from tests.integration.test_ops import ops

pytestmark = [
    pytest.mark.skipif(TARGET != "local", reason="faults are injected by the local account only"),
    pytest.mark.soak,
    pytest.mark.second_stack,  # its pattern-2 run goes on the second stack
    pytest.mark.timeout(1800),
]
# Pattern 1 writes a batch's summaries in one burst, pattern 2 a few messages at a time: each pattern's
# summary capacity is set so that its writes are throttled (pattern 2 never exceeded 100 units a second).
# Pattern 2's was 30 units while every row was in one currency; three currencies make about 75% more
# summary items to write (3,446 commits, up from 1,974), so it is 40: its writers still wait on it.
SPEC = {
    1: "throttle=100wcu,throttles=3,latency=2ms,crash=0.05,crashes=2,dup=0.2,reorder=0.3,seed=11",
    2: "throttle=40wcu,throttles=3,latency=2ms,crash=0.05,crashes=2,dup=0.2,reorder=0.3,seed=11",
}
TRANSACTIONS = int(os.environ.get("CQRS_SOAK_TRANSACTIONS", "5000"))
ACCOUNTS, HOT = min(50, max(10, TRANSACTIONS // 100)), 5  # 50 for 5,000; at least the 8 with a poison row
CORRECTIONS, DELETIONS = TRANSACTIONS // 10, TRANSACTIONS * 3 // 50  # 500 and 300 for 5,000
TRANSFER_SHARE = 0.1  # of the operations; each transfer writes two rows, so about 20% of the rows are legs
CURRENCIES = ["EUR"] * 12 + ["USD"] * 5 + ["JPY"] * 3


@pytest.fixture
def soak_faults(deployed: Deployment) -> Iterator[fault_plan.Faults]:
    with injected(SPEC[deployed.pattern]) as active:
        yield active


def money(rng: random.Random, currency: str) -> str:
    """A random amount of ``currency`` with its minor unit's places."""
    return f"{rng.randint(1, 10**7)}{'' if currency == 'JPY' else f'.{rng.randint(0, 99):02d}'}"


def row(account: str, txid: str, rng: random.Random, currency: str | None = None) -> dict[str, Any]:
    currency = currency or rng.choice(CURRENCIES)
    return {
        "accountId": {"S": account},
        "transactionId": {"S": txid},
        "type": {"S": rng.choice(["credit", "debit"])},
        "amount": {"N": money(rng, currency)},
        "currency": {"S": currency},
        "recordedAt": {"N": str(1_767_225_600_000 + rng.randint(0, 10**6))},
    }


def legs(source: str, target: str, transfer_id: str, rng: random.Random) -> list[dict[str, Any]]:
    """The two rows of a transfer, as POST /accounts/{source}/transfers writes them."""
    debit = row(source, transfer_id, rng)
    debit.update(type={"S": "debit"}, transferId={"S": transfer_id}, counterpartyAccountId={"S": target})
    credit = {**debit, "accountId": {"S": target}, "type": {"S": "credit"}, "counterpartyAccountId": {"S": source}}
    return [debit, credit]


def load(deployed: Deployment, prefix: str) -> set[str]:
    """Write the ledger straight into the details table; return the poison rows' transaction ids."""
    rng = random.Random(deployed.pattern)
    dynamodb = deployed.env.client("dynamodb")
    table = deployed.outputs["details_table"]["name"]
    accounts = [f"{prefix}-{i:02d}" for i in range(ACCOUNTS)]
    keys = []  # standalone rows only: a correction or a deletion of one transfer leg would unbalance it
    pending: list[dict[str, Any]] = []
    for i in range(TRANSACTIONS):
        account = accounts[rng.randrange(HOT)] if rng.random() < 0.5 else rng.choice(accounts)
        if rng.random() < TRANSFER_SHARE:
            pending += legs(account, rng.choice([a for a in accounts if a != account]), f"x{i}", rng)
        else:
            pending.append(row(account, f"t{i}", rng))
            keys.append((account, f"t{i}"))
        while len(pending) >= 25 or (pending and i == TRANSACTIONS - 1):
            batch, pending = pending[:25], pending[25:]
            dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}} for item in batch]})
    for account, txid in rng.sample(keys, CORRECTIONS):  # corrections, some into another currency: MODIFY
        dynamodb.put_item(TableName=table, Item=row(account, txid, rng))
    removed = rng.sample(keys, DELETIONS)  # deletions: REMOVE
    for start in range(0, len(removed), 25):
        deletes = [
            {"DeleteRequest": {"Key": {"accountId": {"S": a}, "transactionId": {"S": t}}}}
            for a, t in removed[start : start + 25]
        ]
        dynamodb.batch_write_item(RequestItems={table: deletes})
    poison = set()
    for i in range(8):
        bad = row(accounts[i], f"poison-{i}", rng)
        bad["amount"] = {"S": "abc"} if i % 2 else {"N": "0"}
        dynamodb.put_item(TableName=table, Item=bad)
        poison.add(f"poison-{i}")
    return poison


def quiet(deployed: Deployment, stats: Any, window: float = 15) -> bool:
    """No invocation for ``window`` seconds and nothing in the buffer queue: visible, in flight or delayed."""
    before = stats.invocations
    time.sleep(window)  # measuring an idle interval, not waiting for an event
    url = deployed.outputs.get("buffer_queue_url")
    if url and queue_depth(deployed.env.client("sqs"), url):
        return False
    return bool(stats.invocations == before)


def capacity_floor(active: fault_plan.Faults, first_write: float) -> str:
    """How the drain compares with what the summary table's capacity allows (a figure, not a gate).

    The drain ends at the last summary write that took effect: the summaries, exact once quiet, have been
    what they are since. The floor is the write units of the summary writes that took effect, at the
    injected capacity: no writer can be exact sooner. Refused writes are those DynamoDB refused on their
    condition (charged).
    """
    counted = meter.METER
    units, writes, refused = (
        counted.committed_units["summary"],
        counted.committed_writes["summary"],
        counted.refused["summary"],
    )
    drain = counted.last_committed.get("summary", first_write) - first_write
    floor = units / active.throttle_wcu if active.throttle_wcu else 0.0
    ratio = f"{drain / floor:.2f}x" if floor else "-"
    return (
        f"drained {drain:.0f} s after the first write; capacity floor {floor:.0f} s ({writes} summary writes, "
        f"{units} units at {active.throttle_wcu:g} a second): {ratio}; refused conditional writes {refused} "
        f"({refused / max(writes, 1):.1%} of the committed)"
    )


def seed_and_check_the_balance_items(deployed: Deployment, prefix: str, tmp_path: Path) -> int:
    """With the guard on, ledger-ops guard init seeds a balance item per (account, currency) from the soak's
    rows (written behind the API, as rows written before the guard are), and each equals the fold; how many
    accounts were checked."""
    seeded = ops(deployed, tmp_path, "guard", "init", "--settle-seconds", "2")
    assert seeded.returncode == 0 and "seeded" in seeded.stdout, seeded.stdout + seeded.stderr
    dynamodb, balances = deployed.env.client("dynamodb"), deployed.outputs["balances_table"]["name"]
    accounts = [f"{prefix}-{i:02d}" for i in range(ACCOUNTS)]
    for account in accounts:
        items = account_items(dynamodb, balances, account)
        assert items and balance_differences(deployed.rows(account), items, deployed.outputs["guard"]["epoch"]) == [], (
            account
        )
    return len(accounts)


def test_every_amount_survives_every_fault(
    deployed: Deployment, soak_faults: fault_plan.Faults, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prefix = f"soak{deployed.pattern}"
    meter.METER.reset()
    first_write = time.monotonic()
    poison = load(deployed, prefix)
    last_write = time.monotonic()
    dynamodb = deployed.env.client("dynamodb")
    details, summary = deployed.outputs["details_table"]["name"], deployed.outputs["summary_table"]["name"]

    def exact() -> bool:
        return not [d for d in reconcile(dynamodb, details, summary) if d.key[0].startswith(prefix)]

    def conserved() -> list[Imbalance]:  # reconcile --global, over this test's accounts
        ours = [i for i in scan(dynamodb, details) if i["accountId"]["S"].startswith(prefix)]
        return imbalances(ours, [i for i in scan(dynamodb, summary) if i["accountId"]["S"].startswith(prefix)])

    # A full reconcile scans every row, so it runs only once the pipelines have gone quiet.
    stats = deployed.env.account.mappings.stats if deployed.env.account else None
    eventually(lambda: quiet(deployed, stats, window=5), timeout=1500, interval=1)
    eventually(exact, timeout=300, interval=5)
    assert conserved() == [], "transfers net to zero in every currency"
    with capsys.disabled():  # a figure for the reader (docs/testing.md's time table), not a gate
        drained = time.monotonic() - last_write
        print(f"\n    soak pattern {deployed.pattern}: exact {drained:.0f} s after the last write")
        print(f"    {capacity_floor(soak_faults, first_write)}")
    assert soak_faults.throttled > 0 and soak_faults.crashes > 0, "the faults must actually have fired"
    if stats and deployed.pattern == 2:
        redelivered = stats.redeliveries
        with capsys.disabled():
            print(
                f"    redelivered after a reported failure: {redelivered.after_report}, longest away "
                f"{redelivered.longest_after_report:.1f} s; after a crash: {redelivered.after_crash}, longest away "
                f"{redelivered.longest_after_crash:.1f} s"
            )
        visibility = buffer_visibility_timeout(deployed)
        assert redelivered.longest_after_report < visibility, "a failed message backs off, never the whole timeout"
        assert redelivered.longest_after_crash < visibility + 15, "a crashed writer's messages come back in a minute"
    if deployed.outputs.get("guard"):  # make soak-guarded: the guard seeds from the same rows
        checked = seed_and_check_the_balance_items(deployed, prefix, tmp_path)
        with capsys.disabled():
            print(f"    guard init seeded the balance items of {checked} accounts, each the fold of its rows")
    in_dlq = dlq_messages(deployed, deployed.outputs["stream_dlq_url"])
    keys = [m.get("record", {}).get("dynamodb", {}).get("Keys", {}) for m in in_dlq]
    parked = {k["transactionId"]["S"] for k in keys if k.get("accountId", {}).get("S", "").startswith(prefix)}
    assert parked == poison
    given_up = [m for m in in_dlq if "DDBStreamBatchInfo" in m]
    assert given_up == [], "no batch may be given up to the on-failure destination"
    assert dlq_messages(deployed, deployed.outputs.get("buffer_dlq_url")) == []  # null outputs are omitted
