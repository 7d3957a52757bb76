"""The local account and its stack, run by another process (``make sandbox``, ``python -m harness up``):
how it says it is up, and waiting for that.

The run prints ``UP`` and the path of its outputs file once its stack is applied and the file written
(``.sandbox/outputs.json``, or ``.sandbox/<pid>/outputs.json`` beside another run). The file names
the process to stop (``pid``): SIGTERM makes it destroy its stack and exit 0.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

UP = "==> up; outputs in "
POLL_SECONDS = 0.5


def announcement(outputs_file: Path) -> str:
    """The line the run prints once it is up."""
    return f"{UP}{outputs_file}"


def outputs_file_in(log: str) -> Path | None:
    """The outputs file a run's output announces, or None while it has not said it is up."""
    for line in log.splitlines():
        if line.startswith(UP):
            return Path(line.removeprefix(UP).strip())
    return None


def wait_until_up(process: subprocess.Popen[Any], log: Path, limit_seconds: float) -> tuple[Path, dict[str, Any]]:
    """Poll ``log`` (the process's output) until the run says it is up; its outputs file and outputs.

    Raises RuntimeError when the process exits first or ``limit_seconds`` pass (the process is left running).
    """
    deadline = time.monotonic() + limit_seconds
    while (path := outputs_file_in(log.read_text(errors="replace"))) is None:
        if process.poll() is not None:
            raise RuntimeError(f"the local account's run exited ({process.returncode}) before it was up; see {log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the local account's run was not up within {limit_seconds} s; see {log}")
        time.sleep(POLL_SECONDS)
    return path, json.loads(path.read_text())
