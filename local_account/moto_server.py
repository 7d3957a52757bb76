"""moto's server, in process, patched to answer as AWS does where the stack depends on it.

The patches are ``local_account.patches`` (by purpose, applied in one written order by ``patch_moto``); this
module serves moto's WSGI app with them, on a loopback port (``start``), and lets the local gateway call
it in process (``call_in_process``).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from .clock import Clock
from .patches import patch_moto

# Requests moto answers at once: the gateway's, the pollers', every warm function's, and an Invoke that
# waits for its function (Terraform's aws_lambda_invocation).
SERVER_THREADS = 24


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# endpoint URL -> moto's app serving it in this process: the local gateway's integrations call it
# directly, as a WSGI call, instead of over a loopback connection (``call_in_process``).
_IN_PROCESS: dict[str, Any] = {}


def sdk_attempt(header: str) -> int:
    """The attempt number an AWS SDK puts in its ``amz-sdk-request`` header ("attempt=2; max=25"); 1 without."""
    found = re.search(r"attempt=(\d+)", header)
    return int(found[1]) if found else 1


SLOW_SECONDS = 10.0  # an answer that took longer is logged: an SDK may have given up on it and sent it again


class RetryLog:
    """One line per event that can make an SDK send a request again, in a file: a retry (its attempt above
    1), a 5xx answer, an answer slower than SLOW_SECONDS, and each new deepest queue of requests waiting for
    one of the server's threads. When a create is answered "already exists", it shows why."""

    def __init__(self, path: Path) -> None:
        self.path, self._lock, self._deepest = path, threading.Lock(), 0

    def write(self, text: str) -> None:
        """Append one line, stamped with the time."""
        with self._lock, self.path.open("a") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    def queue_depth(self, depth: int) -> None:
        """Note how many requests wait for a thread, when no queue was as deep before."""
        if depth > self._deepest:
            self._deepest = depth
            self.write(f"{depth} requests wait for a server thread (the deepest yet)")

    def warning(self, message: str, *args: Any) -> None:
        """waitress's queue logger's one call ("Task queue depth is %d")."""
        self.queue_depth(int(args[0]) if args else 0)


def with_retry_log(app: Any, log: RetryLog) -> Callable[..., Iterable[bytes]]:
    """``app``, noting in ``log`` each request an SDK sends again, each 5xx answer and each slow one."""

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        attempt = sdk_attempt(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
        call = environ.get("HTTP_X_AMZ_TARGET") or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        began = time.monotonic()

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            took = time.monotonic() - began
            if attempt > 1 or status.startswith("5") or took > SLOW_SECONDS:
                log.write(f"attempt {attempt} {call} -> {status} in {took:.1f} s")
            return start_response(status, headers, *exc_info)

        return app(environ, start)  # type: ignore[no-any-return]

    return logged


def with_clock(app: Any, clock: Clock) -> Callable[..., Iterable[bytes]]:
    """``app``, answering with the account's time in the ``Date`` header (``local_account.clock``), which
    ``ledger-ops`` reads DynamoDB's clock from; waitress would otherwise stamp the machine's time."""

    def dated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "date"]
            return start_response(status, [*kept, ("Date", clock.http_date())], *exc_info)

        return app(environ, start)  # type: ignore[no-any-return]

    return dated


class TerraformAnswers:
    """The 2xx answers given to Terraform's AWS provider, by its SDK's invocation id, so that an attempt sent
    again after one of them is answered as that attempt was (``replayed``).

    A workaround, not AWS's behaviour: on a loaded machine the provider's SDK lost 4 answers of 613 in one
    apply and destroy (each request sent again within 120 ms of its first attempt, which the server had
    carried out and answered 2xx), so that a create was answered "already exists" and the apply failed. The
    cause was not found. An SDK sends an attempt again only when it did not get the answer, and every attempt
    of one call carries the same ``amz-sdk-invocation-id``: a later attempt of a call already answered 2xx
    proves the answer lost on the way, and gets it again. Every such replay is noted in the retry log."""

    KEPT = 2_000  # the latest answers kept: an SDK sends its attempts again within seconds

    def __init__(self) -> None:
        self._answers: dict[str, tuple[str, list[tuple[str, str]], bytes]] = {}
        self._lock = threading.Lock()

    def served(self, app: Any, log: RetryLog | None) -> Callable[..., Iterable[bytes]]:
        """``app``, keeping Terraform's 2xx answers and answering a lost one's later attempts with it."""

        def answered(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
            if not invocation or "Terraform/" not in environ.get("HTTP_USER_AGENT", ""):
                return app(environ, start_response)  # type: ignore[no-any-return]
            with self._lock:
                kept = self._answers.get(invocation)
            if kept is not None:
                status, headers, body = kept
                if log:
                    log.write(f"replayed the 2xx answer of invocation {invocation}, lost on the way: {status}")
                start_response(status, headers)
                return [body]
            return self._keeping(app, environ, start_response, invocation)

        return answered

    def _keeping(
        self, app: Any, environ: dict[str, Any], start_response: Callable[..., Any], invocation: str
    ) -> Iterable[bytes]:
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            started.append((status, list(headers)))
            return start_response(status, headers, *exc_info)

        result = app(environ, start)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if started and started[-1][0].startswith("2"):
            with self._lock:
                self._answers[invocation] = (*started[-1], body)
                while len(self._answers) > self.KEPT:
                    del self._answers[next(iter(self._answers))]
        return [body]


class MotoServer:
    """moto's WSGI app served by waitress on a loopback port, in a background thread (with ``retry_log``,
    what can make an SDK send a request again is noted there: ``RetryLog``)."""

    def __init__(
        self, port: int, threads: int = SERVER_THREADS, retry_log: Path | None = None, clock: Clock | None = None
    ) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._app = app = DomainDispatcherApplication(create_backend_app)
        self._sockets: dict[int, Any] = {}  # the server's, its trigger's and every connection's
        log = RetryLog(retry_log) if retry_log else None
        served = with_clock(TerraformAnswers().served(app, log), clock or Clock())
        server = create_server(
            with_retry_log(served, log) if log else served,
            map=self._sockets,
            host="127.0.0.1",
            port=port,
            threads=threads,
            connection_limit=1000,  # every Lambda worker, poller and test client keeps its connections
            channel_timeout=900,  # an Invoke answers when the function ends (at most its 900 s timeout)
        )
        assert isinstance(server, BaseWSGIServer), "one address, one listening socket"
        if log:
            server.task_dispatcher.queue_logger = log  # type: ignore[assignment]
        self._server = server
        self._thread = threading.Thread(target=self._server.run, name="moto-server", daemon=True)

    def start(self) -> MotoServer:
        """Start answering."""
        self._thread.start()
        _IN_PROCESS[self.url] = self._app
        return self

    def stop(self) -> None:
        """Stop answering and close every connection."""
        _IN_PROCESS.pop(self.url, None)
        trigger: Any = self._server.trigger  # (waitress's stubs type it as an int)

        def close() -> None:  # a connection that errs while closing is closed all the same
            wasyncore.close_all(self._sockets, ignore_all=True)

        try:
            trigger.pull_trigger(close)  # closed in the loop's own thread
        except OSError:  # the loop has already closed its trigger (seen once in a bench run): close here
            close()
        self._thread.join(timeout=10)
        self._server.task_dispatcher.shutdown()


def start(port: int | None = None, retry_log: Path | None = None, clock: Clock | None = None) -> tuple[MotoServer, str]:
    """Start moto on a free loopback port (logging SDK retries and 5xx answers to ``retry_log``, if given;
    its answers dated by ``clock``); return its server and its endpoint URL.

    moto's own ``ThreadedMotoServer`` is werkzeug's development server, which closes the connection
    after every answer ("Connection: close", by design) and starts a thread per connection: every SDK
    call paid a TCP connect and a thread. AWS's endpoints keep connections alive, and so does waitress,
    a WSGI server made for it, with a fixed pool of request threads.
    """
    patch_moto()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" notes under load
    server = MotoServer(port or free_port(), retry_log=retry_log, clock=clock).start()
    return server, server.url


def dynamodb_headers(action: str, region: str = "eu-west-1") -> dict[str, str]:
    """The headers of an SDK-shaped DynamoDB JSON call of ``action``: its target, media type, and an
    Authorization header that names the service and region (moto routes by them; it checks no signature)."""
    return {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{action}",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=local",
    }


def call_in_process(endpoint: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str] | None:
    """POST to moto's server at ``endpoint`` as a WSGI call, when it runs in this process; else None.

    The request is the one a client would send (same path, headers and body, through the same app:
    dispatch, execution roles, moto), without the loopback connection and the two thread handoffs of
    the server's answer.
    """
    app = _IN_PROCESS.get(endpoint)
    if app is None:
        return None
    environ = EnvironBuilder(
        base_url=endpoint, path=path, method="POST", data=body, headers=list(headers.items())
    ).get_environ()
    answer, status, _ = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(answer).decode()
