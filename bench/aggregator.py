"""Aggregator benchmarks: `make bench`. Prints one figure per line; no figure gates a test.

``--quick`` (``make bench BENCH_QUICK=1``, run by make test) measures every figure the same way on fewer
records and rounds: it shows the benchmark runs, not what the figures are.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT / "dist" / "lambda.zip"
IMPORT_ROUNDS = 9


@dataclass(frozen=True)
class Sizes:
    """How much each figure measures: the full run's, or ``--quick``'s (the same code on less)."""

    fold_records: int = 10_000
    fold_rounds: int = 5
    write_records: int = 1_000
    batch_records: int = 10_000  # the batch whose peak RSS is measured
    import_rounds: int = IMPORT_ROUNDS


FULL = Sizes()
QUICK = Sizes(fold_records=1_000, fold_rounds=1, write_records=200, batch_records=1_000, import_rounds=1)


def ledger_records(count: int, accounts: int) -> list[dict[str, Any]]:
    """``count`` INSERT records spread evenly over ``accounts`` accounts."""
    from tests.support.ledger import Ledger, image

    ledger = Ledger()
    for i in range(count):
        amount = f"{i % 997 + 1}.{i % 100:02d}"
        ledger.put(image(f"acc-{i % accounts}", f"t{i}", "credit" if i % 3 else "debit", amount))
    return ledger.records


def fold_throughput(sizes: Sizes = FULL) -> float:
    """Records per second through parse and coalesce, 10,000-record batches, best of 5 (by default)."""
    from ledger_aggregator.domain import coalesce, parse_batch

    records = ledger_records(sizes.fold_records, 100)
    best = float("inf")
    for _ in range(sizes.fold_rounds):
        start = time.perf_counter()
        coalesce(parse_batch(records).changes)
        best = min(best, time.perf_counter() - start)
    return len(records) / best


def writes_per_thousand(sizes: Sizes = FULL) -> tuple[float, float]:
    """Summary writes per 1,000 transactions in batches of 100 over 10 accounts: ours, and naive."""
    import boto3
    from moto import mock_aws

    from bench import naive_aggregator
    from ledger_aggregator.adapters.dynamodb import DynamoSummaryStore
    from ledger_aggregator.projector import project, stream_items
    from tests.support.aws import APPLIED, SUMMARY, create_tables

    records = ledger_records(sizes.write_records, 10)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_tables(client)
        store = DynamoSummaryStore(client, SUMMARY, APPLIED, 86_400 * 15)
        ours = 0
        for start in range(0, len(records), 100):
            changes, poison = stream_items(records[start : start + 100])
            ours += project(changes, poison, store.write, None, "stream").writes
        naive = sum(naive_aggregator.handle(records[s : s + 100], client, SUMMARY) for s in range(0, len(records), 100))
    return 1000 * ours / len(records), 1000 * naive / len(records)


def extracted_zip() -> Path:
    """dist/lambda.zip extracted into a temporary folder (built first when missing)."""
    if not ZIP.exists():
        subprocess.run([sys.executable, str(ROOT / "build.py")], check=True)
    folder = Path(tempfile.mkdtemp(prefix="ledger-zip-"))
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(folder)
    return folder


HANDLERS = ("ledger_aggregator.handlers.stream", "ledger_aggregator.handlers.writer")
# What Terraform sets for the stream function (PATTERN=1) and the writer.
FUNCTION_SETTINGS = {
    "PATTERN": "1",
    "SUMMARY_TABLE": "s",
    "APPLIED_TABLE": "a",
    "BUFFER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/buffer",
    "DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
}


def import_time_ms(folder: Path, module: str, tracing: bool = False) -> float:
    """One cold import of a module from the zip, in a fresh interpreter (X-Ray tracing off unless asked).

    The interpreter gets ``LAMBDA_TASK_ROOT`` as Lambda sets it: without it the X-Ray SDK believes it runs
    outside Lambda and builds a centralized sampler with two X-Ray clients at import (about 270 ms here),
    which it never does in Lambda. Measured without it, tracing on looked 2.6x boto3's import.
    """
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter();"
        f"import {module}; print((time.perf_counter() - t) * 1000)"
    )
    env = {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",  # Lambda sets both; boto3's clients, built at import, read this one
        "POWERTOOLS_TRACE_DISABLED": str(not tracing).lower(),
        "PATH": "/usr/bin:/bin",
        "LAMBDA_TASK_ROOT": str(folder),
        **FUNCTION_SETTINGS,  # a handler module builds its dependencies (boto3's clients too) at import
    }
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, str(folder)], capture_output=True, text=True, env=env, check=True
    )
    return float(done.stdout)


def cold_import_lines(folder: Path, rounds: int = IMPORT_ROUNDS) -> list[str]:
    """The handlers' cold import against boto3's, tracing off and on: medians of ``rounds`` rounds.

    Each round imports every case once, in turn, so that the machine's changing load falls on all of
    them alike; the ratios to boto3's median are the figures to read (a best of 5 taken case after case
    moved by 40 ms between runs here).
    """
    cases = [("boto3", False)] + [(m, tracing) for m in HANDLERS for tracing in (False, True)]
    times: dict[tuple[str, bool], list[float]] = {case: [] for case in cases}
    for _ in range(rounds):
        for module, tracing in cases:
            times[(module, tracing)].append(import_time_ms(folder, module, tracing))
    median = {case: statistics.median(values) for case, values in times.items()}
    boto3_ms = median[("boto3", False)]
    lines = [f"cold_import_ms boto3 {boto3_ms:.0f} (median of {rounds}; what the Lambda runtime would load)"]
    for module in HANDLERS:
        off, on = median[(module, False)], median[(module, True)]
        lines.append(
            f"cold_import_ms {module} tracing off {off:.0f} ({off / boto3_ms:.2f}x boto3), "
            f"tracing on {on:.0f} ({on / boto3_ms:.2f}x; target <= 1.5x for both)"
        )
    return lines


PEAK_RSS_PROBE = """
import json, os, sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]); records = int(sys.argv[3])
os.environ.update(AWS_REGION="eu-west-1", AWS_DEFAULT_REGION="eu-west-1", POWERTOOLS_METRICS_NAMESPACE="Bench",
                  POWERTOOLS_TRACE_DISABLED="true", SUMMARY_TABLE="s", APPLIED_TABLE="a", PATTERN="1",
                  DLQ_URL="https://sqs/dlq")
from bench.aggregator import ledger_records
from ledger_aggregator import composition
from ledger_aggregator.config import StreamSettings
from ledger_aggregator.handlers import stream

class Accepting:
    def __getattr__(self, name):
        return lambda **kwargs: {}

accepting = composition.Clients(Accepting(), Accepting(), Accepting())
handler = stream.make_handler(composition.build_stream(StreamSettings.from_env(), accepting))
event = {"Records": ledger_records(records, 100)}
class Context:
    function_name = "bench"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self):
        return 30_000
def status_kb(field):
    # VmHWM is the peak RSS of this process image; ru_maxrss would carry the parent's peak across exec.
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

before = status_kb("VmRSS")
response = handler(event, Context())
assert response == {"batchItemFailures": []}, response
print(json.dumps({"peak_kb": status_kb("VmHWM"), "before_kb": before}))
"""


def peak_rss_mb(folder: Path, records: int = FULL.batch_records) -> tuple[float, float]:
    """Peak RSS of a process that handles one batch of ``records`` (AWS calls answered in memory)."""
    command = [sys.executable, "-c", PEAK_RSS_PROBE, str(folder), str(ROOT), str(records)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["peak_kb"] / 1024, figures["before_kb"] / 1024


def main(argv: list[str] | None = None) -> None:
    """Measure and print every figure, with its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every figure on fewer records and rounds")
    sizes = QUICK if parser.parse_args(argv).quick else FULL
    sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT)]
    print(f"fold_throughput_records_per_s {fold_throughput(sizes):,.0f} (target >= 100,000; one core)")
    ours, naive = writes_per_thousand(sizes)
    print(f"summary_writes_per_1000_tx {ours:.0f} (target <= 100; batches of 100 over 10 accounts)")
    print(f"naive_summary_writes_per_1000_tx {naive:.0f} (PutItem + UpdateItem per record, same run)")
    print(f"write_ratio_naive_over_ours {naive / ours:.1f}")
    folder = extracted_zip()
    peak, baseline = peak_rss_mb(folder, sizes.batch_records)
    batch = f"peak_rss_mb_{sizes.batch_records}_record_batch"
    print(f"{batch} {peak:.1f} (target < 128; {baseline:.1f} MB with the event built)")
    for line in cold_import_lines(folder, sizes.import_rounds):
        print(line)
    print(f"zip_size_bytes {ZIP.stat().st_size:,} (target < 3 MB = 3,145,728)")


if __name__ == "__main__":
    main()
