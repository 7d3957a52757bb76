"""What the benchmarks share to run on a local account of their own: progress lines, the stack's
variables, and one measurement run alone (a fresh account and stack, torn down afterwards)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
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
