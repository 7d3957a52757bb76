"""What the benchmarks share to run on a local account of their own: progress lines, the stack's
variables, and one measurement run alone (a fresh account and stack, torn down afterwards)."""

from __future__ import annotations

import argparse
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from harness.stack import ROOT, UNGUARDED, UNLOGGED, UNPROTECTED, Stack
from local_account.account import LocalAccount

T = TypeVar("T")
Say = Callable[[str], None]


def say(text: str) -> None:
    """A progress line."""
    print(f"==> {text}", flush=True)


def stack_variables(prefix: str) -> dict[str, Any]:
    """A benchmark stack's variables: a fresh name, the built package, tables and buffer that may go."""
    return {
        "name_prefix": f"{prefix}-{uuid.uuid4().hex[:6]}",
        "lambda_zip": str(ROOT / "dist" / "lambda.zip"),
        "tables": UNPROTECTED,
        "api": UNLOGGED,
        "buffer": UNGUARDED,
        "alarms": None,
    }


def measure_alone(label: str, measure: Callable[[LocalAccount, Stack, Say], T]) -> T:
    """Start a local account under .cache/bench-<label>, measure on a stack of its own, tear both down."""
    work = ROOT / ".cache" / f"bench-{label}"
    shutil.rmtree(work, ignore_errors=True)  # a fresh local account each run: no earlier state applies
    account = LocalAccount(work / "logs").start()
    stack = Stack(work / "stack", stack_variables(f"b{label}"))
    try:
        stack.init()
        return measure(account, stack, say)
    finally:
        say("terraform destroy")
        stack.destroy()
        account.stop()


def add_record_option(parser: argparse.ArgumentParser) -> None:
    """``--record DIR``: also put a measurement made apart in a bench-report's saved figures (record_apart)."""
    parser.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="also put the figures in DIR/benchmark.json (a bench-report's) and rewrite DIR/benchmark.md",
    )


def check_record(parser: argparse.ArgumentParser, record: Path | None) -> None:
    """Refuse ``--record DIR`` before measuring when DIR holds no bench-report's figures."""
    if record and not (record / "benchmark.json").is_file():
        parser.error(f"--record {record}: no benchmark.json there (make bench-report writes one)")


def record_apart(out: Path, section: str, figures: Any, command: str) -> Path:
    """Put ``figures`` (a dataclass with ``measured_by``), measured apart by ``command`` today, in ``out``'s saved
    report as its ``section``, and rewrite the report."""
    from bench.report import render_saved

    saved_path = out / "benchmark.json"
    saved = json.loads(saved_path.read_text())
    measured = replace(figures, measured_by=f"{command} (on {datetime.now(UTC).date()})")
    saved[section] = asdict(measured)
    saved_path.write_text(json.dumps(saved, indent=1) + "\n")
    render_saved(out)
    return saved_path
