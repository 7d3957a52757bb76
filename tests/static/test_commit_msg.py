"""New commits have a subject of 72 characters or fewer and a blank line before any body (tools/commit_msg.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tools import commit_msg
from tools.commit_msg import problems

ROOT = Path(__file__).resolve().parents[2]
TOO_LONG = "the subject is 73 characters, over 72: say the rest in the body"


def test_a_subject_of_72_characters_with_a_body_passes() -> None:
    assert problems("s" * 72 + "\n\nThe body says the rest.\n") == []
    assert problems("A subject alone\n") == []


def test_a_long_subject_or_a_body_against_it_is_refused() -> None:
    assert problems("s" * 73 + "\n") == [TOO_LONG]
    assert problems("A subject\nthe body at once\n") == ["the body must be parted from the subject by a blank line"]
    assert problems("\n# only a comment\n") == ["the message is empty"]


def test_what_git_drops_is_not_the_message() -> None:
    """Comment lines, what follows the scissors line (commit --verbose), and outer blank lines."""
    long = "#" + "x" * 100
    message = f"\n\nA subject\n\nA body.\n{long}\n{commit_msg.SCISSORS}\n" + "diff " * 40 + "\n"
    assert commit_msg.message_lines(message) == ["A subject", "", "A body."]
    assert problems(message) == []
    assert problems("fixup! " + "s" * 72 + "\n") == [], "a fixup is folded into the commit it names"


def test_a_range_is_checked_commit_by_commit(tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    for message in ("landed " + "s" * 80, "Short\n\nWith a body.", "s" * 73):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)
    messages = [m for _, m in commit_msg.range_messages("HEAD~2..HEAD", tmp_path)]
    assert messages == ["Short\n\nWith a body.", "s" * 73]
    assert [problems(m) for m in messages] == [[], [TOO_LONG]]


def test_pre_commit_installs_the_message_hook() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert "commit-msg" in config["default_install_hook_types"]
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    (hook,) = [hook for hook in hooks if "commit-msg" in hook.get("stages", [])]
    assert hook["entry"].endswith("tools/commit_msg.py")
