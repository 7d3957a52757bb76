"""The local account's speed from one run: `make bench-sandbox`. Prints figures, records them; gates nothing.

This working tree is measured and its figures are kept in ``reports/bench-sandbox.json`` (quoted in
docs/local-account.md by ``make docs``), with the machine's speed on a fixed Python loop (``tools/machine.py``), so
that a change which slows the local account shows in its own diff. With ``--baseline REV``, that
revision is measured first ("before"), checked out into a git worktree and run with its own code, and
the two are printed side by side. Both are driven by the same load client (signed
POSTs over kept-alive connections, credentials resolved once, as an SDK client does), so
the figures compare the servers. They are this machine's and the local account's, not AWS's.

For each side:
  * ``make sandbox`` PATTERN=2 started as a user starts it, and the time its apply took;
  * a warm-up of 400 signed POSTs from 8 threads and 100 GETs, not measured;
  * GETs of a summary (median), once the warm-up's writes are folded: the latency of a GET, not of a
    GET queued behind the projection's backlog;
  * signed POSTs of one credit each from 1 client thread (median latency) and from 8
    (requests per second, p50 and p99), and from the same 8 threads the UpdateItem that the POST's
    template renders, sent straight to moto's server: the gateway's rate over that one does not depend
    on the machine's speed (issue: at least 0.7);
  * SQS receive + delete + send of 10 at queue depths 10, 2,000 and 6,000 (5 rounds, or as many
    as fit in about 30 s, at least one).
And, for this tree only, the handlers' cold import against boto3's (tracing off and on).

``--quick --out DIR`` (``make bench-sandbox BENCH_QUICK=1 BENCH_OUT=DIR``, run by make test) measures every
figure the same way with a few requests each and two small queue depths, and records them in DIR: it shows
the benchmark runs, not the local account's speed, so it is never recorded in reports/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.aggregator import IMPORT_ROUNDS
from harness.load import percentile, post_concurrently
from harness.running import wait_until_up
from tools.machine import python_loop_seconds

ROOT = Path(__file__).resolve().parents[1]
WORKTREE = ROOT / ".cache" / "bench-baseline"
REPORTS = ROOT / "reports"
RECORD_NAME = "bench-sandbox.json"
UP_LIMIT_SECONDS = 300


@dataclass(frozen=True)
class Sizes:
    """How many requests each figure takes: the recorded run's, or ``--quick``'s (the same code on less)."""

    # Requests sent before anything is measured: the renderer's JVM compiles its hot paths over the first
    # few hundred renders, and the figures are of the local account as the tests use it, warm.
    warm_up_posts: int = 400  # from 8 threads
    warm_up_gets: int = 100
    gets: int = 200
    one_thread_posts: int = 100
    eight_thread_posts: int = 50  # per thread, and as many direct UpdateItems
    sqs_depths: tuple[int, ...] = (10, 2000, 6000)
    sqs_rounds: int = 5
    import_rounds: int = IMPORT_ROUNDS


FULL = Sizes()
QUICK = Sizes(
    warm_up_posts=16,
    warm_up_gets=4,
    gets=10,
    one_thread_posts=5,
    eight_thread_posts=2,
    sqs_depths=(10, 20),
    sqs_rounds=1,
    import_rounds=1,
)

SQS_PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[1]); depths, most_rounds = json.loads(sys.argv[2]), int(sys.argv[3])
import boto3
from botocore.config import Config
try:
    from local_account import moto_server
except ModuleNotFoundError:  # a baseline from before the local account was a package of its own
    from sandbox import emulator as moto_server
server, url = moto_server.start()
config = Config(retries={"max_attempts": 1}, read_timeout=600)  # a slow answer is the figure, not a retry
sqs = boto3.client("sqs", endpoint_url=url, region_name="eu-west-1", aws_access_key_id="x",
                   aws_secret_access_key="x", config=config)
batch = [{"Id": str(i), "MessageBody": "x"} for i in range(10)]
figures = {}
for depth in depths:
    queue = sqs.create_queue(QueueName=f"depth-{depth}")["QueueUrl"]
    for _ in range(0, depth, 10):
        sqs.send_message_batch(QueueUrl=queue, Entries=batch)
    started, rounds = time.perf_counter(), 0
    while rounds < most_rounds and (rounds == 0 or time.perf_counter() - started < 30):  # at most ~30 s a depth
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
        sqs.send_message_batch(QueueUrl=queue, Entries=batch)
        rounds += 1
    figures[depth] = (time.perf_counter() - started) / rounds * 1000
server.stop()
print(json.dumps(figures))
"""


@dataclass
class Side:
    """What one tree's local account measured."""

    name: str
    apply_seconds: float = 0.0
    one_thread_median_ms: float = 0.0
    one_thread_per_s: float = 0.0
    eight_threads_per_s: float = 0.0
    eight_threads_p50_ms: float = 0.0
    eight_threads_p99_ms: float = 0.0
    get_median_ms: float = 0.0
    direct_updates_per_s: float = 0.0
    sqs_cycle_ms: dict[str, float] = field(default_factory=dict)

    @property
    def gateway_over_direct(self) -> float:
        """Signed POSTs a second through the gateway over UpdateItem calls a second straight to moto's server."""
        return self.eight_threads_per_s / self.direct_updates_per_s if self.direct_updates_per_s else 0.0


def load(base_url: str, region: str, threads: int, per_thread: int, prefix: str) -> tuple[float, list[float]]:
    """Signed POSTs of one credit each from ``threads`` clients, ``per_thread`` to each of ``threads`` accounts."""
    from harness.client import LedgerClient

    posts = [
        (f"{prefix}-{i % threads}", {"type": "credit", "amount": "1.00", "currency": "EUR"})
        for i in range(threads * per_thread)
    ]
    return post_concurrently(LedgerClient(base_url, region), posts, threads)


def direct_updates(outputs: dict[str, Any], threads: int, per_thread: int) -> float:
    """UpdateItem calls a second sent straight to moto's server from ``threads`` boto3 clients: the write that
    ``create_transaction.request.vtl`` renders for one credit, each to a new id."""
    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=threads, retries={"max_attempts": 1})
    table = outputs["terraform"]["details_table"]["name"]

    def update(worker: int) -> None:
        session = boto3.session.Session()  # one per thread: creating clients from one session is not thread-safe
        client = session.client(
            "dynamodb", endpoint_url=outputs["awsEndpointUrl"], region_name=outputs["region"], config=config
        )
        for i in range(per_thread):
            client.update_item(
                TableName=table,
                Key={"accountId": {"S": f"direct-{worker}"}, "transactionId": {"S": f"d{worker}-{i}"}},
                UpdateExpression="SET #ty = :ty, #am = :am, #cu = :cu, #ra = :ra, #rq = :rq",
                ConditionExpression="attribute_not_exists(transactionId)",
                ExpressionAttributeNames={
                    "#ty": "type",
                    "#am": "amount",
                    "#cu": "currency",
                    "#ra": "recordedAt",
                    "#rq": "requestId",
                },
                ExpressionAttributeValues={
                    ":ty": {"S": "credit"},
                    ":am": {"N": "1.00"},
                    ":cu": {"S": "EUR"},
                    ":ra": {"N": str(int(time.time() * 1000))},
                    ":rq": {"S": f"r{worker}-{i}"},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(update, range(threads)))
    return threads * per_thread / (time.perf_counter() - started)


def summary_latency(base_url: str, region: str, account: str, count: int = 200) -> float:
    """Median milliseconds of GET /accounts/{account}/summary."""
    from harness.client import LedgerClient

    client = LedgerClient(base_url, region)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.summary(account)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def folded(base_url: str, region: str, accounts: list[str], count: int, limit_seconds: float = 180) -> None:
    """Wait (bounded) until every account's summary counts ``count`` transactions: the pipeline is quiet."""
    from harness.client import LedgerClient

    client = LedgerClient(base_url, region)
    deadline = time.monotonic() + limit_seconds
    waiting = list(accounts)
    while waiting:
        answers = {a: client.summary(a) for a in waiting}
        waiting = [a for a, r in answers.items() if r.status != 200 or _count(r.body) < count]
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"the warm-up's writes were not folded within {limit_seconds} s: {waiting}")
        if waiting:
            time.sleep(0.5)


def _count(body: Any) -> int:
    return sum(int(b.get("transactionCount", 0)) for b in (body or {}).get("balances", []))


def start_local_account(tree: Path, log: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any], float]:
    """``python -m harness up --pattern 2`` in ``tree``; its process, outputs and apply time.

    A baseline tree older than the harness's own package runs the same command under its old name."""
    entry = "harness" if (tree / "harness" / "__main__.py").exists() else "sandbox"
    process = subprocess.Popen(
        [sys.executable, "-m", entry, "up", "--pattern", "2", "--name-prefix", f"bench-{tree.name[:10]}"],
        cwd=tree,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        _, outputs = wait_until_up(process, log, UP_LIMIT_SECONDS)
    except RuntimeError:
        process.kill()
        raise
    applied = [line for line in log.read_text().splitlines() if "applied;" in line]
    seconds = float(applied[0].rsplit("(", 1)[1].split(" s)")[0]) if applied else 0.0
    return process, outputs, seconds


def stop_local_account(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the run destroys its stack and stops."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()


def measure(name: str, tree: Path, sizes: Sizes = FULL) -> Side:
    """Every figure of one tree."""
    side = Side(name)
    print(f"==> {name}: make sandbox PATTERN=2 in {tree}", flush=True)
    process, outputs, side.apply_seconds = start_local_account(tree, ROOT / ".cache" / f"bench-sandbox-{name}.log")
    try:
        base, region = outputs["apiBaseUrl"], outputs["region"]
        os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_REGION=region)
        warm = sizes.warm_up_posts // 8
        load(base, region, 8, warm, f"{name}-warm")  # steady state: the JVM has compiled the renderer
        summary_latency(base, region, f"{name}-warm-0", sizes.warm_up_gets)
        folded(base, region, [f"{name}-warm-{i}" for i in range(8)], warm)
        side.get_median_ms = summary_latency(base, region, f"{name}-warm-0", sizes.gets)
        side.one_thread_per_s, single = load(base, region, 1, sizes.one_thread_posts, f"{name}-one")
        side.one_thread_median_ms = statistics.median(single)
        side.eight_threads_per_s, eight = load(base, region, 8, sizes.eight_thread_posts, f"{name}-eight")
        side.eight_threads_p50_ms, side.eight_threads_p99_ms = percentile(eight, 0.5), percentile(eight, 0.99)
        side.direct_updates_per_s = direct_updates(outputs, 8, sizes.eight_thread_posts)
    finally:
        stop_local_account(process)
    command = [sys.executable, "-c", SQS_PROBE, str(tree), json.dumps(sizes.sqs_depths), str(sizes.sqs_rounds)]
    probe = subprocess.run(command, check=False, cwd=tree, capture_output=True, text=True)
    if probe.returncode != 0:
        raise RuntimeError(f"the SQS probe of {tree} failed (exit {probe.returncode}):\n{probe.stderr[-3000:]}")
    side.sqs_cycle_ms = {k: float(v) for k, v in json.loads(probe.stdout.strip().splitlines()[-1]).items()}
    print(f"    {side}", flush=True)
    return side


def baseline_tree(revision: str) -> Path:
    """A worktree of ``revision`` with its own Lambda zip, built by its own build.py: the functions'
    environment (the variables its Terraform sets) must be the one its code reads. (This tree's zip was
    copied before; once the stream function read PATTERN where the baseline set MODE, every invocation
    of the baseline's stream function failed and its local account never came up.)"""
    if WORKTREE.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(WORKTREE)], cwd=ROOT, check=False)
        shutil.rmtree(WORKTREE, ignore_errors=True)
    WORKTREE.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(WORKTREE), revision], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "build.py", "--arch", "arm64"], cwd=WORKTREE, check=True)
    return WORKTREE


def cold_imports(rounds: int) -> list[str]:
    """The handlers' cold import against boto3's, from this tree's zip (bench.aggregator measures it)."""
    from bench.aggregator import cold_import_lines, extracted_zip

    return cold_import_lines(extracted_zip(), rounds)


ROWS = [
    ("terraform apply, pattern 2 (s)", "apply_seconds"),
    ("signed POST, 1 thread (requests/s)", "one_thread_per_s"),
    ("signed POST, 1 thread, median (ms)", "one_thread_median_ms"),
    ("signed POST, 8 threads (requests/s)", "eight_threads_per_s"),
    ("signed POST, 8 threads, p50 (ms)", "eight_threads_p50_ms"),
    ("signed POST, 8 threads, p99 (ms)", "eight_threads_p99_ms"),
    ("UpdateItem straight to the emulator, 8 threads (calls/s)", "direct_updates_per_s"),
    ("gateway POSTs over direct UpdateItems (ratio)", "gateway_over_direct"),
    ("GET summary, median (ms)", "get_median_ms"),
]


def rows_of(side: Side) -> list[tuple[str, float]]:
    """Each figure of one side, labelled."""
    rows = [(label, float(getattr(side, name))) for label, name in ROWS]
    rows += [(f"SQS receive+delete+send of 10 at depth {d} (ms)", ms) for d, ms in side.sqs_cycle_ms.items()]
    return rows


def report(before: Side | None, after: Side) -> None:
    """One line per figure: this tree's, and with a baseline, before and the ratio."""
    if before is None:
        print(f"\n{'figure':<60} {'value':>10}")
        for label, value in rows_of(after):
            print(f"{label:<60} {value:>10.2f}")
        return
    print(f"\n{'figure':<60} {'before':>10} {'after':>10} {'after/before':>13}")
    for (label, old), (_, new) in zip(rows_of(before), rows_of(after), strict=True):
        print(f"{label:<60} {old:>10.2f} {new:>10.2f} {new / old if old else float('nan'):>12.2f}x")


def record(after: Side, loop_seconds: float, out: Path = REPORTS) -> None:
    """Keep this tree's figures in <out>/bench-sandbox.json (make docs quotes reports/'s in docs/local-account.md)."""
    figures = {label: round(value, 2) for label, value in rows_of(after)}
    record = {
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "cores": os.cpu_count(),
        "python_loop_seconds": loop_seconds,
        "figures": figures,
        "raw": asdict(after),
    }
    out.mkdir(parents=True, exist_ok=True)  # as bench-report's write_report does: BENCH_OUT may be new
    path = out / RECORD_NAME
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nrecorded in {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> None:
    """Measure this tree (after a baseline, when one is given), print and record the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, help="a revision to measure first, as 'before'")
    parser.add_argument("--quick", action="store_true", help="a few requests per figure (needs --out)")
    parser.add_argument("--out", type=Path, default=None, help=f"the folder to record in (default: {REPORTS})")
    args = parser.parse_args(argv)
    if args.quick and args.out is None:
        parser.error("--quick figures are not the local account's speed: record them elsewhere (--out)")
    sizes = QUICK if args.quick else FULL
    loop = python_loop_seconds()
    print(f"==> machine: a 10-million-step Python loop takes {loop} s", flush=True)
    before = measure("before", baseline_tree(args.baseline), sizes) if args.baseline else None
    after = measure("after", ROOT, sizes)
    report(before, after)
    record(after, loop, args.out or REPORTS)
    print()
    for line in cold_imports(sizes.import_rounds):
        print(line)
    if args.baseline:
        subprocess.run(["git", "worktree", "remove", "--force", str(WORKTREE)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
