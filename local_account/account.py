"""The local AWS account: moto, Lambda execution, event source mappings, schedules and API Gateway, together."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import fault_plan, moto_server
from .apigateway import Gateway, serve
from .clock import Clock
from .esm import EventSourceMappings
from .lambdas import LambdaRuntime
from .patches import features
from .scheduler import Scheduler

REGION = "eu-west-1"
# Where the account logs each SDK retry and 5xx answer (moto_server.with_retry_log), in its log folder; the
# environment names it (RETRY_LOG_VARIABLE) so that a failed terraform command can quote it (harness.stack).
RETRY_LOG = "sdk-retries.log"
RETRY_LOG_VARIABLE = "CQRS_LOCAL_RETRY_LOG"
# The local account's one credential pair: what Terraform, boto3 and the CLI use, and what the local
# gateway checks SigV4 signatures with (make sandbox prints it).
ACCESS_KEY_ID, SECRET_ACCESS_KEY = "local", "local"


@dataclass
class LocalAccount:
    """Everything the stack needs to run on this machine. Start, use, stop."""

    log_dir: Path
    region: str = REGION
    injected: fault_plan.Faults = field(default_factory=fault_plan.Faults)
    clock: Clock = field(default_factory=Clock)  # the account's time, which a test moves forward
    endpoint: str = ""
    gateway_url: str = ""
    _parts: dict[str, Any] = field(default_factory=dict)
    _environment_before: dict[str, str | None] = field(default_factory=dict)

    def start(self) -> LocalAccount:
        """Start moto, the Lambda runtime, the mappings and the gateway on free loopback ports."""
        fault_plan.ACTIVE = self.injected
        self.log_dir.mkdir(parents=True, exist_ok=True)
        server, self.endpoint = moto_server.start(retry_log=self.log_dir / RETRY_LOG, clock=self.clock)
        environment = self.environment()
        self._environment_before = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        runtime = LambdaRuntime(self.endpoint, self.region, self.log_dir, self.clock)
        features.route_invocations(runtime.answer)
        mappings = EventSourceMappings(self.endpoint, self.region, runtime)
        mappings.start()
        port = moto_server.free_port()
        http = serve(Gateway(self.endpoint, self.region, {ACCESS_KEY_ID: SECRET_ACCESS_KEY}, self.clock), port)
        self.gateway_url = f"http://127.0.0.1:{port}"
        scheduler = Scheduler(self.clock, runtime, self.endpoint, self.region).start()
        self._parts = {"moto": server, "runtime": runtime, "mappings": mappings, "scheduler": scheduler, "http": http}
        return self

    def environment(self) -> dict[str, str]:
        """What Terraform, boto3 and the CLI need to reach this account."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            RETRY_LOG_VARIABLE: str(self.log_dir / RETRY_LOG),
        }

    def api_base(self, outputs: dict[str, Any]) -> str:
        """The base URL of the deployed stage on the local gateway."""
        return f"{self.gateway_url}/{outputs['rest_api_id']}/{outputs['stage_name']}"

    @property
    def scheduler(self) -> Scheduler:
        """The running scheduler (its runs)."""
        return self._parts["scheduler"]  # type: ignore[no-any-return]

    @property
    def mappings(self) -> EventSourceMappings:
        """The running event source mappings (their counters)."""
        return self._parts["mappings"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Stop everything, in reverse order."""
        if not self._parts:
            return
        self._parts["http"].shutdown()
        self._parts["scheduler"].stop()
        self._parts["mappings"].stop()
        self._parts["runtime"].stop()
        self._parts["moto"].stop()
        self._parts = {}
        for name, value in self._environment_before.items():  # what start() set, as it was before
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
