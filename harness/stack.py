"""Terraform, driven through python-terraform: the same stack, local or in a real account."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from local_account.account import RETRY_LOG_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
IDS = Path("lambda_src/ledger_aggregator/ids.json")  # the id patterns, which modules/account_access reads

# The `tables` setting of the stacks the tests, the demo and the benchmark create and destroy themselves:
# no table keeps deletion protection (it is on by default for every table).
UNPROTECTED = {
    f"{table}_deletion_protection": False for table in ("details", "summary", "applied", "balances", "history", "holds")
}
# Their `buffer` setting: the writer's removal guard does not hold their destroy back (it refuses to let the
# buffer go while it holds a message, and such stacks are thrown away whole).
UNGUARDED = {"removal_guard": False}
# Their `api` setting: no access log, chosen (so that no plan warns of it). The local account, like a fresh
# AWS account, names no API Gateway CloudWatch role, and a stage that logs without one is refused.
UNLOGGED = {"access_log": False}


class TerraformError(RuntimeError):
    """A terraform command failed; the message holds its output."""


def local_retries(lines: int = 20) -> str:
    """The local account's last SDK retries and 5xx answers, when Terraform talks to one that logs them."""
    named = os.environ.get(RETRY_LOG_VARIABLE)
    log = Path(named) if named else None
    if log is None or not log.is_file():
        return ""
    logged = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join([f"\nthe local account's last SDK retries and 5xx answers ({log}):", *logged])


def cli_config() -> str | None:
    """The CLI config that points terraform init at a local provider mirror, if there is one."""
    done = subprocess.run(
        [str(ROOT / "tools" / "terraformrc.sh"), str(ROOT / ".terraformrc.generated")],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


class Stack:
    """One deployment of the root module, with its own state file and variables."""

    def __init__(self, state_dir: Path, variables: dict[str, Any]) -> None:
        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state = state_dir / "terraform.tfstate"
        self.var_file = state_dir / "stack.tfvars.json"
        self.variables = dict(variables)
        self.pattern: int | None = None  # the pattern of the last apply, whether or not it succeeded
        config = cli_config()
        if config:
            os.environ["TF_CLI_CONFIG_FILE"] = config
        self._tf = Terraform(working_dir=str(ROOT), terraform_bin_path=shutil.which("terraform") or "terraform")

    def _run(self, command: str, *args: str, **options: Any) -> str:
        if command in ("init", "plan", "apply", "destroy"):
            options["input"] = False
        code, out, err = self._tf.cmd(command, *args, no_color=IsFlagged, **options)
        if code not in (0, 2) or (code == 2 and command != "plan"):
            said = "\n".join(errors(out)) if options.get("json") else ""
            raise TerraformError(f"terraform {command} failed ({code}):\n{said or err or out}{local_retries()}")
        return str(out)

    def _files(self) -> dict[str, str]:
        """The ``-state`` and ``-var-file`` options of a plan, apply or destroy of this stack."""
        return {"state": str(self.state), "var_file": str(self.var_file)}

    def _run_json(self, command: str, **options: Any) -> list[dict[str, Any]]:
        """A plan or apply with ``-json``: the messages of Terraform's machine-readable UI, one per line."""
        return ui_messages(self._run(command, json=IsFlagged, **self._files(), **options))

    def init(self) -> None:
        """terraform init (providers from the local mirror when present)."""
        self._run("init", backend=False)

    def _write_vars(self, pattern: int) -> None:
        self.var_file.write_text(json.dumps({**self.variables, "pattern": pattern}, indent=2))

    def apply(self, pattern: int) -> dict[str, Any]:
        """Apply the stack with this pattern; return its outputs (the apply's own ``outputs`` message, so no
        ``terraform output`` is run after it)."""
        self._write_vars(pattern)
        self.pattern = pattern  # set first: a destroy after a failed apply takes the variables it was given
        said = [m["outputs"] for m in self._run_json("apply", auto_approve=IsFlagged) if m.get("type") == "outputs"]
        if not said:
            return self.outputs()
        return {name: output["value"] for name, output in said[-1].items()}

    def outputs(self) -> dict[str, Any]:
        """terraform output, as plain values."""
        raw = json.loads(self._run("output", "-json", state=str(self.state)))
        return {name: value["value"] for name, value in raw.items()}

    def plan(self, pattern: int) -> list[tuple[str, str]]:
        """(address, action) of every resource the plan for this pattern would change: its ``planned_change``
        messages (an action is ``create``, ``update``, ``delete``, ``replace``, ...; a no-op sends none)."""
        self._write_vars(pattern)
        return [
            (m["change"]["resource"]["addr"], m["change"]["action"])
            for m in self._run_json("plan")
            if m.get("type") == "planned_change" and m["change"]["action"] != "read"
        ]

    def destroy(self) -> None:
        """Destroy everything in this stack's state (with the variables as they are now, not as last planned)."""
        if self.state.exists():
            self._write_vars(self.pattern or 2)
            self._run("destroy", auto_approve=IsFlagged, **self._files())


def ui_messages(out: str) -> list[dict[str, Any]]:
    """The messages of Terraform's machine-readable UI (``-json``), one JSON object per line
    (https://developer.hashicorp.com/terraform/internals/machine-readable-ui)."""
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def errors(out: str) -> list[str]:
    """The error diagnostics of a ``-json`` command's output, each as its summary and detail."""
    said = [m["diagnostic"] for m in ui_messages(out) if m.get("type") == "diagnostic"]
    return [f"Error: {d['summary']}\n{d.get('detail', '')}" for d in said if d.get("severity") == "error"]


def account_policy(api_access: dict[str, Any], grants: list[dict[str, list[str]]]) -> dict[str, Any]:
    """The IAM policy document modules/account_access renders for these grants (Terraform evaluates it).

    The module is pure (no provider, nothing created), so ``terraform console`` evaluates it in a
    copy of its folder, which keeps the repository free of the state file console writes; beside it, as in
    the repository, the id patterns it reads.
    """
    with tempfile.TemporaryDirectory(prefix="account-access-") as work:
        module = Path(work) / "modules" / "account_access"
        shutil.copytree(ROOT / "modules" / "account_access", module)
        (Path(work) / IDS).parent.mkdir(parents=True)
        shutil.copy(ROOT / IDS, Path(work) / IDS)
        (module / "grants.tfvars.json").write_text(json.dumps({"api": api_access, "grants": grants}))
        done = subprocess.run(
            [shutil.which("terraform") or "terraform", f"-chdir={module}", "console", "-var-file=grants.tfvars.json"],
            input="jsonencode(local.document)\n",
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull},
        )
    if done.returncode != 0:
        raise TerraformError(f"terraform console failed ({done.returncode}):\n{done.stderr}")
    return dict(json.loads(json.loads(done.stdout)))
