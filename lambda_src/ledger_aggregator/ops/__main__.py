"""Operator's tools for the ledger.

  python -m ledger_aggregator.ops reconcile [--account ID]

The stack is found in .sandbox/outputs.json when a local sandbox is up (or the file
given with --outputs), else in `terraform output` of the current folder; credentials
and region come from the usual AWS environment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from .reconcile import progress_line, reconcile


def stack_outputs(path: str | None) -> dict[str, Any]:
    """Terraform outputs of the stack, from a sandbox outputs file or terraform itself."""
    candidate = Path(path) if path else Path(".sandbox/outputs.json")
    if candidate.exists():
        sandbox = json.loads(candidate.read_text())
        os.environ.update(
            AWS_ENDPOINT_URL=sandbox["awsEndpointUrl"],
            AWS_REGION=sandbox["region"],
            AWS_DEFAULT_REGION=sandbox["region"],
        )
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        return dict(sandbox["terraform"])
    if path:
        raise SystemExit(f"ops: {path} does not exist")
    done = subprocess.run(["terraform", "output", "-json"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ops: no sandbox outputs and `terraform output` failed: {done.stderr.strip()}")
    return {name: value["value"] for name, value in json.loads(done.stdout).items()}


def main(argv: list[str] | None = None) -> int:
    """Entry point; the exit code is non-zero when reconcile finds differences."""
    parser = argparse.ArgumentParser(prog="python -m ledger_aggregator.ops", description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", help="a sandbox outputs.json (default: .sandbox/outputs.json if present)")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("reconcile", help="recompute summaries from the details table and show differences")
    check.add_argument("--account", help="only this account")
    args = parser.parse_args(argv)
    outputs = stack_outputs(args.outputs)
    client = boto3.client("dynamodb")
    found = reconcile(
        client,
        outputs["details_table"]["name"],
        outputs["summary_table"]["name"],
        args.account,
        progress_line("scanning"),
    )
    print(file=sys.stderr)
    for difference in found:
        print(difference.describe())
    print(f"{len(found)} difference(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
