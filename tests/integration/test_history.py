"""History through the signed API, with the local account's clock moved past day ends.

A month of current and backdated writes goes through the API with faults on, a day of the account's clock
at a time; the schedule runs the closer as each move passes its time. Then every day's close, the month's
statements, balances at instants and filtered listings are checked against the fold of the rows, and the
closer and the backfill are each run twice more: nothing is written twice.

Only the local account's clock can be moved: against a real account the test is skipped, and
`make verify-aws` makes a scheduled run of the closer there, with the schedule's role.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness.probes import eventually
from ledger_aggregator.domain import Totals
from ledger_aggregator.history import DAY_MS, balance_at_answers, booked_by_day, day_of, day_start_ms, recorded_ms
from tests.integration.conftest import Deployment, injected, settled_in_table
from tests.integration.test_ops import ops
from tests.support.history import fold_upto

# Its pattern-2 run goes on the second stack (docs/testing.md): the closer it runs closes every key of the
# stack for each day the clock moves, and the second stack holds fewer.
pytestmark = pytest.mark.second_stack

DAYS = 31
HOUR_MS = 3_600_000
CURRENCIES = ("EUR", "USD")
FAULTS = "dup=0.3,reorder=0.5,crash=0.1,throttle=20wcu,seed=11"


def _closes(deployed: Deployment, account: str) -> list[dict[str, Any]]:
    answer = deployed.env.client("dynamodb").query(
        TableName=deployed.outputs["history_table"]["name"],
        KeyConditionExpression="accountId = :a",
        ExpressionAttributeValues={":a": {"S": account}},
        ConsistentRead=True,
    )
    return [i for i in answer["Items"] if not i["period"]["S"].endswith("#")]


def _closed_through(deployed: Deployment, account: str, last: date) -> bool:
    days = {i["period"]["S"] for i in _closes(deployed, account)}
    return all(f"{c}#{last}" in days for c in CURRENCIES)


def _write_a_month(deployed: Deployment, account: str, rng: random.Random) -> None:
    """Three writes a day for DAYS days, a day of the account's clock apart: some backdated by the client's
    occurredAt (booked on the day they reach the ledger all the same)."""
    clock = deployed.env.account.clock  # type: ignore[union-attr]
    for day in range(DAYS):
        for n in range(3):
            body: dict[str, Any] = {
                "transactionId": f"d{day}-{n}",
                "type": "debit" if n == 2 else "credit",
                "amount": f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}",
                "currency": CURRENCIES[(day + n) % 2],
            }
            if n == 1:  # backdated: it happened days before it reached the ledger
                happened = datetime.fromtimestamp(clock.now() - 86_400 * rng.randint(1, 9), UTC)
                body["occurredAt"] = happened.strftime("%Y-%m-%dT%H:%M:%SZ")
            answer = deployed.api.post_transaction(account, body)
            assert answer.status == 201, answer.text
        clock.advance(86_400)


def _numbers(answer: Any, pattern: str) -> list[Decimal]:
    """The amounts a ledger-ops command printed, by ``pattern``'s groups; it must have succeeded."""
    assert answer.returncode == 0, answer.stdout + answer.stderr
    found = re.search(pattern, answer.stdout, re.MULTILINE)
    assert found, answer.stdout
    return [Decimal(g) for g in found.groups()]


def _decimal(answer: dict[str, Any], name: str) -> Decimal:
    return Decimal(answer[name])


def _check_days_and_months(deployed: Deployment, account: str, rows: list[dict[str, Any]], days: list[date]) -> None:
    """Every day line of the month statements is the fold of its rows; each month's totals are its days'."""
    for currency in CURRENCIES:
        booked = booked_by_day(rows, currency)
        balance = Decimal(0)
        for month in sorted({d.strftime("%Y-%m") for d in days}):
            answer = deployed.api.statement(account, f"currency={currency}&month={month}")
            if month == days[-1].strftime("%Y-%m") and days[-1] != _month_end(days[-1]):
                assert answer.status == 404 and answer.body["error"] == "not_closed", answer.body
                continue
            assert answer.status == 200, answer.body
            month_totals = Totals()
            for line in answer.body["days"]:
                totals = booked.get(date.fromisoformat(line["day"]), Totals())
                assert (_decimal(line, "credits"), _decimal(line, "debits")) == (totals.credits, totals.debits)
                assert (line["transactionCount"], _decimal(line, "opening")) == (totals.count, balance), line
                balance += totals.credits - totals.debits
                assert _decimal(line, "closing") == balance
                month_totals += totals
            made = answer.body["totals"]
            assert (_decimal(made, "credits"), _decimal(made, "debits")) == (month_totals.credits, month_totals.debits)


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def test_a_month_of_writes_under_faults_is_closed_by_the_schedule_and_every_answer_agrees(
    deployed: Deployment, tmp_path: Path
) -> None:
    if deployed.env.account is None:
        pytest.skip("only the local account's clock can be moved; make verify-aws checks the schedule")
    account, rng = deployed.account("month"), random.Random(36)
    with injected(FAULTS):
        _write_a_month(deployed, account, rng)
    deployed.env.account.clock.advance(2 * 3600)  # past the last day's seal and a schedule time
    rows = deployed.rows(account)
    assert len(rows) == 3 * DAYS
    days = sorted({day_of(recorded_ms(r) or 0) for r in rows})
    assert len(days) == DAYS, "a row is booked on the account's day it reached the ledger"
    eventually(lambda: _closed_through(deployed, account, days[-1]) or None, timeout=180, interval=1)
    eventually(lambda: settled_in_table(deployed, [account]) or None, timeout=180, interval=1)

    _check_days_and_months(deployed, account, rows, days)
    # A range of days from the API and from ledger-ops: the same numbers.
    first, last = max(days[-5], days[-1].replace(day=1)), days[-1]
    api = deployed.api.statement(account, f"currency=EUR&from={first}&to={last}")
    assert api.status == 200, api.body
    stating = ["statement", "--account", account, "--currency", "EUR", "--from", str(first), "--to", str(last)]
    cli = _numbers(ops(deployed, tmp_path, *stating), rf"{first} to {last}: opening (\S+) .* closing (\S+)")
    assert cli == [Decimal(api.body["opening"]), Decimal(api.body["closing"])]
    # Balances at instants: the close of the day before plus that day's rows up to the instant, from
    # ledger-ops and from the API's two answers (the client function docs/api.md names): both the fold.
    seal_ms = int(deployed.outputs["history"]["seal_seconds"]) * 1000
    for _ in range(3):
        instant = rng.randint(day_start_ms(days[1]), day_start_ms(days[-1]) + DAY_MS - 1)
        asked = ["balance-at", "--account", account, "--currency", "USD", "--at", str(instant)]
        folded = fold_upto(rows, (account, "USD"), instant)
        assert _numbers(ops(deployed, tmp_path, *asked), r" at \d+: (\S+)$") == [folded]
        before = day_of(instant) - timedelta(days=1)
        day_before = deployed.api.statement(account, f"currency=USD&from={before}&to={before}")
        assert day_before.status == 200, day_before.body
        that_day = deployed.api.listing(account, f"from={day_start_ms(day_of(instant))}&to={instant}&currency=USD")
        now_ms = int(deployed.env.now() * 1000)
        assert balance_at_answers(day_before.body, that_day.transactions, instant, now_ms=now_ms, seal_ms=seal_ms) == (
            folded
        )
    # A filtered listing over a range of booking times: the rows of that range and currency, oldest first.
    low, high = day_start_ms(days[3]), day_start_ms(days[9]) + DAY_MS - 1
    listed = deployed.api.listing(account, f"from={low}&to={high}&order=oldest&currency=EUR")
    chosen = sorted(
        (recorded_ms(r) or 0, r["transactionId"]["S"])
        for r in rows
        if low <= (recorded_ms(r) or 0) <= high and r["currency"]["S"] == "EUR"
    )
    assert listed.ids == [t for _, t in chosen]
    debits = deployed.api.listing(account, f"from={low}&to={high}&order=newest&currency=EUR&type=debit")
    chosen_debits = [t for at, t in chosen if _type_of(rows, t) == "debit"]
    assert debits.ids == chosen_debits[::-1] and chosen_debits, "newest first, debits only"

    # The closer again (the scheduled function, invoked as the schedule does) and the backfill, twice each.
    closes_before = _closes(deployed, account)
    function = deployed.outputs["history"]["closer"]["name"]
    for _ in range(2):
        answer = deployed.env.client("lambda").invoke(FunctionName=function, Payload=json.dumps({"source": "test"}))
        result = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, result
        assert (result["written"], result["refused"], result["failed"]) == (0, 0, 0), result
        backfill = ops(deployed, tmp_path, "close", "--account", account)
        assert backfill.returncode == 0 and ", 0 close(s) written" in backfill.stdout, backfill.stdout
    assert _closes(deployed, account) == closes_before, "no close rewritten"
    checked = ops(deployed, tmp_path, "reconcile", "--account", account)
    assert checked.returncode == 0 and "0 close difference(s)" in checked.stdout, checked.stdout
    # What the faults made of the scheduled runs: a crashed run's record, never a close refused or failed.
    for record in _parked(deployed):
        assert "injected crash" in record["responsePayload"]["errorMessage"], record


def _type_of(rows: list[dict[str, Any]], transaction: str) -> str:
    return next(str(r["type"]["S"]) for r in rows if r["transactionId"]["S"] == transaction)


def _parked(deployed: Deployment) -> list[dict[str, Any]]:
    sqs = deployed.env.client("sqs")
    url = deployed.outputs["history"]["closer_dlq_url"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]
