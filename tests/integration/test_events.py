"""Balance events through the deployed feed (summary stream -> Pipe -> enrichment -> bus -> rule -> queue).

A consumer subscribes a queue to this module's accounts and follows what it receives as docs/events.md
tells consumers to (consumer.follower): per (account, currency) the highest revision wins, a revision named
as the previous one of another and not received is missing, and none may be missing at the end.
The session's stack runs with `events = {}`.

- 48 transactions and transfers in EUR and JPY from 6 threads over four accounts, with the local account's
  duplicate, crash, latency and overtake faults on (the last delivers a rule's events out of order, as
  EventBridge's retries do): the consumer ends equal to every summary with no revision
  missing, each event's `before` is the `after` of the event it names as its previous, each id is
  `accountId:currency:revision`, and every change the summary stream committed was received once or
  as a counted duplicate.
- A summary damaged behind the writers is rewritten by `ledger-ops rebuild`, which publishes exactly one
  correction, and the consumer ends equal again.
- Day closes: rows written straight into the details table on past days, a month end among them, are
  closed by `ledger-ops close`; exactly one `Day Closed` event per closed day of the account reaches a
  consumer's queue, with the close's numbers, and no month close publishes one.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from consumer.follower import BalanceFollower, Delivery
from harness.probes import eventually
from ledger_aggregator.history import DAY_MS, day_start_ms
from ledger_aggregator.summary_item import key_of, stored_revision, stored_totals, summary_key
from ledger_ops.events import committed_changes
from ledger_ops.streams import StreamTail
from tests.integration.conftest import TARGET, Deployment, injected, settled_in_table
from tests.integration.test_ops import buffer_drained, ops
from tests.support.history import booked_row

pytestmark = pytest.mark.second_stack  # its pattern-2 runs go on the second stack (docs/testing.md)

# overtake: EventBridge keeps no order to a rule's target; the consumer must be exact without it.
FAULTS = "dup=0.3,crash=0.1,latency=2ms,overtake=0.3,seed=22"
Key = tuple[str, str]


@dataclass
class Consumer:
    """A queue subscribed to the bus for some accounts, followed as docs/events.md tells consumers to."""

    deployed: Deployment
    url: str
    follower: BalanceFollower = field(default_factory=BalanceFollower)
    received: int = 0
    duplicates: int = 0
    corrections: list[str] = field(default_factory=list)
    distinct: dict[tuple[Key, int], dict[str, Any]] = field(default_factory=dict)  # every change received
    resyncs: list[str] = field(default_factory=list)  # the ids of the resync events received

    @property
    def applied(self) -> dict[Key, Any]:
        """The latest detail applied per (account, currency)."""
        return self.follower.latest

    def drain(self) -> None:
        """Receive what is waiting and follow it."""
        sqs = self.deployed.env.client("sqs")
        while got := sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            for message in got:
                self._follow(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def _follow(self, event: dict[str, Any]) -> None:
        detail, self.received = event["detail"], self.received + 1
        assert (event["source"], event["detail-type"]) == ("cqrs-ledger", "Balance Changed")
        key = (detail["accountId"], detail["currency"])
        assert detail["eventId"] == f"{key[0]}:{key[1]}:{detail['revision']}"
        if detail["resync"]:
            self.resyncs.append(detail["eventId"])
        if self.follower.apply(detail) is Delivery.DUPLICATE:
            self.duplicates += 1
            return
        self.distinct[(key, detail["revision"])] = detail
        if detail["correction"]:
            self.corrections.append(detail["eventId"])

    def revisions(self) -> dict[Key, int]:
        return self.follower.revisions()

    def assert_chained(self) -> None:
        """Each change's ``before`` is the ``after`` of the change it names as its previous one (a correction
        is not: what it corrects was never published, its before is the damaged item)."""
        for (key, revision), detail in self.distinct.items():
            previous = self.distinct.get((key, detail["previousRevision"]))
            assert detail["previousRevision"] in (None, revision - 1), f"{key}: one change at a time"
            if previous is not None and not detail["correction"]:
                assert detail["before"] == previous["after"], f"{key} {revision}: before is not its previous' after"


@contextlib.contextmanager
def queue_on_rule(deployed: Deployment, bus: str, pattern: dict[str, Any]) -> Iterator[str]:
    """A standard queue and a rule on ``bus`` with ``pattern`` targeting it (its URL); removed afterwards."""
    sqs, events = deployed.env.client("sqs"), deployed.env.client("events")
    name = f"events-consumer-{uuid.uuid4().hex[:6]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
            events.delete_rule(Name=name, EventBusName=bus)
            sqs.delete_queue(QueueUrl=url)


@contextlib.contextmanager
def subscribed(deployed: Deployment, bus: str, accounts: list[str], *, resyncing: bool = False) -> Iterator[Consumer]:
    """A standard queue and a rule on ``bus`` for these accounts' balance events; removed afterwards.

    Subscribe before the accounts' first write: an event published before the rule exists never reaches the
    queue, so the consumer would wait for ever for the revision that event carried (whether it was published
    in time is a race with the projection). A consumer subscribed later takes a resync as its baseline
    (``resyncing``), as docs/events.md tells consumers to.
    """
    written = [account for account in accounts if deployed.rows(account)]
    assert resyncing or not written, f"subscribe before the first write of {written}, or take a resync baseline"
    pattern = {"source": ["cqrs-ledger"], "detail-type": ["Balance Changed"], "detail": {"accountId": accounts}}
    with queue_on_rule(deployed, bus, pattern) as url:
        yield Consumer(deployed, url)


@dataclass
class DayCloses:
    """A queue subscribed to the bus for some accounts' day-close events: every detail received, in order."""

    deployed: Deployment
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def drain(self) -> list[dict[str, Any]]:
        """Receive what is waiting; every detail received so far."""
        sqs = self.deployed.env.client("sqs")
        while got := sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            for message in got:
                event = json.loads(message["Body"])
                assert (event["source"], event["detail-type"]) == ("cqrs-ledger", "Day Closed"), event
                self.received.append(event["detail"])
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return self.received

    def ids(self) -> list[str]:
        return sorted(detail["eventId"] for detail in self.drain())


@contextlib.contextmanager
def day_closes_subscribed(deployed: Deployment, bus: str, accounts: list[str]) -> Iterator[DayCloses]:
    """A standard queue and a rule on ``bus`` for these accounts' day-close events; removed afterwards."""
    match = deployed.outputs["events"]["day_close"]["event"]
    pattern = {"source": [match["source"]], "detail-type": [match["detail_type"]], "detail": {"accountId": accounts}}
    with queue_on_rule(deployed, bus, pattern) as url:
        yield DayCloses(deployed, url)


def stored_closes(deployed: Deployment, account: str) -> dict[str, dict[str, Any]]:
    """The account's close items in the history table, by sort key (``EUR#2026-11-05``, ``EUR#2026-11``)."""
    found: dict[str, dict[str, Any]] = {}
    query: dict[str, Any] = {
        "TableName": deployed.outputs["history_table"]["name"],
        "KeyConditionExpression": "accountId = :a",
        "ExpressionAttributeValues": {":a": {"S": account}},
        "ConsistentRead": True,
    }
    while True:
        page = deployed.env.client("dynamodb").query(**query)
        found.update({item["period"]["S"]: item for item in page["Items"] if "opening" in item})
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def consumer(deployed: Deployment) -> Iterator[tuple[Consumer, list[str]]]:
    """A consumer of the session's bus for a fresh set of accounts."""
    feed = deployed.outputs["events"]
    assert (feed["event"]["source"], feed["event"]["detail_type"]) == ("cqrs-ledger", "Balance Changed")
    accounts = [deployed.account(f"events{i}") for i in range(4)]
    with subscribed(deployed, feed["bus"]["name"], accounts) as following:
        yield following, accounts


def summaries(deployed: Deployment, accounts: list[str]) -> dict[Key, dict[str, Any]]:
    table, dynamodb = deployed.outputs["summary_table"]["name"], deployed.env.client("dynamodb")
    found = {}
    for account in accounts:
        answer = dynamodb.query(
            TableName=table,
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues={":a": {"S": account}},
            ConsistentRead=True,
        )
        found.update({key_of(item): item for item in answer["Items"]})
    return found


def caught_up(consumer: Consumer, accounts: list[str]) -> bool:
    consumer.drain()
    return not behind(consumer, accounts)


def until_caught_up(consumer: Consumer, accounts: list[str], timeout: float = 120, step: str = "") -> None:
    """Poll until the consumer has every change of these accounts' summaries; else fail, saying how it differs."""
    try:
        eventually(lambda: caught_up(consumer, accounts), timeout=timeout)
    except AssertionError as late:
        where, parked = f"{step}: " if step else "", dead_letters(consumer.deployed)
        raise AssertionError(f"{where}the consumer is behind: {behind(consumer, accounts)}; parked: {parked}") from late


def dead_letters(deployed: Deployment) -> dict[str, str]:
    """How many messages the events' dead-letter queues hold (the Pipes' and the bus's), by queue name."""
    sqs, events = deployed.env.client("sqs"), deployed.outputs.get("events") or {}
    queues = [q for q in (events.get("dlq"), events.get("bus_dlq")) if q]
    asked = ["ApproximateNumberOfMessages"]
    return {
        q["name"]: sqs.get_queue_attributes(QueueUrl=q["url"], AttributeNames=asked)["Attributes"][asked[0]]
        for q in queues
    }


def behind(consumer: Consumer, accounts: list[str]) -> str:
    """How the consumer differs from the summaries (revisions received, missing), or "" where it does not."""
    stored = {key: stored_revision(item) for key, item in summaries(consumer.deployed, accounts).items()}
    received, missing = consumer.revisions(), consumer.follower.missing()
    if stored and received == stored and not missing:
        return ""
    return f"summaries at {stored}, events received up to {received}, missing {missing}"


def committed(deployed: Deployment, accounts: list[str]) -> int:
    """How many changes of these accounts' summaries the summary stream holds: one event each."""
    tail = StreamTail(deployed.env.client("dynamodbstreams"), deployed.outputs["summary_table"]["stream_arn"])
    return len(committed_changes(tail, accounts))


def assert_equal_to_the_summaries(consumer: Consumer, accounts: list[str]) -> None:
    for key, item in summaries(consumer.deployed, accounts).items():
        after, totals = consumer.applied[key]["after"], stored_totals(item)
        assert (Decimal(after["credits"]), Decimal(after["debits"]), after["transactionCount"]) == (
            totals.credits,
            totals.debits,
            totals.count,
        ), key
        assert Decimal(after["balance"]) == Decimal(item["balance"]["N"]) == totals.balance, key


def load(deployed: Deployment, accounts: list[str]) -> None:
    """Transactions and transfers in EUR and JPY, from 6 concurrent clients."""
    rng = random.Random(22)
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(48):
        account, currency = rng.choice(accounts), rng.choice(["EUR", "JPY"])
        amount = f"{rng.randint(1, 900)}.{rng.randint(0, 99):02d}" if currency == "EUR" else str(rng.randint(1, 9000))
        if i % 4 == 3:
            payee = rng.choice([a for a in accounts if a != account])
            body = {"transferId": f"x{i}", "toAccountId": payee, "amount": amount, "currency": currency}
            requests.append(("transfer", account, body))
        else:
            kind = rng.choice(["credit", "debit"])
            body = {"transactionId": f"t{i}", "type": kind, "amount": amount, "currency": currency}
            requests.append(("transaction", account, body))

    def send(request: tuple[str, str, dict[str, Any]]) -> int:
        kind, account, body = request
        post = deployed.api.post_transfer if kind == "transfer" else deployed.api.post_transaction
        return post(account, body).status

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(send, requests)) == {201}


def faults_on() -> contextlib.AbstractContextManager[Any]:
    return injected(FAULTS) if TARGET == "local" else contextlib.nullcontext()


def test_a_consumer_folding_the_events_ends_equal_to_every_summary(consumer: tuple[Consumer, list[str]]) -> None:
    feed, accounts = consumer
    with faults_on() as active:
        load(feed.deployed, accounts)
        eventually(lambda: settled_in_table(feed.deployed, accounts), timeout=240)
        until_caught_up(feed, accounts, timeout=240)
    if active is not None:
        assert active.overtaken > 0, "some events reached the consumer's queue after later ones"
    assert len(feed.applied) >= 6, "both currencies of most accounts changed"
    assert_equal_to_the_summaries(feed, accounts)
    feed.assert_chained()
    assert len(feed.distinct) == committed(feed.deployed, accounts), "one event per committed change"
    assert feed.received == len(feed.distinct) + feed.duplicates
    assert feed.corrections == [], "no fold write is a correction"


def test_a_rebuild_publishes_one_correction_and_the_consumer_ends_equal_again(
    consumer: tuple[Consumer, list[str]], tmp_path: Any
) -> None:
    feed, accounts = consumer
    account = accounts[0]
    body = {"transactionId": "c1", "type": "credit", "amount": "10.00", "currency": "EUR"}
    assert feed.deployed.api.post_transaction(account, body).status == 201
    eventually(lambda: settled_in_table(feed.deployed, [account]))
    until_caught_up(feed, [account])
    feed.deployed.env.client("dynamodb").update_item(  # damaged outside the writers: no revision, no event
        TableName=feed.deployed.outputs["summary_table"]["name"],
        Key=summary_key(account, "EUR"),
        UpdateExpression="ADD credits :x, balance :x",
        ExpressionAttributeValues={":x": {"N": "5"}},
    )
    if feed.deployed.pattern == 2:  # rebuild refuses while a delta waits in the buffer queue
        eventually(lambda: buffer_drained(feed.deployed), interval=2)
    mended: subprocess.CompletedProcess[str] = ops(feed.deployed, tmp_path, "rebuild", "--account", account)
    assert mended.returncode == 0 and f"{account}/EUR: rewritten" in mended.stdout, mended.stdout + mended.stderr
    until_caught_up(feed, [account])
    rewritten = summaries(feed.deployed, [account])[(account, "EUR")]["correctedRevision"]["N"]
    assert feed.corrections == [f"{account}:EUR:{rewritten}"]
    assert feed.applied[(account, "EUR")]["after"]["credits"] == "10.00"
    assert_equal_to_the_summaries(feed, [account])


def close_days(deployed: Deployment, tmp_path: Path, account: str, booked: list[tuple[date, str, str, int]]) -> None:
    """Rows of ``account`` in EUR booked on past days ((day, type, amount, ms into the day)), written straight
    into the details table (as an import would), then closed by ``ledger-ops close``."""
    for number, (day, kind, amount, ms) in enumerate(booked):
        row = booked_row(account, "EUR", kind, amount, at_ms=day_start_ms(day) + ms, number=number)
        deployed.env.client("dynamodb").put_item(TableName=deployed.outputs["details_table"]["name"], Item=row)
    # The closer closes the keys the summaries list: wait until the projection has the rows.
    eventually(lambda: ops(deployed, tmp_path, "reconcile", "--account", account).returncode == 0, interval=2)
    closed = ops(deployed, tmp_path, "close", "--account", account)
    assert closed.returncode == 0, closed.stdout + closed.stderr


def day_close_ids(deployed: Deployment, account: str) -> list[str]:
    """The ids the account's stored day closes are published under."""
    days = [period for period in stored_closes(deployed, account) if len(period) == len("EUR#2026-11-05")]
    return sorted(f"{account}:{period.replace('#', ':')}" for period in days)


def test_each_day_close_is_published_once_and_a_month_close_is_not(deployed: Deployment, tmp_path: Path) -> None:
    """Rows booked on past days, around a month end, written straight into the details table (as an import
    would); ``ledger-ops close`` closes every day up to the last sealed one, and the month."""
    account = deployed.account("dayclose")
    month_end = (datetime.now(UTC).date() - timedelta(days=2)).replace(day=1) - timedelta(days=1)
    first, after = month_end - timedelta(days=1), month_end + timedelta(days=1)
    booked = [(first, "credit", "10.00", 5), (month_end, "debit", "2.50", DAY_MS - 1), (after, "credit", "1.25", 0)]
    with day_closes_subscribed(deployed, deployed.outputs["events"]["bus"]["name"], [account]) as consumer:
        close_days(deployed, tmp_path, account, booked)
        closes = stored_closes(deployed, account)
        days = sorted(period.removeprefix("EUR#") for period in closes if len(period) == len("EUR#2026-11-05"))
        months = [period for period in closes if len(period) == len("EUR#2026-11")]
        assert days[0] == str(first) and f"EUR#{month_end.isoformat()[:7]}" in months, sorted(closes)
        assert len(days) == (datetime.fromisoformat(days[-1]).date() - first).days + 1, "closes are dense"
        expected = day_close_ids(deployed, account)
        assert expected == sorted(f"{account}:EUR:{day}" for day in days)
        eventually(lambda: consumer.ids() == expected, timeout=180)  # a duplicate before this never equals
        time.sleep(5)  # an idle interval, not waiting for an event: a late duplicate or a month's would show
        assert consumer.ids() == expected, "exactly one event per closed day, none for a month"
    by_day = {detail["day"]: detail for detail in consumer.received}
    assert {k: by_day[str(first)][k] for k in ("opening", "credits", "debits", "closing", "transactionCount")} == {
        "opening": "0.00",
        "credits": "10.00",
        "debits": "0.00",
        "closing": "10.00",
        "transactionCount": 1,
    }
    assert (by_day[str(month_end)]["opening"], by_day[str(month_end)]["closing"]) == ("10.00", "7.50")
    assert (by_day[str(after)]["opening"], by_day[str(after)]["closing"]) == ("7.50", "8.75")
    quiet = by_day[days[-1]]
    assert (quiet["opening"], quiet["closing"], quiet["transactionCount"]) == ("8.75", "8.75", 0)
    for day, detail in by_day.items():
        stored = closes[f"EUR#{day}"]
        assert Decimal(detail["closing"]) == Decimal(stored["closing"]["N"]), day
        assert (detail["deployment"], detail["accountId"], detail["currency"]) == (
            deployed.outputs["events"]["deployment"],
            account,
            "EUR",
        )
