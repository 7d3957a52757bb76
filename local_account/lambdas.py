"""Lambda execution for the local account.

Functions run from the zip that was *deployed* (read from the local account's Lambda
state, not from dist/), in warm worker subprocesses of the local Python, with the
function's environment variables, handler and timeout. An invocation past its
timeout kills its worker and counts as an error, as on AWS. The deployed runtime
(python3.12 on arm64) differs from the local Python; the package is pure Python
apart from wrapt, which falls back to its pure-Python implementation.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from . import execution_roles, fault_plan
from .clock import Clock

ACCOUNT = DEFAULT_ACCOUNT_ID  # the account moto serves


@dataclass
class Outcome:
    """What one invocation gave: the handler's result, or its error (``timeout`` included)."""

    result: Any = None
    error: str | None = None
    error_type: str | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the handler returned."""
        return self.error is None


@dataclass
class _Function:
    name: str
    handler: str
    timeout: int
    memory: int
    arn: str
    code_dir: Path
    environment: dict[str, str]
    revision: str
    idle: queue.SimpleQueue[_Worker] = field(default_factory=queue.SimpleQueue)


class _Worker:
    def __init__(self, function: _Function, env: dict[str, str], log: Any) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_account.worker", str(function.code_dir), function.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            text=True,
            cwd=str(Path(__file__).resolve().parents[1]),
        )
        self.revision = function.revision
        self._read_line(timeout=60)

    def _read_line(self, timeout: float) -> dict[str, Any]:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            raise TimeoutError
        return dict(json.loads(box[0]))

    def invoke(self, event: Any, context: dict[str, Any], timeout: float, clock: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"event": event, "context": context, "clock": clock}) + "\n")
        self.process.stdin.flush()
        return self._read_line(timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


class LambdaRuntime:
    """Invokes the functions deployed in the local account."""

    def __init__(self, endpoint: str, region: str, log_dir: Path, clock: Clock | None = None) -> None:
        self._endpoint = endpoint
        self._clock = clock or Clock()  # the account's: time.time() inside a function (local_account.worker)
        self._region = region
        self._log_dir = log_dir
        self._code_root = Path(tempfile.mkdtemp(prefix="ledger-lambda-"))
        self._functions: dict[str, _Function] = {}
        self._lock = threading.Lock()
        log_dir.mkdir(parents=True, exist_ok=True)

    def invoke(self, name: str, event: Any, *, faults_apply: bool = True) -> Outcome:
        """Invoke a function synchronously (RequestResponse); the injected crashes are the mappings' only."""
        function = self._function(name)
        crash = fault_plan.ACTIVE.crash_point() if faults_apply else None
        if crash == "before":
            return Outcome(error="injected crash before the handler ran", error_type="Crash")
        try:
            worker = self._worker(function)
        except (TimeoutError, BrokenPipeError, json.JSONDecodeError, OSError):
            # The handler could not be imported or the runtime did not start: an init error, as on AWS.
            return Outcome(error="the function's runtime did not start (see its log)", error_type="InitError")
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        context = {
            "function_name": function.name,
            "function_version": "$LATEST",
            "invoked_function_arn": function.arn,
            "memory_limit_in_mb": function.memory,
            "aws_request_id": request_id,
            "log_group_name": f"/aws/lambda/{function.name}",
            "log_stream_name": "local",
            "deadline_ms": int(time.time() * 1000) + function.timeout * 1000,
        }
        try:
            answer = worker.invoke(event, context, timeout=function.timeout, clock=self._clock.offset)
        except (TimeoutError, BrokenPipeError, json.JSONDecodeError, OSError):
            worker.kill()
            elapsed = (time.monotonic() - started) * 1000
            return Outcome(
                error=f"Task timed out after {function.timeout} seconds", error_type="Timeout", duration_ms=elapsed
            )
        elapsed = (time.monotonic() - started) * 1000
        if crash == "after":  # the writes happened; the answer is lost with the environment
            worker.kill()
            return Outcome(error="injected crash after the handler ran", error_type="Crash", duration_ms=elapsed)
        function.idle.put(worker)
        if "error" in answer:
            return Outcome(error=answer["error"], error_type=answer.get("type"), duration_ms=elapsed)
        return Outcome(result=answer.get("result"), duration_ms=elapsed)

    def _worker(self, function: _Function) -> _Worker:
        while not function.idle.empty():
            worker = function.idle.get()
            if worker.process.poll() is None and worker.revision == function.revision:
                return worker
            worker.kill()
        env = self._environment(function)
        log = (self._log_dir / f"{function.name}.log").open("a")
        return _Worker(function, env, log)

    def _environment(self, function: _Function) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        return {
            **base,
            **function.environment,
            "AWS_ENDPOINT_URL": self._endpoint,
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            "AWS_ACCESS_KEY_ID": execution_roles.access_key(function.name),  # held to the function's role
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def _function(self, name: str) -> _Function:
        deployed = lambda_backends[ACCOUNT][self._region].get_function(name)
        revision = hashlib.sha256(deployed.code_bytes).hexdigest()[:16] + json.dumps(
            [deployed.handler, deployed.environment_vars], sort_keys=True
        )
        with self._lock:
            known = self._functions.get(name)
            if known and known.revision == revision:
                return known
            code_dir = self._code_root / hashlib.sha256(deployed.code_bytes).hexdigest()[:16]
            if not code_dir.exists():
                with zipfile.ZipFile(io.BytesIO(deployed.code_bytes)) as archive:
                    archive.extractall(code_dir)
            function = _Function(
                name=name,
                handler=str(deployed.handler),
                timeout=int(deployed.timeout),
                memory=int(deployed.memory_size),
                arn=deployed.function_arn,
                code_dir=code_dir,
                environment=dict(deployed.environment_vars or {}),
                revision=revision,
            )
            self._functions[name] = function
            return function

    def answer(self, name: str, event: Any) -> tuple[Any, str | None, str | None]:
        """An ``Invoke`` call (Terraform's, an operator's): the result, or the error and its type."""
        outcome = self.invoke(name, event, faults_apply=False)
        return outcome.result, outcome.error, outcome.error_type

    def stop(self) -> None:
        """Stop every warm worker."""
        for function in self._functions.values():
            while not function.idle.empty():
                function.idle.get().kill()
