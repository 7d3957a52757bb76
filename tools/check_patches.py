"""Prove that every patch of the local account is held by a test that fails without it (make check-patches).

Each patch of ``local_account.patches.PATCHES`` names its test (``held_by``). For each, the test runs in a
fresh pytest process started with ``CQRS_LOCAL_ACCOUNT_WITHOUT`` naming the patch, which the patcher then
leaves out: the test must fail. (``make test`` runs the same tests with every patch in place.) A test
that passes without its patch, or that cannot run, is reported, and the command exits 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from local_account.patches import PATCHES
from local_account.patches.speedups import SWITCH
from local_account.patching import WITHOUT

ROOT = Path(__file__).resolve().parents[1]
# A test still running after this long without its patch is taken to fail: the speed-ups' absence shows so.
TIMEOUT_SECONDS = 150


@dataclass(frozen=True)
class Verdict:
    """What a patch's test did without the patch."""

    patch: str
    test: str
    code: int | None  # pytest's exit code: 1 when a test failed or erred; None when it ran out of time
    summary: str  # pytest's last line, such as "1 failed in 2.10s"
    seconds: float

    @property
    def held(self) -> bool:
        """The test itself failed, as it must without its patch (an error in its setup does not count)."""
        timed_out = self.code is None
        return timed_out or (self.code == 1 and " failed" in self.summary and " error" not in self.summary)

    def line(self) -> str:
        """One line of the report."""
        if self.code is None:
            outcome = f"runs past {TIMEOUT_SECONDS} s without it"
        elif self.held:
            outcome = "fails without it"
        elif self.code == 0:
            outcome = "PASSES without it"
        else:
            outcome = f"could not run ({self.summary or f'exit {self.code}'})"
        return f"{outcome:<24} {self.seconds:5.1f} s  {self.patch}  ({self.test})"


def run_without(patch: str, test: str) -> Verdict:
    """Run ``test`` in a process where ``patch`` is left out."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", test],
            env={**{k: v for k, v in os.environ.items() if k != SWITCH}, WITHOUT: patch},  # every other patch in
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return Verdict(patch, test, None, "", time.monotonic() - started)
    lines = done.stdout.strip().splitlines()
    return Verdict(patch, test, done.returncode, lines[-1].strip("= ") if lines else "", time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    """Check every patch (or those named); print one line each as it ends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these patches (by name); default: every patch")
    args = parser.parse_args(argv)
    unknown = set(args.names) - {p.name for p in PATCHES}
    if unknown:
        parser.error(f"no such patch: {', '.join(sorted(unknown))}")
    chosen = [p for p in PATCHES if not args.names or p.name in args.names]
    print(f"==> {len(chosen)} patch(es): each one's test, run without it, must fail")
    verdicts = []
    for number, patch in enumerate(chosen, start=1):
        verdict = run_without(patch.name, patch.held_by)
        verdicts.append(verdict)
        print(f"[{number:2}/{len(chosen)}] {verdict.line()}", flush=True)
    loose = [v for v in verdicts if not v.held]
    print(f"==> {len(verdicts) - len(loose)} of {len(verdicts)} held by a test that fails without them")
    return 1 if loose else 0


if __name__ == "__main__":
    raise SystemExit(main())
