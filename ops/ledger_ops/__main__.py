"""Operator's tools for the ledger.

  ledger-ops reconcile [--account ID | --global]
  ledger-ops rebuild   [--account ID] [--settle SECONDS]
  ledger-ops guard init [--settle-seconds N]
  ledger-ops holds expire
  ledger-ops events resync [--account ID]
  ledger-ops dlq inspect
  ledger-ops dlq replay [--queue stream|buffer]
  ledger-ops preflight
  ledger-ops close [--account ID]
  ledger-ops statement --account ID --currency CODE (--month YYYY-MM | --from DAY --to DAY)
  ledger-ops balance-at --account ID --currency CODE --at (EPOCH_MS | ISO-8601 UTC)

The stack is found in .sandbox/outputs.json when a local sandbox is up (or the file
given with --outputs), else in `terraform output` of the current folder; credentials
and region come from the usual AWS environment. Exit codes: 0 all well, 1 differences
found (closes included), a stored close that differs, a day asked about but not yet closed, or work
left undone, 2 usage or refused (rebuild while pattern 2's buffer queue or its DLQ
holds deltas; preflight while the buffer could not be retired; guard init on a stack without the guard,
while an apply switches it, on hold rows no request could write, or while holds are open on a stage without
holds; holds expire on a stack without holds; events resync on a stack without balance
events).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
from tqdm import tqdm

from ledger_aggregator.adapters.dynamodb import DynamoSummaryStore
from ledger_aggregator.adapters.guard import buffer_state, queue_depth
from ledger_aggregator.adapters.holds import HoldTables, sweep
from ledger_aggregator.adapters.sqs import SqsPoisonSink
from ledger_aggregator.codec import POISON_KIND
from ledger_aggregator.config import DEFAULT_MARKER_TTL_SECONDS
from ledger_aggregator.currencies import minor_units
from ledger_aggregator.domain import hold_problems, open_holds
from ledger_aggregator.history import keys_of
from ledger_aggregator.items import HOLD_INDEX
from ledger_aggregator.retirement import removal_refusal

from .clock import ServerClock
from .dlq import Replayer, held
from .events import resync_command
from .guard import (
    SETTLE_SECONDS,
    EpochChangedError,
    GuardOffError,
    GuardState,
    InconsistentHoldsError,
    Initialised,
    OpenHoldsError,
    Reads,
    balance_differences,
    initialise,
)
from .history import (
    history_store,
    last_sealed,
    parse_day,
    parse_instant,
    parse_month,
    print_balance_at,
    print_statement,
    run_close,
    snapshot_differences,
)
from .rebuild import DEFAULT_SETTLE_SECONDS, Rebuilder, Rebuilt
from .reconcile import Progress, describe_totals, items_of, reconcile, reconcile_global, summary_differences
from .stage import ApiStage
from .streams import IncompleteRangeError, StreamTail


def stack_outputs(path: str | None) -> dict[str, Any]:
    """Terraform outputs of the stack, from a running local account's outputs file (make sandbox) or terraform."""
    candidate = Path(path) if path else Path(".sandbox/outputs.json")
    if candidate.exists():
        saved = json.loads(candidate.read_text())
        os.environ.update(AWS_REGION=saved["region"], AWS_DEFAULT_REGION=saved["region"])
        if saved.get("awsEndpointUrl"):  # a local account; a file saved from a real account has none
            os.environ["AWS_ENDPOINT_URL"] = saved["awsEndpointUrl"]
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        return dict(saved["terraform"])
    if path:
        raise SystemExit(f"ops: {path} does not exist")
    done = subprocess.run(["terraform", "output", "-json"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ops: no local account's outputs file and `terraform output` failed: {done.stderr.strip()}")
    return {name: value["value"] for name, value in json.loads(done.stdout).items()}


class Ops:
    """The commands, bound to one deployed stack."""

    def __init__(self, outputs: dict[str, Any], quiet: bool = False) -> None:
        self.outputs = outputs
        self.quiet = quiet
        self.dynamodb = boto3.client("dynamodb")
        self.clock = ServerClock(self.dynamodb)  # the time a summary item created here starts its revision from
        self.tables = {k: outputs[f"{k}_table"]["name"] for k in ("details", "summary", "applied", "history")}
        self.stage = ApiStage(boto3.client("apigateway"), outputs["rest_api_id"], outputs["stage_name"])

    def bar(self, label: str, table: str | None = None) -> tuple[Progress, Callable[[], None]]:
        """A progress bar on stderr, sized by the table's (approximate) item count when given."""
        total = None
        if table:
            total = self.dynamodb.describe_table(TableName=table)["Table"].get("ItemCount") or None
        progress = tqdm(desc=label, total=total, unit=" items", file=sys.stderr, disable=self.quiet, leave=False)

        def tick(count: int) -> None:
            progress.update(count)

        return tick, progress.close

    def reconcile(self, account: str | None) -> int:
        """Print every difference of a summary, and with the guard on of a balance item; 1 when there is any."""
        guard = self.stage.read()
        tick, close = self.bar("reconcile: scanning", self.tables["details"])
        rows = items_of(self.dynamodb, self.tables["details"], account, tick)  # read once, for both checks
        found = summary_differences(rows, items_of(self.dynamodb, self.tables["summary"], account, tick))
        balances = self._balance_differences(guard, rows, account, tick)
        snapshots = snapshot_differences(rows, items_of(self.dynamodb, self.tables["history"], account, tick))
        close()
        for difference in found:
            print(difference.describe())
        print(f"{len(found)} difference(s)")
        wrong_holds = [
            f"{'/'.join(key)}: {problem}" for key, problems in hold_problems(rows).items() for problem in problems
        ]
        if not guard.holds:  # holds open where the stage serves none: nothing keeps their funds reserved
            wrong_holds += [
                f"{'/'.join(key)}: hold {hold_id} is open, and the stage serves no holds"
                for key, ids in open_holds(rows).items()
                for hold_id in ids
            ]
        for problem in wrong_holds:
            print(problem)
        print(f"{len(wrong_holds)} hold problem(s) (rows no request could write, or holds open without holds)")
        for problem in snapshots:
            print(problem)
        print(f"{len(snapshots)} close difference(s)")
        if guard.on:  # the guard's items of its epoch, against the same rows
            for wrong in balances:
                print(wrong.describe())
            print(f"{len(balances)} balance item difference(s) (epoch {guard.epoch})")
        return 1 if found or balances or snapshots or wrong_holds else 0

    def _balance_differences(
        self, guard: GuardState, rows: list[dict[str, Any]], account: str | None, tick: Progress
    ) -> list[Any]:
        if guard.balances is None or guard.epoch is None:
            return []
        items = items_of(self.dynamodb, guard.balances, account, tick)
        return balance_differences(rows, items, guard.epoch, holds=guard.holds)

    def now_ms(self) -> int:
        """DynamoDB's time (or the local clock when they agree), in epoch milliseconds."""
        return int(self.clock() * 1000)

    def close(self, account: str | None) -> int:
        """Write every missing day and month close up to the last sealed day; 1 when a stored close differs."""
        store = history_store(self.dynamodb, self.outputs, self.now_ms)
        keys = None
        if account:
            keys = keys_of(items_of(self.dynamodb, self.tables["details"], account))
        self.dynamodb.describe_table(TableName=self.tables["history"])  # so that the clock has heard DynamoDB's
        through = last_sealed(self.outputs, self.now_ms())
        progress = tqdm(desc="close", unit=" keys", file=sys.stderr, disable=self.quiet, leave=False)
        _, code = run_close(store, through, keys, _ticker(progress))
        progress.close()
        return code

    def statement(self, account: str, currency: str, first: date, last: date) -> int:
        """Print a statement of closed days; 1 when one of them is not closed."""
        store = history_store(self.dynamodb, self.outputs, self.now_ms)
        store.last_day((account, currency))  # a read first, so that the clock has heard DynamoDB's
        sealed = last_sealed(self.outputs, self.now_ms())
        return print_statement(store, (account, currency), first, last, sealed)

    def balance_at(self, account: str, currency: str, instant_ms: int) -> int:
        """Print the balance at an instant; 1 when the ledger cannot answer it yet."""
        store = history_store(self.dynamodb, self.outputs, self.now_ms)
        seal_ms = int(self.outputs["history"]["seal_seconds"]) * 1000
        store.last_day((account, currency))  # a read first, so that the clock has heard DynamoDB's
        return print_balance_at(store, (account, currency), instant_ms, self.now_ms(), seal_ms)

    def guard_init(self, settle: float) -> int:
        """Seed the guard's balance items for the stage's epoch; 2 when the guard is off or switched meanwhile."""
        reads = Reads(rows=self._rows, items=self._items, now=lambda: datetime.now(UTC), wait=self._settle)
        try:
            done = initialise(self.dynamodb, self.stage, reads, settle)
        except (GuardOffError, EpochChangedError, InconsistentHoldsError, OpenHoldsError) as refused:
            print(f"guard init: refused: {refused}; nothing was marked initialised", file=sys.stderr)
            return 2
        self._initialised(done)
        return 0

    def holds_expire(self) -> int:
        """Release every open hold expired by DynamoDB's clock, as the sweeper does; 2 on a stack without holds, 1
        when some expired holds are left (a balance not counted in the guard's epoch, a conflict, an item that is
        not an open hold)."""
        state = self.stage.read()
        if not state.holds or state.epoch is None or state.balances is None or state.holds_table is None:
            print(
                "holds expire: refused: this stack's API serves no holds (set guard.holds and apply first); "
                "nothing was released",
                file=sys.stderr,
            )
            return 2
        tables = HoldTables(self.tables["details"], state.holds_table, HOLD_INDEX, state.balances)
        self.dynamodb.describe_table(TableName=state.holds_table)  # so that the clock has heard DynamoDB's
        now = self.now_ms()
        tick, close = self.bar("holds expire: releasing")
        try:
            request = f"ledger-ops-{uuid.uuid4()}"
            swept = sweep(self.dynamodb, tables, now, epoch=state.epoch, request_id=request, progress=tick)
        finally:
            close()
        expired_by = datetime.fromtimestamp(now / 1000, tz=UTC).isoformat(timespec="milliseconds")
        print(f"holds expire: epoch {state.epoch}, holds expired by {expired_by}: {swept.describe()}")
        for problem in swept.unreadable:
            print(f"holds expire: passed over: {problem}")
        return 1 if swept.left or swept.unreadable else 0

    def _rows(self) -> list[dict[str, Any]]:
        tick, close = self.bar("guard init: reading the rows", self.tables["details"])
        try:
            return items_of(self.dynamodb, self.tables["details"], progress=tick)
        finally:
            close()

    def _items(self, balances: str) -> list[dict[str, Any]]:
        return items_of(self.dynamodb, balances)

    def _settle(self, seconds: float) -> None:
        """Wait, saying why: requests served before the epoch may still write rows it does not count."""
        if seconds <= 0:
            return
        print(
            f"guard init: waiting {seconds:.0f} s until the guard's epoch has served for the settle time "
            "(requests served before it may still write rows)",
            file=sys.stderr,
        )
        time.sleep(seconds)

    @staticmethod
    def _initialised(done: Initialised) -> None:
        first, late = done.first, done.stragglers
        print(
            f"guard init: epoch {done.epoch}: {first.seeded + late.seeded} balance item(s) seeded, "
            f"{first.carried + late.carried} carried from an earlier epoch (limits kept), {first.already} already "
            "seeded; the epoch is marked initialised on the stage (a first credit now creates its item seeded)"
        )

    def conservation(self) -> int:
        """Check that, per currency, every account's balances sum to the standalone rows; 1 when not."""
        tick, close = self.bar("reconcile --global: scanning", self.tables["details"])
        found = reconcile_global(self.dynamodb, self.tables["details"], self.tables["summary"], tick)
        close()
        for imbalance in found:
            print(imbalance.describe())
        print(f"{len(found)} currenc{'y' if len(found) == 1 else 'ies'} out of balance")
        return 1 if found else 0

    def exact(self) -> bool:
        """True when reconcile finds no difference."""
        return not reconcile(self.dynamodb, self.tables["details"], self.tables["summary"])

    def rebuild(self, account: str | None, settle: float) -> int:
        """Rewrite the summaries that differ; 1 when some account could not be settled, 2 when refused."""
        tick, close = self.bar("rebuild: reading", self.tables["details"])
        stream_tail = StreamTail(boto3.client("dynamodbstreams"), self.outputs["details_stream_arn"], tick)
        rebuilder = Rebuilder(
            self.dynamodb, stream_tail, self.tables, settle, tick, guard=self._deltas_waiting, clock=self.clock
        )
        try:
            results = rebuilder.run(account, report=self._rebuilt)
        except IncompleteRangeError as error:
            print(f"rebuild: refused: the stream could not be read to its end ({error}); try again", file=sys.stderr)
            return 2
        finally:
            close()
        if rebuilder.refusal:
            print(
                f"rebuild: refused: {rebuilder.refusal}. Let the writer drain the buffer queue and replay its DLQ "
                "(dlq replay --queue buffer) first: rebuild takes a delta older than the stream's 24-hour "
                "retention as applied, so one applied afterwards would count twice.",
                file=sys.stderr,
            )
            done = sum(r.status == "rewritten" for r in results)
            print(f"{len(results)} summaries: {done} rewritten before the refusal, the rest left as they were")
            return 2
        left = [r for r in results if r.status in ("busy", "unsettled")]
        for result in left:
            self._rebuilt(result)
        rewritten = sum(r.status == "rewritten" for r in results)
        print(f"{len(results)} summaries: {rewritten} rewritten, {len(left)} left to try again")
        return 1 if left else 0

    def _deltas_waiting(self) -> str | None:
        """Why a rebuild must not write now: deltas waiting in pattern 2's buffer queue or its DLQ.

        A poison record in the buffer DLQ (parked there by versions before the writer parked in the stream
        DLQ) is never applied, so it does not hold a rebuild back; a message that cannot be seen does.
        """
        sqs = boto3.client("sqs")
        queue, dlq = self.outputs.get("buffer_queue_url"), self.outputs.get("buffer_dlq_url")
        waiting = queue_depth(sqs, queue) if queue else 0
        if waiting:
            return f"the buffer queue holds {waiting} message(s)"
        if not dlq or not queue_depth(sqs, dlq):
            return None
        with held(sqs, "buffer", dlq, seconds=30) as holding:
            deltas = sum(e.kind != POISON_KIND for e in holding.entries) + holding.unseen
        return f"the buffer DLQ holds {deltas} message(s) that may be applied" if deltas else None

    @staticmethod
    def _rebuilt(result: Rebuilt) -> None:
        if result.status == "unchanged":
            return
        note = f", {result.in_flight} record(s) in flight" if result.in_flight else ""
        before = describe_totals(result.before) if result.before else "no summary"
        after = describe_totals(result.after) if result.after else "unchanged"
        print(f"{result.label}: {result.status} (was {before}; now {after}{note})")

    def preflight(self) -> int:
        """Ask what the writer's removal guard will ask before buffer.retired removes the buffer; 2 when refused."""
        queues = [self.outputs.get("buffer_queue_url"), self.outputs.get("buffer_dlq_url")]
        if not all(queues):
            print("preflight: this stack has no buffer: nothing to retire")
            return 0
        state = buffer_state(
            boto3.client("sqs"), boto3.client("lambda"), [str(q) for q in queues], self.outputs["stream_function_name"]
        )
        refusal = removal_refusal(state)
        if refusal:
            print(f"preflight: the buffer cannot be retired now: {refusal}", file=sys.stderr)
            return 2
        print("preflight: the buffer can be retired: both queues are empty and the stream function no longer publishes")
        return 0

    def queues(self, which: str | None) -> list[tuple[str, str]]:
        """The DLQs of the stack as (name, url), optionally only one of them."""
        named = [("stream", self.outputs.get("stream_dlq_url")), ("buffer", self.outputs.get("buffer_dlq_url"))]
        return [(n, u) for n, u in named if u and (which is None or which == n)]

    def inspect(self) -> int:
        """List what each DLQ holds and why; 1 when the queue counted messages no receive returned."""
        sqs = boto3.client("sqs")
        unseen = 0
        for name, url in self.queues(None):
            with held(sqs, name, url, seconds=30) as holding:
                print(f"{name} DLQ: {len(holding.entries)} message(s)")
                for entry in holding.entries:
                    print(f"  {entry.kind:15} {entry.summary}")
                unseen += holding.unseen
                if holding.unseen:
                    print(
                        f"  {holding.unseen} more counted by the queue but not received (in flight to another "
                        "reader, delayed, or missed): run again"
                    )
        return 1 if unseen else 0

    def replay(self, which: str | None) -> int:
        """Re-drive what can be re-driven; 1 when something other than poison was kept."""
        sqs = boto3.client("sqs")
        ttl = int(self.outputs.get("marker_ttl_seconds") or DEFAULT_MARKER_TTL_SECONDS)
        store = DynamoSummaryStore(self.dynamodb, self.tables["summary"], self.tables["applied"], ttl, clock=self.clock)
        poison = SqsPoisonSink(sqs, self.outputs["stream_dlq_url"])
        streams = boto3.client("dynamodbstreams")
        replayer = Replayer(sqs, streams, store, poison, self.exact, marker_ttl_seconds=ttl)
        kept = replayed = unseen = 0
        for name, url in self.queues(which):
            with held(sqs, name, url) as holding:
                unseen += holding.unseen
                for entry in tqdm(holding.entries, desc=f"replay {name}", file=sys.stderr, disable=self.quiet):
                    result = replayer.replay(url, entry)
                    if result.status == "applied":
                        holding.deleted.add(entry.message_id)
                    kept += result.status == "kept"
                    replayed += result.status == "applied"
                    print(f"{name} {entry.kind} {entry.summary}: {result.status} ({result.detail})")
        note = f", {unseen} counted by the queue but not received (run again)" if unseen else ""
        print(f"{replayed} message(s) replayed, {kept} kept{note}")
        return 1 if kept or unseen else 0


def _ticker(progress: Any) -> Callable[[Any], None]:
    def tick(_: Any) -> None:
        progress.update()

    return tick


def seconds_within(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number of seconds from ``low`` to ``high``."""

    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}-{high:g} seconds")
        return value

    return seconds


def _argument(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parsed(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parsed


day = _argument(parse_day)
instant = _argument(parse_instant)


month_days = _argument(parse_month)


def currency_code(text: str) -> str:
    """An argparse type: an active ISO 4217 code, as the ledger knows them."""
    if text not in minor_units():
        raise argparse.ArgumentTypeError(f"{text!r} is not an active ISO 4217 currency code (currencies.json)")
    return text


# rebuild --settle: less than 1 s leaves a fresh row's record unseen (the stream publishes within seconds).
settle_seconds = seconds_within(1, 300)


def _history_commands(commands: Any) -> None:
    """The parsers of close, statement and balance-at."""
    closer = commands.add_parser(
        "close", help="write the day and month closes up to the last sealed day (safe while writing)"
    )
    closer.add_argument("--account", help="only this account's currencies")
    stated = commands.add_parser("statement", help="a statement of closed days: opening, lines, totals, closing")
    stated.add_argument("--account", required=True)
    stated.add_argument("--currency", type=currency_code, required=True)
    period = stated.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", type=month_days, help="a calendar month, YYYY-MM")
    period.add_argument("--from", dest="first", type=day, help="the first day, YYYY-MM-DD (with --to)")
    stated.add_argument("--to", dest="last", type=day, help="the last day, YYYY-MM-DD")
    at = commands.add_parser("balance-at", help="the balance at an instant: the day before's close plus its day's rows")
    at.add_argument("--account", required=True)
    at.add_argument("--currency", type=currency_code, required=True)
    at.add_argument(
        "--at", dest="instant", type=instant, required=True, help="epoch milliseconds or an ISO-8601 UTC time"
    )


def _parser() -> argparse.ArgumentParser:
    """Every command's parser."""
    parser = argparse.ArgumentParser(prog="ledger-ops", description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", help="a sandbox outputs.json (default: .sandbox/outputs.json if present)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("reconcile", help="recompute summaries from the details table and show differences")
    scope = check.add_mutually_exclusive_group()
    scope.add_argument("--account", help="only this account")
    scope.add_argument(
        "--global",
        dest="whole_ledger",
        action="store_true",
        help="check conservation: per currency, the balances of all accounts sum to standalone credits - debits",
    )
    fix = commands.add_parser("rebuild", help="rewrite summaries from the details table (safe while streaming)")
    fix.add_argument("--account", help="only this account")
    fix.add_argument(
        "--settle", type=settle_seconds, default=DEFAULT_SETTLE_SECONDS, help="stream publication lag to wait (1-300 s)"
    )
    dlq = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="action", required=True)
    dlq.add_parser("inspect", help="show what is in each DLQ and why")
    redo = dlq.add_parser("replay", help="re-drive given-up batches and buffered deltas")
    redo.add_argument("--queue", choices=["stream", "buffer"], help="only this DLQ")
    commands.add_parser("preflight", help="whether the writer's guard would let buffer.retired remove the buffer now")
    guard = commands.add_parser("guard", help="the balance guard").add_subparsers(dest="action", required=True)
    init = guard.add_parser(
        "init", help="seed the balance items of the guard's epoch from every row outside it (safe while writing)"
    )
    init.add_argument(
        "--settle-seconds",
        type=seconds_within(0, 600),
        default=SETTLE_SECONDS,
        help=f"how long the epoch must have served before the rows are read (0-600 s, default {SETTLE_SECONDS:.0f})",
    )
    holds = commands.add_parser("holds", help="holds").add_subparsers(dest="action", required=True)
    holds.add_parser("expire", help="release every open hold past its expiry now, as the scheduled sweeper does")
    feed = commands.add_parser("events", help="the balance events").add_subparsers(dest="action", required=True)
    restate = feed.add_parser("resync", help="publish every summary's current state as a resync event")
    restate.add_argument("--account", help="only this account")
    _history_commands(commands)
    return parser


def _history(ops: Ops, args: argparse.Namespace) -> int:
    if args.command == "close":
        return ops.close(args.account)
    if args.command == "statement":
        first, last = args.month if args.month else (args.first, args.last)
        return ops.statement(args.account, args.currency, first, last)
    return ops.balance_at(args.account, args.currency, args.instant)


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module's documentation for the exit codes."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "statement" and args.first is not None and (args.last is None or args.last < args.first):
        parser.error("statement --from needs --to, on or after it")
    if args.command == "statement" and args.month is not None and args.last is not None:
        parser.error("statement --month takes no --to")
    ops = Ops(stack_outputs(args.outputs), args.quiet)
    if args.command == "events":
        return resync_command(ops.outputs, ops.dynamodb, args.account, ops.bar)
    if args.command == "reconcile":
        return ops.conservation() if args.whole_ledger else ops.reconcile(args.account)
    if args.command == "rebuild":
        return ops.rebuild(args.account, args.settle)
    if args.command in ("close", "statement", "balance-at"):
        return _history(ops, args)
    return _maintenance(ops, args)


def _maintenance(ops: Ops, args: argparse.Namespace) -> int:
    if args.command == "preflight":
        return ops.preflight()
    if args.command == "guard":
        return ops.guard_init(args.settle_seconds)
    if args.command == "holds":
        return ops.holds_expire()
    return ops.inspect() if args.action == "inspect" else ops.replay(args.queue)


if __name__ == "__main__":
    sys.exit(main())
