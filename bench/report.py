"""The benchmark report: `make bench-report`. Not a test; it measures and writes reports/.

One run, on one local account with the same injected faults for each contender:

1. pattern 1 (the stream function writes summaries),
2. the naive baseline (bench/naive_aggregator.py deployed as the stream function:
   PutItem + UpdateItem per record, errors swallowed, as the public sample does),
3. pattern 2 (stream function -> SQS -> summary writer),

then patterns 1 and 2 again with crashes added to the same faults (``--crash``): a crashed
invocation cannot defer its messages, so only the visibility timeout brings them back; then the
balance guard's figures on the same stack (bench/guard.py; ``--no-guard`` skips them), then the
balance events' (bench/events.py; ``--no-events`` skips them), then a filtered listing's reads
(bench/listing.py; ``--no-listing`` skips them), then the history's: a month's statement against the client's
fold, and the closer's cost (bench/history.py; ``--no-history`` skips them), and last the holds': write units
per lifecycle and authorisations a second against guarded debits (bench/holds.py; ``--no-holds`` skips them).
Each pattern is applied once for the
contenders: those of pattern 1 run one after another on the stack as applied, then pattern 2's, each on
accounts of its own; the report lists them in the order above.

Each gets a burst of transactions posted through the API (signed POSTs from concurrent
clients, the way a user's services send them; all credits of 1.00, so that a summary's
balance counts the transactions it reflects), against a summary table held at a small
write capacity. The API's own throughput and latency during the burst are reported too:
the local account's figures, not AWS's. The report says, per contender: transactions lost
and double-counted, summary write units per 1,000 transactions, the time until
every summary is exact, peak iterator age (queue age for pattern 2), function
errors and timeouts; and it plots the summary lag over time. Absolute times on
this machine are noisy: the report quotes ratios and counts.

``--quick --out DIR`` (``make bench-report BENCH_QUICK=1 BENCH_OUT=DIR``, run by make test) runs every
contender, the guard's and the events' figures the same way on a few transactions, and writes the report in
DIR: it shows the report runs, not what it finds, so it is never written to reports/.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import shutil
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3

from bench.alone import say, stack_variables
from bench.events import QUICK_EVENTS, EventFigures, EventSizes, measure_events
from bench.events import from_json as events_from_json
from bench.guard import QUICK_GUARD, GuardFigures, GuardSizes, from_json, measure_guard
from bench.history import QUICK_HISTORY, HistoryFigures, HistorySizes, measure_history
from bench.history import from_json as history_from_json
from bench.holds import QUICK_HOLDS, HoldFigures, HoldSizes, measure_holds
from bench.holds import from_json as holds_from_json
from bench.listing import QUICK_LISTING, ListingFigures, ListingSizes, measure_listing
from bench.listing import from_json as listing_from_json
from bench.runs import Run
from harness.client import LedgerClient
from harness.load import post_concurrently
from harness.stack import ROOT, UNGUARDED, Stack
from ledger_aggregator.adapters.guard import queue_depth
from local_account import fault_plan, meter
from local_account.account import LocalAccount

# Contended: a summary table held to 15 units a second, slow writes, duplicates and reordering.
DEFAULT_FAULTS = "throttle=15wcu,latency=3ms,dup=0.3,reorder=0.5,seed=7"
DEFAULT_CRASH = "crash=0.1"
QUIET_SECONDS = 20
PRODUCT_HANDLER = "ledger_aggregator.handlers.stream.handler"
NAIVE_GRANT = "bench-naive-baseline"
SETTLE_LIMIT = 600
API_CLIENTS = 8
BACKDATED_SECONDS = 600
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
REPORTS = ROOT / "reports"
BURST, QUICK_BURST = (1000, 20), (40, 4)  # transactions and accounts of each contender's burst


class Contender:
    """One deployed variant under the burst."""

    def __init__(self, name: str, account: LocalAccount, outputs: dict[str, Any], counts_by: str) -> None:
        self.name = name
        self.account = account
        self.outputs = outputs
        self.counts_by = counts_by  # "transactionCount" (ours) or "balance" (the baseline keeps only a balance)
        self.dynamodb = boto3.client("dynamodb", region_name=account.region)

    def reflected(self, accounts: list[str]) -> dict[str, int]:
        """How many transactions each account's summary reflects now."""
        table = self.outputs["summary_table"]["name"]
        keys = [{"accountId": {"S": a}, "currency": {"S": "EUR"}} for a in accounts]  # every post is in EUR
        found: dict[str, int] = {}
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {table: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                response = self.dynamodb.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(table, []):
                    value = item.get(self.counts_by, {"N": "0"})["N"]
                    found[item["accountId"]["S"]] = int(Decimal(value))
                request = response.get("UnprocessedKeys") or {}
        return found

    def exact(self, posted: Counter[str]) -> bool:
        """Every summary reflects exactly what was posted to its account."""
        return self.reflected(list(posted)) == dict(posted)

    def buffered(self) -> int:
        """Messages in pattern 2's buffer queue, visible, in flight or delayed (0 in pattern 1)."""
        url = self.outputs.get("buffer_queue_url")
        if not url:
            return 0
        return queue_depth(boto3.client("sqs", region_name=self.account.region), url)

    def quiet(self, before: int) -> bool:
        """Nothing invoked since ``before`` and nothing waiting in the buffer queue."""
        return not self.buffered() and self.account.mappings.stats.invocations == before


def burst(contender: Contender, run: Run, accounts: int, posted: Counter[str]) -> None:
    """POST the transactions through the API, signed, from ``API_CLIENTS`` concurrent clients.

    Each carries an ``occurredAt`` up to ``BACKDATED_SECONDS`` in the past, in random order (clients that
    sync late), so that a summary's ``lastTransactionAt`` is offered older times than it holds. Every
    answer must be 201; each POST's latency is kept for the API section of the report.
    """
    label = re.sub(r"[^A-Za-z0-9_-]", "", contender.name)  # account ids are letters, digits, _ and -
    names = [f"{label}-{uuid.uuid4().hex[:6]}-{i:02d}" for i in range(accounts)]
    client = LedgerClient(contender.account.api_base(contender.outputs), contender.account.region)
    rng = random.Random(run.transactions)
    now = datetime.now(UTC)
    posts = [
        (
            names[i % accounts],
            {
                "transactionId": f"t{i}",
                "type": "credit",
                "amount": "1.00",
                "currency": "EUR",
                "occurredAt": (now - timedelta(seconds=rng.uniform(0, BACKDATED_SECONDS))).strftime(ISO_SECONDS),
            },
        )
        for i in range(run.transactions)
    ]

    def counted(account: str, milliseconds: float) -> None:
        posted[account] += 1
        run.api_latencies_ms.append(round(milliseconds, 2))

    run.api_clients = API_CLIENTS
    post_concurrently(client, posts, API_CLIENTS, counted)


def measure(contender: Contender, transactions: int, accounts: int, spec: str, say: Callable[[str], None]) -> Run:
    """Burst, sample the lag until exact (or quiet and still wrong), and collect the counters."""
    fault_plan.ACTIVE = fault_plan.Faults.parse(spec)
    stats = contender.account.mappings.stats
    stats.reset()
    meter.METER.reset()
    run = Run(contender.name, transactions, spec)
    posted: Counter[str] = Counter()
    started = time.monotonic()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            reflected = sum(contender.reflected(list(posted)).values()) if posted else 0
            run.samples.append((round(time.monotonic() - started, 2), sum(posted.values()), reflected))
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    burst(contender, run, accounts, posted)
    run.burst_seconds = time.monotonic() - started
    say(f"{contender.name}: {transactions} transactions posted in {run.burst_seconds:.1f} s; waiting for summaries")
    ended = time.monotonic()
    last_invocations, last_change = stats.invocations, time.monotonic()
    while time.monotonic() - ended < SETTLE_LIMIT:
        if contender.exact(posted):
            run.time_to_exact = time.monotonic() - ended
            break
        if stats.invocations != last_invocations:
            last_invocations, last_change = stats.invocations, time.monotonic()
        elif time.monotonic() - last_change > QUIET_SECONDS and contender.quiet(last_invocations):
            break  # nothing is happening any more, and the summaries are still wrong
        time.sleep(0.5)  # polling interval of a measurement, not a synchronisation
    done.set()
    sampler.join()
    run.drained = _drained(contender, ended)
    _collect(run, contender, posted)
    return run


def _drained(contender: Contender, ended: float) -> float | None:
    """Pattern 2: wait (bounded) until the buffer queue holds nothing, visible or in flight, so that the
    messages of crashed invocations come back and their time away is measured; seconds after the burst."""
    if not contender.outputs.get("buffer_queue_url"):
        return None
    while time.monotonic() - ended < SETTLE_LIMIT:
        if not contender.buffered():
            return time.monotonic() - ended
        time.sleep(0.5)  # polling interval of a measurement, not a synchronisation
    return None


def _collect(run: Run, contender: Contender, posted: Counter[str]) -> None:
    reflected = contender.reflected(list(posted))
    for account, count in posted.items():
        difference = reflected.get(account, 0) - count
        run.lost += max(0, -difference)
        run.double_counted += max(0, difference)
    stats = contender.account.mappings.stats
    run.write_units = dict(meter.METER.write_units)
    run.sqs_requests = dict(meter.METER.sqs_requests)
    run.invocations = dict(stats.calls)
    run.milliseconds = dict(stats.milliseconds)
    lam = boto3.client("lambda", region_name=contender.account.region)
    run.memory_mb = {f: int(lam.get_function_configuration(FunctionName=f)["MemorySize"]) for f in stats.calls}
    run.peak_stream_age, run.peak_queue_age = stats.peak_stream_age, stats.peak_queue_age
    run.function_errors, run.timeouts = stats.function_errors, stats.timeouts
    run.throttled = fault_plan.ACTIVE.throttled
    run.summary_wcu = fault_plan.ACTIVE.throttle_wcu
    run.committed_summary_writes = meter.METER.committed_writes["summary"]
    run.committed_summary_units = meter.METER.committed_units["summary"]
    run.refused_summary_writes = meter.METER.refused["summary"]
    run.given_up = _drain_given_up(contender)
    redelivered = stats.redeliveries
    run.redelivered_after_report, run.longest_after_report = redelivered.after_report, redelivered.longest_after_report
    run.redelivered_after_crash, run.longest_after_crash = redelivered.after_crash, redelivered.longest_after_crash
    url = contender.outputs.get("buffer_queue_url")
    if url:
        sqs = boto3.client("sqs", region_name=contender.account.region)
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
        run.visibility_timeout = int(attributes["VisibilityTimeout"])


def _drain_given_up(contender: Contender) -> int:
    """Records the stream mapping gave up to the stream DLQ during the run (the DLQ is emptied)."""
    sqs = boto3.client("sqs", region_name=contender.account.region)
    url = contender.outputs["stream_dlq_url"]
    records = 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            return records
        for message in got:
            info = json.loads(message["Body"]).get("DDBStreamBatchInfo") or {}
            records += int(info.get("batchSize", 0))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def swap_code(outputs: dict[str, Any], region: str, naive: bool) -> None:
    """Put the naive baseline (the bench's own zip) in the stream function, or the product back.

    Terraform restores the handler it manages but not code changed behind its back, so the
    bench puts the product's code back itself.
    """
    archive = io.BytesIO()
    if naive:
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.write(ROOT / "bench" / "naive_aggregator.py", "naive_aggregator.py")
    lam = boto3.client("lambda", region_name=region)
    name = outputs["stream_function_name"]
    code = archive.getvalue() if naive else (ROOT / "dist" / "lambda.zip").read_bytes()
    handler = "naive_aggregator.lambda_handler" if naive else PRODUCT_HANDLER
    lam.update_function_code(FunctionName=name, ZipFile=code)
    lam.update_function_configuration(FunctionName=name, Handler=handler)
    _grant_naive_puts(lam.get_function_configuration(FunctionName=name)["Role"], outputs, region, naive)


def _grant_naive_puts(role_arn: str, outputs: dict[str, Any], region: str, naive: bool) -> None:
    """The naive baseline puts summary items, which the stream function's role does not allow (the local
    account holds functions to their roles): grant it while the baseline runs, as its deployer would."""
    iam = boto3.client("iam", region_name=region)
    role = role_arn.rpartition("/")[2]
    if not naive:
        iam.delete_role_policy(RoleName=role, PolicyName=NAIVE_GRANT)
        return
    statement = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": outputs["summary_table"]["arn"]}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    iam.put_role_policy(RoleName=role, PolicyName=NAIVE_GRANT, PolicyDocument=json.dumps(document))


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="pattern 1, pattern 2 and the naive baseline under one burst")
    parser.add_argument("--transactions", type=int, help=f"per contender (default {BURST[0]})")
    parser.add_argument("--accounts", type=int, help=f"per contender (default {BURST[1]})")
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help="the injected faults, as for make demo")
    parser.add_argument(
        "--crash", default=DEFAULT_CRASH, help="added to --faults for the runs with crashes; '' for none"
    )
    parser.add_argument("--out", type=Path, help=f"the folder to write the report in (default: {REPORTS})")
    parser.add_argument("--render", action="store_true", help="only rewrite the report from <out>/benchmark.json")
    parser.add_argument("--no-guard", action="store_true", help="skip the balance guard's figures (bench/guard.py)")
    parser.add_argument("--no-events", action="store_true", help="skip the balance events' figures (bench/events.py)")
    parser.add_argument("--no-listing", action="store_true", help="skip the listing's reads (bench/listing.py)")
    parser.add_argument("--no-history", action="store_true", help="skip the statement and closer (bench/history.py)")
    parser.add_argument("--no-holds", action="store_true", help="skip the holds' figures (bench/holds.py)")
    parser.add_argument("--quick", action="store_true", help="a few transactions for each figure (needs --out)")
    args = parser.parse_args(argv)
    if args.quick and args.out is None:
        parser.error("--quick figures are not the report's: write them elsewhere (--out)")
    transactions, accounts = QUICK_BURST if args.quick else BURST
    args.transactions, args.accounts = args.transactions or transactions, args.accounts or accounts
    args.out = args.out or REPORTS
    return args


def render_saved(out: Path) -> int:
    """Rewrite the report from <out>/benchmark.json."""
    from bench.render import write_report

    saved = json.loads((out / "benchmark.json").read_text())
    runs = [Run(**{"faults": saved["faults"], **r}) for r in saved["runs"]]
    guard = from_json(saved["guard"]) if saved.get("guard") else None
    events = events_from_json(saved["events"]) if saved.get("events") else None
    listing = listing_from_json(saved["listing"]) if saved.get("listing") else None
    history = history_from_json(saved["history"]) if saved.get("history") else None
    holds = holds_from_json(saved["holds"]) if saved.get("holds") else None
    print(write_report(runs, out, guard, events, listing, history=history, holds=holds))
    return 0


def run_contenders(
    contenders: list[tuple[str, int, bool, str]],
    account: LocalAccount,
    stack: Stack,
    args: argparse.Namespace,
    say: Callable[[str], None],
) -> list[Run]:
    """Measure each contender (name, pattern, naive, faults), in the order given.

    One apply per pattern: a pattern's contenders run one after another on the stack as applied, each on
    accounts of its own."""
    runs: list[Run] = []
    applied: int | None = None
    for name, pattern, naive, spec in sorted(contenders, key=lambda contender: contender[1]):
        fault_plan.ACTIVE = fault_plan.Faults()
        if pattern != applied:
            say(f"{name}: terraform apply (pattern {pattern})")
            # Pattern 1 runs without a buffer: after pattern 2 it would keep one, draining (nothing here).
            stack.variables["buffer"] = {**UNGUARDED, "retired": pattern == 1}
            outputs, applied = stack.apply(pattern), pattern
        else:
            say(f"{name}: the stack as applied (pattern {pattern})")
        if naive:
            swap_code(outputs, account.region, naive=True)
        contender = Contender(name, account, outputs, "balance" if naive else "transactionCount")
        runs.append(measure(contender, args.transactions, args.accounts, spec, say))
        say(_headline(runs[-1]))
        if naive:
            swap_code(outputs, account.region, naive=False)
    names = [contender[0] for contender in contenders]
    return sorted(runs, key=lambda run: names.index(run.name))


def main(argv: list[str] | None = None) -> int:
    """Run the contenders (and the guard's figures) and write the report."""
    args = _arguments(argv)
    if args.render:
        return render_saved(args.out)
    crashing = ",".join(filter(None, [args.faults, args.crash]))
    fault_plan.Faults.parse(crashing)  # a bad spec fails before anything starts
    contenders = [
        ("pattern 1", 1, False, args.faults),
        ("naive", 1, True, args.faults),
        ("pattern 2", 2, False, args.faults),
    ]
    if args.crash:
        contenders += [("pattern 1, crashes", 1, False, crashing), ("pattern 2, crashes", 2, False, crashing)]

    work = ROOT / ".cache" / "bench-report"
    shutil.rmtree(work, ignore_errors=True)  # a fresh local account each run: no earlier state applies
    say("starting the local account")
    account = LocalAccount(work / "logs").start()
    stack = Stack(work / "stack", stack_variables("bench"))
    runs: list[Run] = []
    guard: GuardFigures | None = None
    events: EventFigures | None = None
    listing: ListingFigures | None = None
    history: HistoryFigures | None = None
    holds: HoldFigures | None = None
    try:
        stack.init()
        runs = run_contenders(contenders, account, stack, args, say)
        if not args.no_guard:
            guard = measure_guard(account, stack, say, QUICK_GUARD if args.quick else GuardSizes())
        if not args.no_events:
            events = measure_events(account, stack, say, QUICK_EVENTS if args.quick else EventSizes())
        if not args.no_listing:
            listing = measure_listing(account, stack, say, QUICK_LISTING if args.quick else ListingSizes())
        if not args.no_history:
            history = measure_history(account, stack, say, QUICK_HISTORY if args.quick else HistorySizes())
        if not args.no_holds:  # last: it leaves the guard on with holds
            holds = measure_holds(account, stack, say, QUICK_HOLDS if args.quick else HoldSizes())
    finally:
        say("terraform destroy")
        fault_plan.ACTIVE = fault_plan.Faults()
        stack.destroy()
        account.stop()
    from bench.render import write_report  # matplotlib is imported only to draw

    path = write_report(runs, args.out, guard, events, listing, history=history, holds=holds)
    saved = {
        "faults": args.faults,
        "crash": args.crash,
        "runs": [asdict(r) for r in runs],
        "guard": asdict(guard) if guard else None,
        "events": asdict(events) if events else None,
        "listing": asdict(listing) if listing else None,
        "history": asdict(history) if history else None,
        "holds": asdict(holds) if holds else None,
    }
    (args.out / "benchmark.json").write_text(json.dumps(saved, indent=1) + "\n")
    say(f"report written: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


def _headline(run: Run) -> str:
    exact = f"exact {run.time_to_exact:.1f} s after the burst" if run.time_to_exact is not None else "never exact"
    return (
        f"{run.name}: {exact}; missing {run.lost} (given up to the DLQ: {run.given_up}), "
        f"double-counted {run.double_counted}; "
        f"summary write units per 1,000: {run.per_thousand(run.write_units.get('summary', 0)):.0f}; "
        f"errors {run.function_errors}, timeouts {run.timeouts}, throttled {run.throttled}; "
        f"redelivered after a reported failure {run.redelivered_after_report} (longest away "
        f"{run.longest_after_report:.1f} s), after a crash {run.redelivered_after_crash} "
        f"(longest away {run.longest_after_crash:.1f} s)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
