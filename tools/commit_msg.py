"""Commit messages: a subject of 72 characters or fewer, then a blank line before any body.

``commit_msg.py FILE`` checks a message file as git's commit-msg hook passes it (pre-commit runs it:
.pre-commit-config.yaml); the comment lines git adds, and everything below its scissors line, are not
the message. ``commit_msg.py --range A..B`` checks the commits of a range, such as a branch's new
commits before it is merged (``make commit-messages SINCE=main``). History that has landed is not checked:
it cannot be rewritten.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

LIMIT = 72
SCISSORS = "# ------------------------ >8 ------------------------"
# A fixup or squash is folded into the commit it names, whose subject is checked.
FOLDED = ("fixup! ", "squash! ", "amend! ")


def message_lines(text: str) -> list[str]:
    """The message as git keeps it: comments and what follows the scissors dropped, outer blank lines too."""
    lines = text.split(SCISSORS + "\n", 1)[0].splitlines()
    lines = [line.rstrip() for line in lines if not line.startswith("#")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def problems(text: str) -> list[str]:
    """What is wrong with a commit message; empty when nothing is."""
    lines = message_lines(text)
    if not lines:
        return ["the message is empty"]
    subject = lines[0]
    while subject.startswith(FOLDED):
        subject = subject.split(" ", 1)[1]
    found = []
    if len(subject) > LIMIT:
        found.append(f"the subject is {len(subject)} characters, over {LIMIT}: say the rest in the body")
    if len(lines) > 1 and lines[1]:
        found.append("the body must be parted from the subject by a blank line")
    return found


def range_messages(revisions: str, cwd: Path | None = None) -> list[tuple[str, str]]:
    """(short hash, message) of each commit of a range, oldest first."""
    log = subprocess.run(
        ["git", "log", "--reverse", "--format=%h%x00%B%x1e", revisions],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entries = [entry.strip("\n").split("\x00", 1) for entry in log.split("\x1e") if entry.strip()]
    return [(commit, message) for commit, message in entries]


def main(argv: list[str] | None = None) -> int:
    """Check a message file, or every commit of a range; exit 1 when one is refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", type=Path, help="a commit message file (the commit-msg hook's argument)")
    what.add_argument("--range", dest="revisions", help="the commits of a revision range, e.g. main..HEAD")
    args = parser.parse_args(argv)
    messages = range_messages(args.revisions) if args.revisions else [("this commit", args.file.read_text())]
    refused = 0
    for commit, message in messages:
        for problem in problems(message):
            print(f"{commit}: {problem}", file=sys.stderr)
            refused = 1
    return refused


if __name__ == "__main__":
    raise SystemExit(main())
