"""Holds through the signed API (docs/holds.md), in both patterns: the stack is applied with holds on and
guard init seeds the new epoch; then a hold's life end to end, 8 clients racing holds, captures and voids
against debits and transfers on hot accounts with the conflict fault on while holds expire, and holds
switched off (refused while one is open, then let through) and the guard with them.

After the race, with the clients stopped and every expired hold released by the scheduled sweeper:
- no balance is below its floor, and every balance item equals the fold of its rows, holds included;
- every capture taken was made before its hold's expiry, and a capture sent after it was refused;
- held is what the open holds still reserve (nothing, once all are closed);
- the summaries and an events consumer end exact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from schemathesis import GenerationMode

from harness.client import LedgerClient, Response, until_not_throttled
from harness.probes import eventually
from harness.stack import TerraformError
from ledger_aggregator.adapters.holds import HoldTables, open_items
from ledger_aggregator.domain import hold_problems
from ledger_aggregator.items import HOLD_INDEX
from ledger_ops.guard import balance_differences
from ledger_ops.reconcile import account_items
from tests.integration.conftest import TARGET, Deployment, guard_init, injected, settled_in_table
from tests.integration.test_events import subscribed, until_caught_up
from tests.integration.test_fuzz import MODES, WITH_HOLDS, fuzz

pytestmark = pytest.mark.second_stack  # its pattern-2 runs go on the second stack (docs/testing.md)

CAP = 10  # open holds per balance (guard.holds.max_open_per_balance)
FUNDS, LIMIT = Decimal("100.00"), Decimal("30.00")  # a payer's credit; the first racing payer's overdraft limit
RACE_FUNDS = Decimal("500.00")  # each racing payer's credit
FAULTS = "conflict=0.15,conflicts=2,seed=11"
RETRIES = 8  # a client retries a 429 (a conflict on a hot account) this many times
THREADS, STEPS = 8, 40
# How long a hold of the race lives: some expire while the clients write, some are captured or voided first.
EXPIRIES = (1, 2, 30)
# What the race may be answered: made, captured or voided; refused (funds, the cap, expiry, a closed hold); a
# repetition; or a 429 after every retry. Never a 5xx, never a 503 (the epoch is seeded).
EXPECTED = {200, 201, 409, 422, 429}


def with_retries(send: Any) -> Response:
    """Send until the answer is not a 429, as a client honouring Retry-After does."""
    return until_not_throttled(send, RETRIES - 1)[0]


@pytest.fixture(scope="module")
def holding(deployed: Deployment) -> Iterator[Deployment]:
    """The stack with holds on (the guard with them), its epoch seeded by guard init; the guard off again
    afterwards, once every hold the tests left open is voided (the holds table stays)."""
    stack = deployed.env.stack
    saved = dict(stack.variables)
    stack.variables["guard"] = {"holds": {"max_open_per_balance": CAP}}
    on = dataclasses.replace(deployed, outputs=stack.apply(deployed.pattern))
    try:
        guard_init(on)
        yield on
    finally:
        void_every_open_hold(on)
        if stack.variables != saved:  # the last test leaves it as it was, with the guard off
            stack.variables = saved
            stack.apply(deployed.pattern)


def holds_tables(deployed: Deployment) -> HoldTables:
    outputs = deployed.outputs
    return HoldTables(
        outputs["details_table"]["name"],
        outputs["holds_table"]["name"],
        HOLD_INDEX,
        outputs["balances_table"]["name"],
    )


def open_holds(deployed: Deployment, accounts: list[str] | None = None) -> list[dict[str, Any]]:
    """The open holds the index lists (of these accounts, or every one)."""
    items = open_items(deployed.env.client("dynamodb"), holds_tables(deployed))
    return [i for i in items if accounts is None or i["accountId"]["S"] in accounts]


def void_every_open_hold(deployed: Deployment) -> None:
    """Void what every open hold still reserves, through the API, as its holder would."""
    for item in open_holds(deployed):
        void_item(deployed, item)


def void_item(deployed: Deployment, item: dict[str, Any]) -> Response:
    """Void the open hold an index item describes, restating what it still reserves (retried past a 429)."""
    body = {"currency": item["currency"]["S"], "remaining": amount(item["remaining"]["N"])}
    return with_retries(lambda: deployed.api.void(item["accountId"]["S"], item["holdId"]["S"], body))


def amount(value: str | Decimal) -> str:
    """An EUR amount as the API takes it: two decimal places."""
    return str(Decimal(value).quantize(Decimal("0.01")))


def credit(deployed: Deployment, account: str, value: Decimal) -> None:
    answer = deployed.api.post_transaction(account, {"type": "credit", "amount": amount(value), "currency": "EUR"})
    assert answer.status == 201, answer.text


def balance(deployed: Deployment, account: str) -> dict[str, Any]:
    answer = deployed.api.balances(account, "EUR")
    assert answer.status == 200, answer.text
    found: dict[str, Any] = answer.body["balances"][0]
    return found


def test_a_hold_reserves_at_once_and_a_capture_and_a_void_settle_it(holding: Deployment) -> None:
    payer, payee = holding.account("hold-payer"), holding.account("hold-payee")
    credit(holding, payer, FUNDS)
    made = holding.api.post_hold(
        payer, {"holdId": "h1", "amount": "60.00", "currency": "EUR", "expiresInSeconds": 600, "toAccountId": payee}
    )
    assert made.status == 201, made.text
    assert made.body["status"] == "open" and made.body["expiresAt"] > 0
    assert (balance(holding, payer)["held"], balance(holding, payer)["available"]) == ("60.00", "40.00")

    debit = holding.api.post_transaction(payer, {"type": "debit", "amount": "50.00", "currency": "EUR"})
    assert debit.status == 422 and debit.body["error"] == "insufficient_funds", "the hold reserved the funds"

    part = holding.api.capture(
        payer, "h1", {"captureId": "c1", "amount": "20.00", "currency": "EUR", "toAccountId": payee}
    )
    assert part.status == 201, part.text
    again = holding.api.capture(
        payer, "h1", {"captureId": "c1", "amount": "20.00", "currency": "EUR", "toAccountId": payee}
    )
    assert again.status == 409, "the same capture again writes nothing"
    hold = holding.api.hold(payer, "h1").body
    assert (hold["status"], hold["captured"], hold["remaining"]) == ("open", "20.00", "40.00")

    forged = holding.api.void(payer, "h1", {"currency": "EUR", "remaining": "10.00"})
    assert forged.status == 422 and forged.body["field"] == "remaining", forged.text
    voided = holding.api.void(payer, "h1", {"currency": "EUR", "remaining": "40.00"})
    assert voided.status == 200, voided.text
    late = holding.api.capture(
        payer, "h1", {"captureId": "c2", "amount": "1.00", "currency": "EUR", "toAccountId": payee}
    )
    assert late.status == 422 and late.body["error"] == "hold_closed", late.text

    assert (balance(holding, payer)["posted"], balance(holding, payer)["held"]) == ("80.00", "0.00")
    assert balance(holding, payee)["posted"] == "20.00"
    eventually(lambda: settled_in_table(holding, [payer, payee]), timeout=120)
    assert holding.stored(payer)["EUR"].balance == Decimal("80.00") and holding.stored(payer)["EUR"].held == 0
    assert holding.stored(payee)["EUR"].balance == Decimal("20.00")


def state(deployed: Deployment, accounts: list[str], holds: list[tuple[str, str]]) -> Any:
    """Everything a hold request may change: the accounts' rows, their balance items and the holds' items."""
    dynamodb = deployed.env.client("dynamodb")
    items = [
        dynamodb.get_item(
            TableName=deployed.outputs["holds_table"]["name"],
            Key={"accountId": {"S": account}, "holdId": {"S": hold}},
            ConsistentRead=True,
        ).get("Item")
        for account, hold in holds
    ]
    balances = [account_items(dynamodb, deployed.outputs["balances_table"]["name"], a) for a in accounts]
    return [deployed.rows(a) for a in accounts], balances, items


def test_a_hostile_client_is_refused_each_rule_by_name_and_nothing_is_written(holding: Deployment) -> None:
    """Every rule of a hold, capture and void, broken through the signed API: a 4xx naming the rule and the
    field, and no row, balance item or hold changed; then a flood of holds stops at the cap."""
    payer, payee, other = (holding.account(n) for n in ("hostile-payer", "hostile-payee", "hostile-other"))
    accounts = [payer, payee, other]
    credit(holding, payer, FUNDS)
    credit(holding, other, FUNDS)
    hold = {"holdId": "h", "amount": "30.00", "currency": "EUR", "expiresInSeconds": 600, "toAccountId": payee}
    assert holding.api.post_hold(payer, hold).status == 201
    assert holding.api.post_hold(other, {**hold, "holdId": "theirs"}).status == 201
    part = {"captureId": "c1", "amount": "10.00", "currency": "EUR", "toAccountId": payee}
    assert holding.api.capture(payer, "h", part).status == 201
    api = holding.api
    cases: list[tuple[str, Any, int, str, str | None]] = [
        ("the same capture twice", lambda: api.capture(payer, "h", part), 409, "conflict", "captureId"),
        (
            "a capture id reused",
            lambda: api.capture(payer, "h", {**part, "amount": "2.00"}),
            422,
            "idempotency_key_reused",
            "captureId",
        ),
        (
            "more than remains",
            lambda: api.capture(payer, "h", {**part, "captureId": "c2", "amount": "20.00"}),
            422,
            "exceeds_remaining",
            "amount",
        ),
        (
            "a final capture of less",
            lambda: api.capture(payer, "h", {**part, "captureId": "c3", "final": True}),
            422,
            "not_what_remains",
            "amount",
        ),
        (
            "another currency",
            lambda: api.capture(payer, "h", {**part, "captureId": "c4", "currency": "USD"}),
            422,
            "currency_mismatch",
            "currency",
        ),
        (
            "another payee",
            lambda: api.capture(payer, "h", {**part, "captureId": "c5", "toAccountId": other}),
            422,
            "payee_mismatch",
            "toAccountId",
        ),
        (
            "another account's hold",
            lambda: api.capture(payer, "theirs", {**part, "captureId": "c6"}),
            404,
            "not_found",
            "holdId",
        ),
        (
            "a forged remaining",
            lambda: api.void(payer, "h", {"currency": "EUR", "remaining": "30.00"}),
            422,
            "not_what_remains",
            "remaining",
        ),
        (
            "an expiry too long",
            lambda: api.post_hold(payer, {**hold, "holdId": "long", "expiresInSeconds": 2592001}),
            400,
            "invalid_request",
            "expiresInSeconds",
        ),
        (
            "more than the funds",
            lambda: api.post_hold(payer, {**hold, "holdId": "big", "amount": "70.01"}),
            422,
            "insufficient_funds",
            "amount",
        ),
        (
            "a hold id reused",
            lambda: api.post_hold(payer, {**hold, "amount": "31.00"}),
            422,
            "idempotency_key_reused",
            "holdId",
        ),
    ]
    for name, send, status, error, field_name in cases:
        before = state(holding, accounts, [(payer, "h"), (other, "theirs")])
        answer = send()
        assert (answer.status, answer.body.get("error"), answer.body.get("field")) == (status, error, field_name), name
        assert state(holding, accounts, [(payer, "h"), (other, "theirs")]) == before, f"{name}: something was written"
    assert api.void(payer, "h", {"currency": "EUR", "remaining": "20.00"}).status == 200
    after_void = api.capture(payer, "h", {**part, "captureId": "c7", "amount": "1.00"})
    assert (after_void.status, after_void.body["error"]) == (422, "hold_closed"), "no capture after a void"
    assert api.void(payer, "h", {"currency": "EUR", "remaining": "20.00"}).status == 409, "the same void again"
    flood = [api.post_hold(payer, {**hold, "holdId": f"f{n}", "amount": "1.00"}) for n in range(CAP + 2)]
    assert [a.status for a in flood] == [201] * CAP + [422, 422], "a flood of holds stops at the cap"
    assert flood[-1].body["error"] == "too_many_holds"
    for n in range(CAP):
        assert api.void(payer, f"f{n}", {"currency": "EUR", "remaining": "1.00"}).status == 200
    assert api.void(other, "theirs", {"currency": "EUR", "remaining": "30.00"}).status == 200


@dataclass
class Hold:
    """A hold one client made, as the client knows it."""

    payer: str
    hold_id: str
    remaining: Decimal
    expires_at: int  # epoch ms, as the API answered
    payee: str | None
    captures: int = 0


@dataclass
class Racer:
    """One client of the race: its own holds, and every answer it was given."""

    deployed: Deployment
    payers: list[str]
    payee: str
    rng: random.Random
    client: LedgerClient
    holds: list[Hold] = field(default_factory=list)
    answers: list[tuple[str, int, Any]] = field(default_factory=list)  # kind, status, body

    def step(self) -> None:
        kind = self.rng.choice(["hold", "hold", "capture", "capture", "void", "debit", "transfer"])
        open_ones = [h for h in self.holds if h.remaining > 0]
        if kind in {"capture", "void"} and open_ones:
            getattr(self, kind)(self.rng.choice(open_ones))
        elif kind in {"debit", "transfer"}:
            self.spend(kind)
        else:
            self.hold()

    def record(self, kind: str, answer: Response) -> Response:
        self.answers.append((kind, answer.status, answer.body if isinstance(answer.body, dict) else None))
        return answer

    def hold(self) -> None:
        payer, value = self.rng.choice(self.payers), Decimal(self.rng.randint(5, 40))
        payee = self.payee if self.rng.random() < 0.5 else None
        body: dict[str, Any] = {
            "holdId": f"h-{uuid.uuid4().hex[:10]}",
            "amount": amount(value),
            "currency": "EUR",
            "expiresInSeconds": self.rng.choice(EXPIRIES),
        }
        if payee:
            body["toAccountId"] = payee
        answer = self.record("hold", with_retries(lambda: self.client.post_hold(payer, body)))
        if answer.status == 201:
            self.holds.append(Hold(payer, body["holdId"], value, answer.body["expiresAt"], payee))

    def capture(self, hold: Hold) -> None:
        final = self.rng.random() < 0.4 or hold.remaining <= 1
        value = hold.remaining if final else Decimal(self.rng.randint(1, int(hold.remaining) - 1))
        body: dict[str, Any] = {
            "captureId": f"c-{uuid.uuid4().hex[:10]}",
            "amount": amount(value),
            "currency": "EUR",
            "final": final,
        }
        if hold.payee:
            body["toAccountId"] = hold.payee
        answer = self.record("capture", with_retries(lambda: self.client.capture(hold.payer, hold.hold_id, body)))
        if answer.status == 201:
            hold.remaining -= value
        elif answer.status == 422 and answer.body["error"] in {"hold_expired", "hold_closed"}:
            hold.remaining = Decimal(0)  # expired: the sweeper releases what remains

    def void(self, hold: Hold) -> None:
        body = {"currency": "EUR", "remaining": amount(hold.remaining)}
        answer = self.record("void", with_retries(lambda: self.client.void(hold.payer, hold.hold_id, body)))
        if answer.status in {200, 409} or (answer.status == 422 and answer.body["error"] == "hold_closed"):
            hold.remaining = Decimal(0)

    def spend(self, kind: str) -> None:
        payer, value = self.rng.choice(self.payers), amount(Decimal(self.rng.randint(5, 40)))
        if kind == "debit":
            send = lambda: self.client.post_transaction(payer, {"type": "debit", "amount": value, "currency": "EUR"})  # noqa: E731
        else:
            body = {"toAccountId": self.payee, "amount": value, "currency": "EUR"}
            send = lambda: self.client.post_transfer(payer, body)  # noqa: E731
        self.record(kind, with_retries(send))


def faults_on() -> contextlib.AbstractContextManager[Any]:
    return injected(FAULTS) if TARGET == "local" else contextlib.nullcontext()


def test_holds_captures_and_voids_racing_debits_keep_every_floor_and_end_exact(holding: Deployment) -> None:
    payers = [holding.account(f"race-payer{i}") for i in range(2)]
    payee, latecomer = holding.account("race-payee"), holding.account("late-payer")
    accounts = [*payers, payee, latecomer]
    seed = random.randrange(2**32)
    with subscribed(holding, holding.outputs["events"]["bus"]["name"], accounts) as consumer:
        for payer in payers:
            credit(holding, payer, RACE_FUNDS)
        assert holding.api.put_limits(payers[0], {"currency": "EUR", "overdraftLimit": amount(LIMIT)}).status == 200
        racers = [
            Racer(
                holding, payers, payee, random.Random(seed + n), LedgerClient(holding.api.base_url, holding.env.region)
            )
            for n in range(THREADS)
        ]
        with faults_on(), ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda racer: [racer.step() for _ in range(STEPS)], racers))
        answers = [a for racer in racers for a in racer.answers]
        assert {status for _, status, _ in answers} <= EXPECTED, f"seed {seed}: {sorted({a[1] for a in answers})}"
        taken = {
            kind: sum(1 for k, s, _ in answers if k == kind and s in {200, 201}) for kind in ("hold", "capture", "void")
        }
        assert taken["hold"] >= THREADS and taken["capture"] > 0, f"seed {seed}: the race took too little: {taken}"

        tally = Counter((kind, status, (body or {}).get("error")) for kind, status, body in answers)
        print(
            f"\n    holds race, seed {seed}: "
            + ", ".join(f"{k[0]} {k[1]}{' ' + k[2] if k[2] else ''}: {n}" for k, n in sorted(tally.items(), key=str))
        )
        late = a_capture_after_expiry_is_refused(holding, latecomer, payee)
        release_every_expired_hold(holding, accounts)

        dynamodb, balances = holding.env.client("dynamodb"), holding.outputs["balances_table"]["name"]
        epoch = holding.outputs["guard"]["epoch"]
        for account in accounts:
            rows = holding.rows(account)
            assert not hold_problems(rows), f"seed {seed}: {account}"
            differences = balance_differences(rows, account_items(dynamodb, balances, account), epoch, holds=True)
            assert differences == [], f"seed {seed}: {account}: the balance items are the fold of the rows"
            floor = -LIMIT if account == payers[0] else Decimal(0)
            totals = holding.expected(account)["EUR"]
            assert totals.balance >= floor, f"seed {seed}: {account} posted {totals.balance}, below {floor}"
            assert totals.held == 0, f"seed {seed}: {account}: every hold is closed, and holds nothing"
        captures_before_expiry(holding, [*payers, latecomer], late)
        eventually(lambda: settled_in_table(holding, accounts), timeout=180)
        until_caught_up(consumer, accounts, timeout=180, step=f"seed {seed}")
        for account in accounts:  # the consumer's state is the summary's, held included
            after = consumer.follower.latest[(account, "EUR")]["after"]
            stored = holding.stored(account)["EUR"]
            assert (Decimal(after["balance"]), Decimal(after["held"])) == (stored.balance, stored.held), account


def a_capture_after_expiry_is_refused(deployed: Deployment, payer: str, payee: str) -> str:
    """A hold of 1 s, read until it answers expired, then captured: refused, naming the hold. Its id."""
    hold_id = f"late-{uuid.uuid4().hex[:8]}"
    credit(deployed, payer, Decimal(1))
    body = {"holdId": hold_id, "amount": "1.00", "currency": "EUR", "expiresInSeconds": 1, "toAccountId": payee}
    assert with_retries(lambda: deployed.api.post_hold(payer, body)).status == 201
    eventually(lambda: deployed.api.hold(payer, hold_id).body["status"] == "expired", timeout=30)
    capture = {"captureId": f"c-{hold_id}", "amount": "1.00", "currency": "EUR", "toAccountId": payee, "final": True}
    answer = with_retries(lambda: deployed.api.capture(payer, hold_id, capture))
    assert answer.status == 422 and answer.body["error"] in {"hold_expired", "hold_closed"}, answer.text
    assert answer.body["field"] == "holdId"
    return hold_id


def release_every_expired_hold(deployed: Deployment, accounts: list[str]) -> None:
    """Let the scheduled sweeper release what the expired holds reserve: in the local account the clock moves
    past every expiry and a schedule time; in AWS, it runs each minute. The longer holds still open are voided
    first, as their holders would."""
    for item in open_holds(deployed, accounts):
        if int(item["expiresAt"]["N"]) > deployed.env.now() * 1000 + 5_000:
            answer = void_item(deployed, item)
            assert answer.status == 200 or answer.body["error"] == "hold_closed", answer.text
    if deployed.env.account is not None:
        deployed.env.account.clock.advance(90)
    eventually(lambda: not open_holds(deployed, accounts), timeout=240, interval=2)


def captures_before_expiry(deployed: Deployment, payers: list[str], late: str) -> None:
    """Every capture row was booked before its hold's expiry (the gateway's request time), and the hold
    captured late has no capture row."""
    holds = {}
    for payer in payers:
        for row in deployed.rows(payer):
            if row["type"]["S"] == "hold":
                holds[(payer, row["holdId"]["S"])] = int(row["expiresAt"]["N"])
        for row in deployed.rows(payer):
            if row["type"]["S"] == "capture":
                expires = holds[(payer, row["holdId"]["S"])]
                assert int(row["recordedAt"]["N"]) < expires, f"{payer}: a capture at or after its hold's expiry"
            assert row.get("holdId", {}).get("S") != late or row["type"]["S"] != "capture"


@MODES
@pytest.mark.parametrize(("path", "method"), WITH_HOLDS, ids=[f"{m} {p}" for p, m in WITH_HOLDS])
def test_the_hold_routes_answer_no_5xx_and_no_2xx_for_what_the_schema_forbids(
    holding: Deployment, path: str, method: str, mode: GenerationMode
) -> None:
    if holding.pattern == 1:
        pytest.skip("the hold routes are the API's, the same in both patterns: fuzzed in pattern 2")
    fuzz(holding, path, method, mode)


def test_switching_holds_and_the_guard_off_is_refused_while_a_hold_is_open(holding: Deployment) -> None:
    """The sweeper's refusal fails the apply before the guard's epoch changes; the stage serves holds meanwhile,
    and the switch goes through once the hold is voided."""
    payer = holding.account("switch-payer")
    credit(holding, payer, FUNDS)
    body = {"holdId": "open", "amount": "25.00", "currency": "EUR", "expiresInSeconds": 3600}
    assert holding.api.post_hold(payer, body).status == 201
    stack = holding.env.stack
    stack.variables["guard"] = None  # holds off with the guard, as the stack was before the fixture
    with pytest.raises(TerraformError, match="while holds are open") as refused:
        stack.apply(holding.pattern)
    assert f"{payer}/open" in str(refused.value), "the refusal names the open hold"
    assert served_epoch(holding) == holding.outputs["guard"]["epoch"], "the stage serves the epoch it served"
    hold = holding.api.hold(payer, "open")
    assert hold.status == 200 and hold.body["status"] == "open", "the stage still serves holds"
    taken = holding.api.capture(payer, "open", {"captureId": "c1", "amount": "5.00", "currency": "EUR"})
    assert taken.status == 201, taken.text
    assert holding.api.void(payer, "open", {"currency": "EUR", "remaining": "20.00"}).status == 200
    off = stack.apply(holding.pattern)
    assert off.get("holds") is None and off.get("guard") is None
    assert served_epoch(holding) is None, "the guard off: the stage names no epoch"
    kept = [(payer, "open"), (payer, "after-off")]
    before = state(holding, [payer], kept)
    for answer in (
        holding.api.hold(payer, "open"),
        holding.api.post_hold(payer, {**body, "holdId": "after-off"}),
        holding.api.put_limits(payer, {"currency": "EUR", "overdraftLimit": "10.00"}),
    ):  # the deployment made with holds and the guard off keeps their routes, and serves none of them
        assert (answer.status, answer.body["error"]) == (404, "not_served"), answer.text
    assert state(holding, [payer], [(payer, "open"), (payer, "after-off")]) == before, (
        "a route not served writes nothing"
    )


def served_epoch(deployed: Deployment) -> str | None:
    """The guard's epoch as the stage serves it (its stage variable), read from API Gateway."""
    stage = deployed.env.client("apigateway").get_stage(
        restApiId=deployed.outputs["rest_api_id"], stageName=deployed.outputs["stage_name"]
    )
    epoch = stage.get("variables", {}).get("guardEpoch")
    return None if epoch is None else str(epoch)
