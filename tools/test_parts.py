"""Run make test's parts side by side and record what each took, so that the docs quote a run.

``run --prepare "TARGET ..." --critical PART PART ...`` first makes the prerequisites the parts share (the
Makefile's ``SHARED``: the zip, ``terraform init``) once, then runs every part as its own ``make`` at the same
time. The critical part (the one whose wall time bounds the run: the integration tier, which waits on the
local account and on the AWS provider) runs at normal priority; the others run niced (``BACKGROUND_NICE``),
so they fill the CPU it leaves idle instead of stretching its waits. Each part's output is printed whole when
it ends, with its time, CPU time and exit status. The record of the run goes to ``.cache/make-test.json``:
each part's wall time, CPU time, exit status and pytest's summary lines, the total, the commit and the
machine's speed, measured before the parts start and again after they end (on a shared host it can change
during a run).

``record [FILE]`` copies a record of a passing run (by default the last one) to
``reports/make-test.json``; it refuses a failed one, and one of a commit other than HEAD: a record is
committed with the change it measures, not as a commit of its own. ``make docs`` quotes that file in
docs/testing.md, so no figure there is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import python_loop_seconds  # type: ignore[import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parents[1]
LAST_RUN = ROOT / ".cache" / "make-test.json"
RECORD = ROOT / "reports" / "make-test.json"
# The counts each tool ends with: pytest ("==== 228 passed, 1 warning in 124.01s (0:02:04) ===="),
# terraform test ("Success! 54 passed, 0 failed."), checkov ("Passed checks: 250, Failed checks: 0, ..."),
# mypy and import-linter.
SUMMARIES = [
    re.compile(r"^=+ (?P<counts>\d+ (?:passed|failed|error|errors|skipped|deselected).*) in [\d.]+s.*=+$"),
    re.compile(r"^(?:Success|Failure)! (?P<counts>\d+ passed, \d+ failed(?:, \d+ skipped)?)\.$"),
    re.compile(r"^(?P<counts>Passed checks: \d+, Failed checks: \d+, Skipped checks: \d+)"),
    re.compile(r"^Success: (?P<counts>no issues found in \d+ source files)$"),  # mypy
    re.compile(r"^(?P<counts>Contracts: \d+ kept, \d+ broken)\.$"),  # import-linter
]


@dataclass(frozen=True)
class Part:
    """One part of make test as it ran."""

    name: str
    seconds: int
    cpu_seconds: int
    exit: int
    summaries: list[str]


BACKGROUND_NICE = 5  # the niceness of every part but the critical one (10 starved them beside a CPU load)


@dataclass(frozen=True)
class Made:
    """What a ``make`` run left: its exit status, its output and the CPU time it and its children used."""

    returncode: int
    stdout: str
    cpu_seconds: float


def make(*targets: str, nice: int = 0) -> Made:
    """``make`` these targets (at this niceness), capturing stdout and stderr together."""
    command = ["make", "--no-print-directory", *targets]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509 - os.nice only, no locks taken
    ) as process:
        assert process.stdout is not None
        output = process.stdout.read()
        # wait4, not wait: the rusage of make and every process it waited for (the tests, terraform, the JVM).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return Made(process.returncode, output, usage.ru_utime + usage.ru_stime)


def summaries(output: str) -> list[str]:
    """The counts each pytest, terraform test and checkov run of a part ended with, in order."""
    found = []
    for line in output.splitlines():
        for pattern in SUMMARIES:
            if match := pattern.match(line.strip()):
                found.append(match["counts"])
    return found


def run_part(name: str, nice: int) -> tuple[Part, str]:
    """Run one part at this niceness; return its record and its output."""
    started = time.monotonic()
    done = make(name, nice=nice)
    seconds = round(time.monotonic() - started)
    return Part(name, seconds, round(done.cpu_seconds), done.returncode, summaries(done.stdout)), done.stdout


def commit() -> str:
    """The commit the run tested, with ``+changes`` when the tree differed from it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, check=False
    )
    return (head.stdout.strip() or "unknown") + ("+changes" if dirty.stdout.strip() else "")


def run(shared: list[str], parts: list[str], critical: str | None = None) -> int:
    """Make the shared prerequisites, run the parts side by side, print them and write the record."""
    loop = python_loop_seconds()  # before the parts load the machine
    print(f"==> machine: a 10-million-step Python loop takes {loop} s (tools/machine.py)", flush=True)
    started = time.monotonic()
    print(f"==> preparing: {' '.join(shared)}", flush=True)
    prepared = make(*shared)
    if prepared.returncode:
        print(prepared.stdout, end="")
        print(f"==> make test: preparing failed (exit {prepared.returncode})")
        return prepared.returncode
    print(f"==> prepared in {round(time.monotonic() - started)} s; running side by side: {' '.join(parts)}", flush=True)
    if critical:
        print(f"    ({critical} at normal priority, the others at nice {BACKGROUND_NICE})", flush=True)
    print("    (each part's output is printed whole when it ends)", flush=True)
    results: list[Part] = []
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        futures = [pool.submit(run_part, name, 0 if critical in (None, name) else BACKGROUND_NICE) for name in parts]
        for future in as_completed(futures):
            part, output = future.result()
            print(output, end="" if output.endswith("\n") or not output else "\n")
            print(f"==> {part.name}: {part.seconds} s (CPU {part.cpu_seconds} s), exit {part.exit}", flush=True)
            results.append(part)
    total = round(time.monotonic() - started)
    status = max(p.exit for p in results)
    # Again once the parts have ended: the machine's speed can change during a run (a shared host), and
    # a run whose two loops differ much was measured on a machine that changed under it.
    after = python_loop_seconds()
    print(f"==> machine, after the parts: the same loop takes {after} s", flush=True)
    write_record(sorted(results, key=lambda p: parts.index(p.name)), total, status, (loop, after))
    print(f"==> make test: {total} s, exit {status} (record: {LAST_RUN.relative_to(ROOT)})")
    return status


def write_record(parts: list[Part], total: int, status: int, loops: tuple[float, float]) -> None:
    """Write the run's record to .cache/make-test.json (``loops``: the machine's loop before and after)."""
    record = {
        "commit": commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "python_loop_seconds": loops[0],
        "python_loop_seconds_after": loops[1],
        "ci": bool(os.environ.get("CI")),
        "seconds": total,
        "exit": status,
        "parts": [asdict(p) for p in parts],
    }
    LAST_RUN.parent.mkdir(exist_ok=True)
    LAST_RUN.write_text(json.dumps(record, indent=2) + "\n")


def _resolved(revision: str, cwd: Path) -> str:
    """The full hash of a revision's commit, or "" when it does not resolve (or there is no git history)."""
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 else ""


def measures_head(commit: str, cwd: Path = ROOT) -> bool:
    """Whether a record's commit is HEAD (``+changes``: HEAD with the change not yet committed)."""
    head = _resolved("HEAD", cwd)
    return bool(head) and _resolved(commit.removesuffix("+changes"), cwd) == head


def record(source: Path) -> int:
    """Copy a passing run's record of HEAD to reports/make-test.json; refuse a failed, missing or older one."""
    if not source.exists():
        print(f"no record at {source}: run make test first", file=sys.stderr)
        return 2
    run = json.loads(source.read_text())
    if run["exit"] != 0:
        print(f"refused: {source} records a failed run", file=sys.stderr)
        return 2
    if not measures_head(run["commit"]):
        print(
            f"refused: {source} measured commit {run['commit']}, not HEAD. A record is committed with the change"
            " it measures: run make test on this tree, record it, and commit the record with the change"
            " (or amend it into HEAD).",
            file=sys.stderr,
        )
        return 2
    shutil.copyfile(source, RECORD)
    print(f"wrote {RECORD} (make docs quotes it)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``run PART ...`` or ``record [FILE]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    parts = commands.add_parser("run", help="run the parts side by side")
    parts.add_argument("--prepare", default="", help="the targets several parts share, made once first")
    parts.add_argument("--critical", help="the part whose wall time bounds the run: the others run niced")
    parts.add_argument("parts", nargs="+")
    keep = commands.add_parser("record", help="keep a passing run's record for the docs")
    keep.add_argument("file", nargs="?", type=Path, default=LAST_RUN)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.prepare.split(), args.parts, args.critical)
    return record(args.file)


if __name__ == "__main__":
    raise SystemExit(main())
