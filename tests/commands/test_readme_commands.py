"""Every command README shows runs in make test, at least in a quick form (``make test-commands``).

A quick form is the command itself, README's make target, with smaller sizes chosen by Make variables
(``BENCH_QUICK``, ``BENCH_OUT``, ``SOAK_TRANSACTIONS``, ``SOAK_PATTERN``, ``PATCHES``; ``PATTERN=1`` where the
command takes a pattern): no other code path. Each runs as a subprocess in its own session, killed whole past
a bounded time; its test asserts the exit status and what shows it did its work. The benchmarks' quick forms
record in a temporary folder: reports/ and the documents that quote its figures must not change.

README's commands that another part of make test runs already are listed in ``COVERED`` with that part. The
first test reads README's sh blocks and fails on a command that has neither a quick form here nor a covering
part, so a command added to README cannot go untested.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from botocore.credentials import Credentials

from bench.aggregator import HANDLERS
from harness.client import LedgerClient
from harness.probes import eventually
from harness.running import wait_until_up
from tests.support.velocity import velocity_or_skip
from tools.docs import LOCAL_ACCOUNT_FIGURES_DOC, TEST_FIGURES_DOC

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
Test = TypeVar("Test", bound=Callable[..., None])

# README's commands that other parts of make test run, and those parts (or the prerequisites they share).
COVERED: dict[str, tuple[str, ...]] = {
    "make test": ("test",),  # itself
    "make lint": ("lint",),
    "make package": ("package",),
    "make package && terraform init": ("package", "tf-init"),
    "terraform apply -var pattern=2": ("test-integration",),  # pattern 2 applied through python-terraform
    "make soak": ("test-integration",),  # tests/integration/test_soak.py, both patterns
    "make verify-aws": ("test-first-apply",),  # the same suite, in the local account
    "make lifecycle": ("test-integration",),  # its reduced form
}
QUICK: dict[str, tuple[str, ...]] = {}  # README's command -> the Make variables of its quick form (tests below)
# Two patches whose tests take a second or two each: check-patches' own code runs the same for any two.
FAST_PATCHES = ("SQS RedrivePolicy as compact JSON", "a missing table named in its error")
DESTROYED = "==> terraform destroy and stopping the local account"


def quick_form(command: str, *variables: str) -> Callable[[Test], Test]:
    """Register the decorated test as the one that runs README's ``command`` with these Make variables."""

    def register(test: Test) -> Test:
        QUICK[command] = variables
        return test

    return register


def quick(command: str, *more: str) -> list[str]:
    """The make arguments of ``command``'s quick form (and ``more``)."""
    return [*shlex.split(command)[1:], *QUICK[command], *more]


def readme_commands() -> list[str]:
    """The commands of README's sh blocks, comments dropped."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)
    lines = (re.sub(r"(^|\s)#.*$", "", line).strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line]


def makefile_list(name: str) -> set[str]:
    """The words of a ``NAME := ...`` line of the Makefile."""
    (line,) = re.findall(rf"^{name} := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    return set(line.split())


def test_every_readme_command_runs_in_make_test() -> None:
    commands = readme_commands()
    untested = [c for c in commands if c not in QUICK and c not in COVERED]
    assert untested == [], "README shows these, and neither a quick form here nor another part runs them"
    assert set(QUICK) | set(COVERED) <= set(commands), "listed here, but README no longer shows them"


def test_the_covering_parts_run_in_make_test() -> None:
    parts, shared = makefile_list("TEST_PARTS"), makefile_list("SHARED")
    assert "test-commands" in parts, "this part runs the quick forms"
    named = {part for covering in COVERED.values() for part in covering} - {"test"}
    assert named <= parts | shared


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit status and its output (stdout and stderr together)."""

    code: int
    output: str


@contextmanager
def started(arguments: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``make ARGUMENTS`` in its own session, its output to ``log``; the whole session killed if still running
    when the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", *arguments],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def make(arguments: list[str], log: Path, limit: float) -> Ran:
    """Run ``make ARGUMENTS``; fail the test (and kill the command) past ``limit`` seconds."""
    with started(arguments, log) as process:
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            pytest.fail(f"make {shlex.join(arguments)} ran past {limit} s:\n{tail(log.read_text(errors='replace'))}")
    return Ran(code, log.read_text(errors="replace"))


def tail(output: str, lines: int = 60) -> str:
    """The last lines of a command's output, for a failure's message."""
    return "\n".join(output.splitlines()[-lines:])


def succeeded(ran: Ran, command: str) -> str:
    """The output of a command that must have exited 0 (the failure shows its end)."""
    assert ran.code == 0, f"{command} exited {ran.code}:\n{tail(ran.output)}"
    return ran.output


def destroyed(output: str) -> bool:
    """The last step of make sandbox, destroying the stack and stopping the local account, ended."""
    lines = [*output.splitlines(), ""]
    return DESTROYED in lines and lines[lines.index(DESTROYED) + 1].startswith("    done")


@quick_form("make help")
def test_make_help_lists_every_target_readme_shows(tmp_path: Path) -> None:
    output = succeeded(make(quick("make help"), tmp_path / "log", 60), "make help")
    listed = {line.split()[0] for line in output.splitlines() if line.strip()}
    shown = {word for c in readme_commands() for word in re.findall(r"\bmake ([a-z-]+)", c)}
    assert shown <= listed, shown - listed


@quick_form("make check-patches", f"PATCHES={shlex.join(FAST_PATCHES)}")
def test_make_check_patches_finds_that_each_named_test_fails_without_its_patch(tmp_path: Path) -> None:
    output = succeeded(make(quick("make check-patches"), tmp_path / "log", 400), "make check-patches")
    for patch in FAST_PATCHES:
        assert re.search(rf"^\[.*\] fails without it .*  {re.escape(patch)}  \(", output, re.M), patch
    assert f"==> {len(FAST_PATCHES)} of {len(FAST_PATCHES)} held" in output


def figures(output: str) -> dict[str, float]:
    """make bench's figures: the first number after each figure's name."""
    found = {}
    for line in output.splitlines():
        if match := re.match(r"^([a-z_0-9]+) ([\d,.]+)", line):
            found[match[1]] = float(match[2].replace(",", ""))
    return found


@quick_form("make bench", "BENCH_QUICK=1")
def test_make_bench_measures_every_figure(tmp_path: Path) -> None:
    output = succeeded(make(quick("make bench"), tmp_path / "log", 300), "make bench")
    measured = figures(output)
    assert measured["fold_throughput_records_per_s"] > 0
    # One summary write per (account, currency) per batch: 10 per batch of 100 over 10 accounts.
    assert measured["summary_writes_per_1000_tx"] == 100
    assert measured["naive_summary_writes_per_1000_tx"] == 2000  # PutItem and UpdateItem per record
    batch = [name for name in measured if re.fullmatch(r"peak_rss_mb_\d+_record_batch", name)]
    assert len(batch) == 1 and measured[batch[0]] > 0, "the memory probe handled its batch"
    assert measured["zip_size_bytes"] > 0
    imports = re.findall(r"^cold_import_ms (\S+) (?:tracing off )?(\d+)", output, re.M)
    assert [module for module, _ in imports] == ["boto3", *HANDLERS] and all(int(ms) > 0 for _, ms in imports)


@quick_form("make demo", "PATTERN=1")
@pytest.mark.timeout(600)
def test_make_demo_passes_and_destroys(tmp_path: Path) -> None:
    velocity_or_skip()
    output = succeeded(make(quick("make demo"), tmp_path / "log", 540), "make demo")
    assert "==> demo passed" in output.splitlines()
    assert destroyed(output)


@quick_form("make sandbox", "PATTERN=1")
@pytest.mark.timeout(600)
def test_make_sandbox_serves_until_sigterm_then_destroys(tmp_path: Path) -> None:
    velocity_or_skip()
    log = tmp_path / "log"
    with started(quick("make sandbox"), log) as process:
        outputs_file, outputs = wait_until_up(process, log, 360)
        assert outputs["pattern"] == 1
        credentials = Credentials("local", "local")
        api = LedgerClient(outputs["apiBaseUrl"], outputs["region"], credentials=credentials)
        credit = {"type": "credit", "amount": "1.00", "currency": "EUR"}
        assert api.post_transaction("local-check", credit).status == 201
        folded = eventually(lambda: api.summary("local-check").body.get("balances"), timeout=60)
        assert [b["transactionCount"] for b in folded] == [1], "the stream function folded the credit"
        os.kill(outputs["pid"], signal.SIGTERM)
        code = process.wait(timeout=180)
    output = log.read_text()
    assert code == 0, f"make sandbox exited {code} after SIGTERM:\n{tail(output)}"
    assert destroyed(output) and not outputs_file.exists()


@quick_form("make soak-guarded", "SOAK_PATTERN=1", "SOAK_TRANSACTIONS=300")
@pytest.mark.timeout(960)
def test_make_soak_guarded_reconciles_and_seeds_the_balances(tmp_path: Path) -> None:
    velocity_or_skip()
    output = succeeded(make(quick("make soak-guarded"), tmp_path / "log", 900), "make soak-guarded")
    assert re.search(r"^=+ 1 passed\b", output, re.M), "the soak ran (one pattern) and passed"
    assert re.search(r"^    soak pattern 1: exact \d+ s after the last write$", output, re.M)
    assert re.search(r"^    guard init seeded the balance items of \d+ accounts", output, re.M)


def fingerprint() -> dict[str, str]:
    """A hash of every file in reports/ and of the documents that quote its figures (tools/docs.py)."""
    quoting = [TEST_FIGURES_DOC, LOCAL_ACCOUNT_FIGURES_DOC]
    files = [*quoting, *sorted(p for p in (ROOT / "reports").rglob("*") if p.is_file())]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture
def recorded_figures_kept() -> Iterator[None]:
    """The test must leave reports/ and the documents quoting it as they were: a quick form records elsewhere."""
    before = fingerprint()
    yield
    assert fingerprint() == before, "a quick form changed the recorded figures"


def benchmark_elsewhere(command: str, folder: Path, limit: float) -> None:
    """Run a benchmark's quick form on the local account, recording in ``folder`` (and its log there)."""
    velocity_or_skip()
    succeeded(make(quick(command, f"BENCH_OUT={folder}"), folder / "log", limit), command)


@quick_form("make bench-sandbox", "BENCH_QUICK=1")
@pytest.mark.timeout(660)
@pytest.mark.usefixtures("recorded_figures_kept")
def test_make_bench_sandbox_measures_every_figure_elsewhere(tmp_path: Path) -> None:
    benchmark_elsewhere("make bench-sandbox", tmp_path, 600)
    record = json.loads((tmp_path / "bench-sandbox.json").read_text())
    unmeasured = [label for label, value in record["figures"].items() if not value > 0]
    assert record["figures"] and unmeasured == []


@quick_form("make bench-report", "BENCH_QUICK=1")
@pytest.mark.timeout(1260)
@pytest.mark.usefixtures("recorded_figures_kept")
def test_make_bench_report_writes_every_section_elsewhere(tmp_path: Path) -> None:
    benchmark_elsewhere("make bench-report", tmp_path, 1200)
    saved: dict[str, Any] = json.loads((tmp_path / "benchmark.json").read_text())
    ours = [run for run in saved["runs"] if run["name"] != "naive"]
    assert len(ours) == 4 and len(saved["runs"]) == 5, "patterns 1 and 2, with and without crashes; the baseline"
    for run in ours:  # exact whatever the faults: nothing lost, nothing counted twice
        assert (run["lost"], run["double_counted"], run["time_to_exact"] is not None) == (0, 0, True), run["name"]
    assert saved["guard"]["costs"] and all(cost["committed"] for cost in saved["guard"]["costs"])
    lifecycles = {cost["kind"]: cost for cost in saved["holds"]["costs"]}
    assert all(cost["lifecycles"] for cost in lifecycles.values()) and len(lifecycles) == 6
    assert {load["name"].split(", ")[0] for load in saved["holds"]["loads"]} == {"debits", "holds"}
    assert [run["consumer_exact"] for run in saved["events"]["runs"]] == [True, True]
    rows, listed = saved["listing"]["rows"], {one["name"]: one for one in saved["listing"]["listings"]}
    assert (listed["no filter"]["returned"], listed["1% filter (currency=USD)"]["returned"]) == (rows, rows // 100)
    assert listed["1% filter (currency=USD)"]["read"] == rows, "a filter reads every row it passes over"
    history = saved["history"]
    statement, fold = (answer["cost"] for answer in history["answers"])
    assert (statement["calls"], fold["items_read"]) == ({"Query": 1}, history["rows"]), "one Query against every row"
    assert [run["written"] for run in history["runs"]] == [history["closed"], history["closed"], 0]
    assert {p.name for p in tmp_path.iterdir()} >= {"benchmark.md", "summary-lag.png", "write-units.png"}
