"""The harness's Terraform driver (harness/stack.py), with terraform itself replaced by a recorder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.stack import Stack, TerraformError, account_policy


class Recorder:
    """Answers terraform commands as told, and keeps the variables each one was given."""

    def __init__(self, failing: set[str], said: str = "") -> None:
        self.failing = failing
        self.said = said  # the standard output of every command
        self.given: list[tuple[str, dict[str, Any]]] = []

    def cmd(self, command: str, *args: Any, **options: Any) -> tuple[int, str, str]:
        self.given.append((command, json.loads(Path(options["var_file"]).read_text())))
        return (1, self.said, "Error: creating API Gateway Stage") if command in self.failing else (0, self.said, "")


def ui(*messages: dict[str, Any]) -> str:
    """Lines of Terraform's machine-readable UI, as ``-json`` prints them."""
    return "\n".join(json.dumps({"@level": "info", **m}) for m in messages) + "\n"


def test_a_destroy_after_a_failed_apply_takes_the_variables_that_apply_was_given(tmp_path: Path) -> None:
    """Before: a first apply of pattern 1 that failed left the destroy to assume pattern 2, which the
    variables of a retired buffer refuse ("var.buffer.retired is true, var.pattern is 2"), and the stack's
    resources stayed in the local account."""
    stack = Stack(tmp_path, {"buffer": {"retired": True}})
    stack._tf = recorder = Recorder(failing={"apply"})
    with pytest.raises(TerraformError):
        stack.apply(1)
    stack.state.write_text("{}")  # what the failed apply created is in its state
    stack.destroy()
    assert [(command, given["pattern"]) for command, given in recorder.given] == [("apply", 1), ("destroy", 1)]


def test_the_account_policy_is_rendered_by_the_module_outside_the_repository() -> None:
    """Before: the module read the id patterns from the repository's ids.json, and the copy of its folder
    that terraform console evaluates had none: make demo failed ("no file exists at ./../../lambda_src")."""
    api = {
        "execution_arn": "arn:aws:execute-api:eu-west-1:123456789012:abc123",
        "stage_name": "v1",
        "routes": {"read": ["GET/accounts/{accountId}"], "post": ["POST/x"], "transfer": ["POST/y"]},
    }
    policy = account_policy(api, [{"accounts": ["acc-1"], "operations": ["read"]}])
    resources = [r for statement in policy["Statement"] for r in statement["Resource"]]
    assert resources == ["arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/accounts/acc-1"]


def test_an_apply_returns_the_outputs_it_reported_and_runs_no_output_command(tmp_path: Path) -> None:
    stack = Stack(tmp_path, {})
    outputs = {"pattern": {"sensitive": False, "type": "number", "value": 2}, "api_url": {"value": "http://x"}}
    said = ui({"type": "version"}, {"type": "outputs", "outputs": outputs})
    stack._tf = recorder = Recorder(failing=set(), said=said)
    assert stack.apply(2) == {"pattern": 2, "api_url": "http://x"}
    assert [command for command, _ in recorder.given] == ["apply"]


def test_a_plan_lists_the_changes_it_reported_without_reads_and_a_refusal_says_why(tmp_path: Path) -> None:
    stack = Stack(tmp_path, {})
    change = {"type": "planned_change", "change": {"resource": {"addr": "aws_sqs_queue.buffer"}, "action": "create"}}
    read = {"type": "planned_change", "change": {"resource": {"addr": "data.aws_region.current"}, "action": "read"}}
    stack._tf = Recorder(failing=set(), said=ui(change, read, {"type": "change_summary"}))
    assert stack.plan(2) == [("aws_sqs_queue.buffer", "create")]
    refusal = {"severity": "error", "summary": "Invalid value for variable", "detail": "marker_ttl_days must be whole"}
    warning = {"severity": "warning", "summary": "Deprecated", "detail": "an old argument"}
    said = ui({"type": "diagnostic", "diagnostic": warning}, {"type": "diagnostic", "diagnostic": refusal})
    stack._tf = Recorder(failing={"plan"}, said=said)
    with pytest.raises(TerraformError, match="Invalid value for variable\nmarker_ttl_days must be whole") as refused:
        stack.plan(2)
    assert "Deprecated" not in str(refused.value)
