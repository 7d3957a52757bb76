"""Balance events' figures for `make bench-report` (and alone: `python -m bench.events`).

On one stack (pattern 2, events on), twice: without faults, then with the local account's duplicate, crash and
latency faults and the rule target's events delivered out of order (overtake). Each time a mixed load
(credits, debits and transfers in two currencies over 20 accounts) is posted through the signed API from 8
clients, while a consumer (a standard queue subscribed to the bus by a rule, as docs/events.md shows)
receives the events and follows them (``BalanceFollower``: the highest revision wins). Measured:

1. events per committed change: distinct event ids received over the changes committed (the summary
   stream's records whose revision rose: what the Pipe turns into one event each); 1.00 is exact;
2. duplicates: events received again (the feed is at least once);
3. end-to-end lag, from the k-th 201 on an (account, currency) until the consumer queue holds an event
   whose ``after.transactionCount`` reaches k (the queue's ``SentTimestamp``): p50 and p99;
4. per write: events, Pipe batches (enrichment invocations) and their GB-seconds, for the cost model.

These are the local account's figures, not AWS's. ``--quick`` (and bench-report's) measures the same on a
few writes over a few accounts.
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import boto3

from bench.alone import measure_alone
from consumer.follower import BalanceFollower
from harness.client import LedgerClient
from harness.load import percentile
from harness.stack import UNGUARDED, Stack
from ledger_aggregator.summary_item import key_of, stored_revision
from ledger_ops.events import committed_changes
from ledger_ops.streams import StreamTail
from local_account import fault_plan
from local_account.account import LocalAccount

FAULTS = "dup=0.3,crash=0.1,latency=2ms,overtake=0.3,seed=22"
CLIENTS = 8
CURRENCIES = ("EUR", "USD")
SETTLE_LIMIT = 300
Key = tuple[str, str]


@dataclass(frozen=True)
class EventSizes:
    """How much the feed's figures take: the report's, or ``--quick``'s (the same code on less)."""

    writes: int = 600  # per run: credits, debits and transfers
    accounts: int = 20


QUICK_EVENTS = EventSizes(writes=30, accounts=5)


@dataclass
class EventRun:
    """One load through the feed, and what the consumer saw."""

    faults: str
    writes: int = 0  # POSTs answered 201 (transactions and transfers)
    changes: int = 0  # committed summary changes: the summary stream's records that raised a revision
    received: int = 0  # events the consumer queue received
    distinct: int = 0  # distinct event ids among them
    gaps: int = 0  # revisions still missing from the consumer's chains at the end (none expected)
    consumer_exact: bool = False  # the consumer's follower ended at every summary's revision, none missing
    settle_seconds: float | None = None  # from the last 201 until the consumer was exact
    lags_ms: list[float] = field(default_factory=list)
    enrichment_invocations: int = 0
    enrichment_ms: int = 0
    enrichment_memory_mb: int = 0

    def events_per_change(self) -> float:
        """Distinct events over committed changes (1.00: one event per change)."""
        return self.distinct / self.changes if self.changes else 0.0

    def duplicates(self) -> int:
        """Events received more than once."""
        return self.received - self.distinct

    def lag(self, share: float) -> float:
        """A percentile of the end-to-end lag, in milliseconds."""
        return percentile(self.lags_ms, share) if self.lags_ms else 0.0

    def per_write(self) -> dict[str, float]:
        """Billable quantities per write (no faults: what AWS would bill for a quiet feed)."""
        if not self.writes:
            return {}
        gb_seconds = self.enrichment_ms * self.enrichment_memory_mb / 1024 / 1000
        return {
            "events": self.distinct / self.writes,
            "pipe_batches": self.enrichment_invocations / self.writes,
            "gb_seconds": gb_seconds / self.writes,
        }


@dataclass
class EventFigures:
    """Everything bench.events measured in one run."""

    runs: list[EventRun] = field(default_factory=list)


class QueueConsumer:
    """A queue subscribed to the bus by a rule, received from in a thread until stopped."""

    def __init__(self, region: str, feed: dict[str, Any], accounts: list[str]) -> None:
        self._sqs = boto3.client("sqs", region_name=region)
        self._events: Any = boto3.client("events", region_name=region)
        self.name, self.bus = f"bench-events-{uuid.uuid4().hex[:6]}", feed["bus"]["name"]
        self.url = self._sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": [feed["event"]["source"]], "detail": {"accountId": accounts}}
        self._events.put_rule(Name=self.name, EventBusName=self.bus, EventPattern=json.dumps(pattern))
        target = {"Id": "queue", "Arn": arn}
        self._events.put_targets(Rule=self.name, EventBusName=self.bus, Targets=[target])
        self.arrivals: list[tuple[float, dict[str, Any]]] = []  # (SentTimestamp in seconds, detail)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            got = self._sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
            ).get("Messages", [])
            for message in got:
                sent = int(message["Attributes"]["SentTimestamp"]) / 1000
                self.arrivals.append((sent, json.loads(message["Body"])["detail"]))
                self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def close(self) -> None:
        """Stop receiving and remove the rule and the queue."""
        self._stop.set()
        self._thread.join()
        self._events.remove_targets(Rule=self.name, EventBusName=self.bus, Ids=["queue"])
        self._events.delete_rule(Name=self.name, EventBusName=self.bus)
        self._sqs.delete_queue(QueueUrl=self.url)


def _writes(accounts: list[str], rng: random.Random, count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """``count`` of (kind, account, body): credits and debits, and transfers between two of the accounts."""
    writes = []
    for i in range(count):
        account, currency = rng.choice(accounts), rng.choice(CURRENCIES)
        if i % 3 == 2:
            payee = rng.choice([a for a in accounts if a != account])
            body = {"transferId": f"x{i}", "toAccountId": payee, "amount": "1.00", "currency": currency}
            writes.append(("transfer", account, body))
        else:
            kind = rng.choice(["credit", "debit"])
            body = {"transactionId": f"t{i}", "type": kind, "amount": "1.00", "currency": currency}
            writes.append(("transaction", account, body))
    return writes


def _post(client: LedgerClient, writes: list[tuple[str, str, dict[str, Any]]]) -> dict[Key, list[float]]:
    """POST every write from ``CLIENTS`` threads; the time of each 201, per (account, currency) it moved."""
    answered: dict[Key, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def one(write: tuple[str, str, dict[str, Any]]) -> None:
        kind, account, body = write
        post = client.post_transfer if kind == "transfer" else client.post_transaction
        answer = post(account, body)
        at = time.time()
        if answer.status != 201:
            raise RuntimeError(f"{kind} {account} {json.dumps(body)}: {answer.status} {answer.text}")
        keys = [(account, body["currency"])] + ([(body["toAccountId"], body["currency"])] if kind == "transfer" else [])
        with lock:
            for key in keys:
                answered[key].append(at)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one, writes))
    return answered


@dataclass
class Committed:
    """What the ledger committed for the accounts: each summary's revision, the transactions the summaries
    count, and the changes the summary stream holds (one event each)."""

    revisions: dict[Key, int]
    transactions: int
    changes: int


def _committed(region: str, table: str, stream: StreamTail, accounts: list[str]) -> Committed:
    dynamodb = boto3.client("dynamodb", region_name=region)
    items = []
    for account in accounts:
        items += dynamodb.query(
            TableName=table,
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues={":a": {"S": account}},
            ConsistentRead=True,
        )["Items"]
    revisions = {key_of(item): stored_revision(item) or 0 for item in items}
    transactions = sum(int(item.get("transactionCount", {"N": "0"})["N"]) for item in items)
    return Committed(revisions, transactions, len(committed_changes(stream, accounts)))


@dataclass
class Followed:
    """What a consumer made of the events it received: its follower, and what it counted on the way."""

    follower: BalanceFollower
    received: int
    distinct: int
    missing: int

    def exact(self, committed: Committed) -> bool:
        """Whether the follower is at every summary's revision, with no revision missing from its chains,
        and received one event per committed change."""
        return (
            self.follower.revisions() == committed.revisions and not self.missing and self.distinct == committed.changes
        )


def follow(arrivals: list[tuple[float, dict[str, Any]]]) -> Followed:
    """Follow the received events in arrival order, as docs/events.md tells a consumer to."""
    follower = BalanceFollower()
    for _, detail in arrivals:
        follower.apply(detail)
    missing = sum(len(revisions) for revisions in follower.missing().values())
    return Followed(follower, len(arrivals), len({detail["eventId"] for _, detail in arrivals}), missing)


def lags(answered: dict[Key, list[float]], arrivals: list[tuple[float, dict[str, Any]]]) -> list[float]:
    """Per key, from the k-th 201 until an event whose transactionCount reaches k arrived (milliseconds)."""
    reached: dict[Key, list[tuple[float, int]]] = defaultdict(list)  # (time, highest count arrived by then)
    for sent, detail in sorted(arrivals, key=lambda arrival: arrival[0]):
        key, count = (detail["accountId"], detail["currency"]), int(detail["after"]["transactionCount"])
        highest = max(count, reached[key][-1][1]) if reached[key] else count
        reached[key].append((sent, highest))
    found = []
    for key, times in answered.items():
        counts = [count for _, count in reached[key]]
        for k, at in enumerate(sorted(times), start=1):
            index = bisect.bisect_left(counts, k)
            if index < len(counts):
                found.append(round((reached[key][index][0] - at) * 1000, 1))
    return found


def measure_feed(
    account: LocalAccount,
    outputs: dict[str, Any],
    spec: str,
    say: Callable[[str], None],
    sizes: EventSizes = EventSizes(),
) -> EventRun:
    """One load through the feed with the faults ``spec``, followed until the consumer is exact."""
    fault_plan.ACTIVE = fault_plan.Faults.parse(spec)
    account.mappings.stats.reset()
    run = EventRun(spec)
    accounts = [f"ev-{uuid.uuid4().hex[:6]}-{i:02d}" for i in range(sizes.accounts)]
    consumer = QueueConsumer(account.region, outputs["events"], accounts)
    try:
        client = LedgerClient(account.api_base(outputs), account.region)
        writes = _writes(accounts, random.Random(spec), sizes.writes)
        legs = sum(2 if kind == "transfer" else 1 for kind, _, _ in writes)  # the transactions the summaries count
        answered = _post(client, writes)
        run.writes = len(writes)
        ended, table = time.monotonic(), outputs["summary_table"]["name"]
        stream = StreamTail(
            boto3.client("dynamodbstreams", region_name=account.region), outputs["summary_table"]["stream_arn"]
        )
        committed = _committed(account.region, table, stream, accounts)
        while committed.transactions != legs or not follow(list(consumer.arrivals)).exact(committed):
            if time.monotonic() - ended > SETTLE_LIMIT:
                break
            time.sleep(0.5)  # polling interval of a measurement, not a synchronisation
            committed = _committed(account.region, table, stream, accounts)
        else:
            run.settle_seconds = time.monotonic() - ended
        followed = follow(list(consumer.arrivals))
        run.received, run.distinct, run.gaps = followed.received, followed.distinct, followed.missing
        run.changes = committed.changes
        run.consumer_exact = committed.transactions == legs and followed.exact(committed)
        run.lags_ms = lags(answered, consumer.arrivals)
    finally:
        consumer.close()
        fault_plan.ACTIVE = fault_plan.Faults()
    _count_enrichment(run, account, outputs)
    return run


def _count_enrichment(run: EventRun, account: LocalAccount, outputs: dict[str, Any]) -> None:
    stats = account.mappings.stats
    function = outputs["events"]["function_name"]
    run.enrichment_invocations, run.enrichment_ms = stats.calls[function], stats.milliseconds[function]
    lam: Any = boto3.client("lambda", region_name=account.region)
    run.enrichment_memory_mb = int(lam.get_function_configuration(FunctionName=function)["MemorySize"])


def measure_events(
    account: LocalAccount, stack: Stack, say: Callable[[str], None], sizes: EventSizes = EventSizes()
) -> EventFigures:
    """Apply the stack with events on (pattern 2) and measure the feed without faults, then with them."""
    fault_plan.ACTIVE = fault_plan.Faults()
    stack.variables.update({"guard": None, "events": {}, "buffer": {**UNGUARDED, "retired": False}})
    say("events on: terraform apply (pattern 2)")
    outputs = stack.apply(2)
    figures = EventFigures()
    for spec in ("", FAULTS):
        figures.runs.append(measure_feed(account, outputs, spec, say, sizes))
        say(_run_line(figures.runs[-1]))
    stack.variables["events"] = None
    return figures


def _run_line(run: EventRun) -> str:
    return (
        f"events, faults '{run.faults or 'none'}': {run.writes} writes, {run.changes} committed changes, "
        f"{run.events_per_change():.2f} events per change, {run.duplicates()} duplicates, {run.gaps} gaps, "
        f"consumer exact: {run.consumer_exact}; lag p50 {run.lag(0.5):.0f} ms, p99 {run.lag(0.99):.0f} ms"
    )


def from_json(saved: dict[str, Any]) -> EventFigures:
    """The figures as bench-report saved them in benchmark.json."""
    return EventFigures(runs=[EventRun(**r) for r in saved.get("runs", [])])


def main(argv: list[str] | None = None) -> int:
    """Measure the feed alone, on a fresh local account, and print the figures."""
    parser = argparse.ArgumentParser(description="the balance events' figures")
    parser.add_argument("--quick", action="store_true", help="a few writes over a few accounts")
    sizes = QUICK_EVENTS if parser.parse_args(argv).quick else EventSizes()
    figures = measure_alone("events", partial(measure_events, sizes=sizes))
    brief = [{k: v for k, v in asdict(r).items() if k != "lags_ms"} for r in figures.runs]
    print(json.dumps(brief, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
