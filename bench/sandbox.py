"""The local account's speed, before and after, from one run: `make bench-sandbox`. Prints figures; gates nothing.

"Before" is a revision of this repository (``--baseline``, by default the last one before
the local account was made fast), checked out into a git worktree and run with its own
code; "after" is this working tree. Both are driven by the same load client (signed
POSTs over kept-alive connections, credentials resolved once, as an SDK client does), so
the figures compare the servers. They are this machine's and the emulator's, not AWS's.

For each side:
  * ``make sandbox`` PATTERN=2 started as a user starts it, and the time its apply took;
  * signed POSTs of one credit each from 1 client thread (median latency) and from 8
    (requests per second, p50 and p99);
  * GETs of a summary (median);
  * SQS receive + delete + send of 10 at queue depths 10, 2,000 and 6,000 (5 rounds, or as many
    as fit in about 30 s, at least one).
And, for this tree only, the handlers' cold import against boto3's (tracing off and on).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import percentile, post_concurrently

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "8debc05"  # the last revision before the local account was made fast
WORKTREE = ROOT / ".cache" / "bench-baseline"
UP_LIMIT_SECONDS = 300

SQS_PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import boto3
from botocore.config import Config
from sandbox import emulator
server, url = emulator.start()
config = Config(retries={"max_attempts": 1}, read_timeout=600)  # a slow answer is the figure, not a retry
sqs = boto3.client("sqs", endpoint_url=url, region_name="eu-west-1", aws_access_key_id="x",
                   aws_secret_access_key="x", config=config)
batch = [{"Id": str(i), "MessageBody": "x"} for i in range(10)]
figures = {}
for depth in (10, 2000, 6000):
    queue = sqs.create_queue(QueueName=f"depth-{depth}")["QueueUrl"]
    for _ in range(0, depth, 10):
        sqs.send_message_batch(QueueUrl=queue, Entries=batch)
    started, rounds = time.perf_counter(), 0
    while rounds < 5 and (rounds == 0 or time.perf_counter() - started < 30):  # at most ~30 s a depth
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
    sqs_cycle_ms: dict[str, float] = field(default_factory=dict)


def load(base_url: str, region: str, threads: int, per_thread: int, prefix: str) -> tuple[float, list[float]]:
    """Signed POSTs of one credit each from ``threads`` clients, ``per_thread`` to each of ``threads`` accounts."""
    from sandbox.client import LedgerClient

    posts = [
        (f"{prefix}-{i % threads}", {"type": "credit", "amount": "1.00", "currency": "EUR"})
        for i in range(threads * per_thread)
    ]
    return post_concurrently(LedgerClient(base_url, region), posts, threads)


def summary_latency(base_url: str, region: str, account: str, count: int = 50) -> float:
    """Median milliseconds of GET /accounts/{account}/summary."""
    from sandbox.client import LedgerClient

    client = LedgerClient(base_url, region)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.summary(account)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def start_sandbox(tree: Path, log: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any], float]:
    """``python -m sandbox up --pattern 2`` in ``tree``; its process, outputs and apply time."""
    outputs_file = tree / ".sandbox" / "outputs.json"
    outputs_file.unlink(missing_ok=True)
    (tree / ".sandbox" / "owner.pid").unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "up", "--pattern", "2", "--name-prefix", f"bench-{tree.name[:10]}"],
        cwd=tree,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + UP_LIMIT_SECONDS
    while not outputs_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the sandbox in {tree} did not come up; see {log}")
        time.sleep(0.5)
    applied = [line for line in log.read_text().splitlines() if "applied;" in line]
    seconds = float(applied[0].rsplit("(", 1)[1].split(" s)")[0]) if applied else 0.0
    return process, json.loads(outputs_file.read_text()), seconds


def stop_sandbox(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the sandbox destroys its stack and stops."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()


def measure(name: str, tree: Path) -> Side:
    """Every figure of one tree."""
    side = Side(name)
    print(f"==> {name}: make sandbox PATTERN=2 in {tree}", flush=True)
    process, outputs, side.apply_seconds = start_sandbox(tree, ROOT / ".cache" / f"bench-sandbox-{name}.log")
    try:
        base, region = outputs["apiBaseUrl"], outputs["region"]
        os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_REGION=region)
        side.one_thread_per_s, single = load(base, region, 1, 100, f"{name}-one")
        side.one_thread_median_ms = statistics.median(single)
        side.eight_threads_per_s, eight = load(base, region, 8, 50, f"{name}-eight")
        side.eight_threads_p50_ms, side.eight_threads_p99_ms = percentile(eight, 0.5), percentile(eight, 0.99)
        side.get_median_ms = summary_latency(base, region, f"{name}-one-0")
    finally:
        stop_sandbox(process)
    probe = subprocess.run(
        [sys.executable, "-c", SQS_PROBE, str(tree)], cwd=tree, capture_output=True, text=True, check=True
    )
    side.sqs_cycle_ms = {k: float(v) for k, v in json.loads(probe.stdout.strip().splitlines()[-1]).items()}
    print(f"    {side}", flush=True)
    return side


def baseline_tree(revision: str) -> Path:
    """A worktree of ``revision`` with its own Lambda zip, built by its own build.py: the functions'
    environment (the variables its Terraform sets) must be the one its code reads. (This tree's zip was
    copied before; once the stream function read PATTERN where the baseline set MODE, every invocation
    of the baseline's stream function failed and its sandbox never came up.)"""
    if WORKTREE.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(WORKTREE)], cwd=ROOT, check=False)
        shutil.rmtree(WORKTREE, ignore_errors=True)
    WORKTREE.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "worktree", "add", "--detach", str(WORKTREE), revision], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "build.py", "--arch", "arm64"], cwd=WORKTREE, check=True)
    return WORKTREE


def cold_imports() -> list[str]:
    """The handlers' cold import against boto3's, from this tree's zip (bench.aggregator measures it)."""
    from bench.aggregator import cold_import_lines, extracted_zip

    return cold_import_lines(extracted_zip())


def report(before: Side, after: Side) -> None:
    """One line per figure: before, after, and the ratio."""
    rows = [
        ("terraform apply, pattern 2 (s)", before.apply_seconds, after.apply_seconds),
        ("signed POST, 1 thread (requests/s)", before.one_thread_per_s, after.one_thread_per_s),
        ("signed POST, 1 thread, median (ms)", before.one_thread_median_ms, after.one_thread_median_ms),
        ("signed POST, 8 threads (requests/s)", before.eight_threads_per_s, after.eight_threads_per_s),
        ("signed POST, 8 threads, p50 (ms)", before.eight_threads_p50_ms, after.eight_threads_p50_ms),
        ("signed POST, 8 threads, p99 (ms)", before.eight_threads_p99_ms, after.eight_threads_p99_ms),
        ("GET summary, median (ms)", before.get_median_ms, after.get_median_ms),
    ]
    rows += [
        (f"SQS receive+delete+send of 10 at depth {depth} (ms)", before.sqs_cycle_ms[depth], after.sqs_cycle_ms[depth])
        for depth in after.sqs_cycle_ms
    ]
    print(f"\n{'figure':<52} {'before':>10} {'after':>10} {'after/before':>13}")
    for label, old, new in rows:
        print(f"{label:<52} {old:>10.1f} {new:>10.1f} {new / old if old else float('nan'):>12.2f}x")


def main() -> None:
    """Measure the baseline and this tree, one after the other, and print both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"revision measured as 'before' (default {BASELINE})")
    args = parser.parse_args()
    before = measure("before", baseline_tree(args.baseline))
    after = measure("after", ROOT)
    report(before, after)
    print()
    for line in cold_imports():
        print(line)
    subprocess.run(["git", "worktree", "remove", "--force", str(WORKTREE)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
