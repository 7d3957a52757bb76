"""One warm Lambda execution environment: imports the handler once, then serves invocations.

Protocol: one JSON line in on stdin per invocation (``{"event", "context", "clock"}``), one JSON
line out on the protocol pipe (``{"result"}`` or ``{"error", "type"}``). The handler's own
output (Powertools' JSON logs, prints) goes to stderr, which the runtime keeps as the
function's log.

``clock`` is how far the local account's clock is ahead of the machine's (``local_account.clock``):
``time.time()`` answers the account's time inside the function, as a function on AWS reads AWS's. It is
replaced before the handler is imported, so that a default argument bound to it follows the clock too.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass

_machine_time = time.time
_ahead = [0.0]  # seconds the account's clock is ahead of the machine's, as the latest invocation said


def _account_time() -> float:
    return _machine_time() + _ahead[0]


def _account_time_ns() -> int:
    return int(_account_time() * 1e9)


@dataclass
class Context:
    """The Lambda context object a handler receives."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the invocation times out."""
        return max(0, self.deadline_ms - int(_machine_time() * 1000))  # the runtime's deadline: machine time


def main() -> None:
    """Serve invocations until stdin closes."""
    code_dir, handler_path = sys.argv[1], sys.argv[2]
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything the handler prints is log output
    sys.path.insert(0, code_dir)
    time.time, time.time_ns = _account_time, _account_time_ns
    module_name, _, function_name = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        _ahead[0] = float(request.get("clock", 0.0))
        try:
            result = handler(request["event"], Context(**request["context"]))
            protocol.write(json.dumps({"result": result}, default=str) + "\n")
        except Exception as error:  # the function's error, reported as Lambda reports it
            traceback.print_exc()
            protocol.write(json.dumps({"error": str(error), "type": type(error).__name__}) + "\n")


if __name__ == "__main__":
    main()
