"""Closer handler: the scheduled run of the day and month closes (an EventBridge Scheduler schedule).

Each run closes every ``(account, currency)`` up to the last UTC day sealed by this function's clock, a
margin (``SEAL_SECONDS``, from Terraform's ``history.seal_seconds``) after the day's end, with the same code
as ``ledger-ops close`` (``ledger_aggregator.closer``). What it finds closed already it leaves; so a run that
repeats another, or overlaps it, writes nothing twice (docs/history.md).

The scheduler invokes the function asynchronously
(https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html). Once its time is nearly
spent the run starts no more work, and the next one goes on from there without a gap; the keys are taken
in a new random order each run, so that runs that each stop for time do not leave the same keys behind.
A close that differs from the one stored, or a key whose reads or writes failed, fails the invocation with
every problem in its error: Lambda then puts the run's record, with that error, in the closer's dead-letter
queue (the function's on-failure destination), which the alarms watch; the next scheduled run tries the
keys again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import composition
from ..closer import ClosedRun, close_all
from ..composition import CloserDeps
from ..formats import beyond_a_label
from ..history import sealed_through
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()

STOP_MARGIN_MS = 60_000  # the time kept for the key being closed and the answer (a quarter of a shorter run)
PROBLEMS_SHOWN = 20  # in the error; the log has them all


class CloserRunFailed(RuntimeError):
    """Some closes could not be made: a stored close differs, or a key's reads or writes failed."""


class CloserInputRefused(ValueError):
    """The run's input asks for something the closer does not do; nothing was read or written."""


def check_input(event: Any) -> None:
    """Refuse an input other than an object with at most a ``source`` label (a string): the closer closes
    through its own clock's sealed day, and an input that asks for more (a ``through`` date, say) is
    refused rather than answered with another close."""
    refused = beyond_a_label(event)
    if refused:
        raise CloserInputRefused(
            f"the closer's input is an object with at most a source label (a string), not {refused}: it"
            " closes through the last sealed day by its clock; to close particular days, use ledger-ops close"
        )


def outcome(run: ClosedRun) -> dict[str, Any]:
    """What a run did, as the function answers it and logs it."""
    return {
        "through": run.through.isoformat(),
        "keys": run.keys,
        "written": run.written,
        "present": run.present,
        "stopped": run.stopped,
        "refused": len(run.differs),
        "failed": len(run.failed),
    }


def failure(run: ClosedRun) -> str:
    """The error of a run with problems: how many, and the first of them."""
    problems = run.differs + run.failed
    shown = "; ".join(problems[:PROBLEMS_SHOWN])
    more = f"; and {len(problems) - PROBLEMS_SHOWN} more (see the log)" if len(problems) > PROBLEMS_SHOWN else ""
    return f"closing through {run.through}: {len(problems)} problem(s): {shown}{more}"


def _record(run: ClosedRun) -> None:
    for name, value in (
        ("ClosesWritten", run.written),
        ("KeysClosed", run.keys - run.stopped),
        ("KeysStopped", run.stopped),
        ("ClosesRefused", len(run.differs)),
        ("KeysFailed", len(run.failed)),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def make_handler(deps: CloserDeps) -> Callable[[Any, Any], dict[str, Any]]:
    """The closer's handler over ``deps``, built at cold start."""

    @logger.inject_lambda_context
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
        """Close every key up to the last sealed day (``event``, the schedule's input, is a label only)."""
        check_input(event)
        through = sealed_through(deps.now_ms(), deps.settings.seal_seconds * 1000)
        margin_ms = min(STOP_MARGIN_MS, context.get_remaining_time_in_millis() // 4)
        keys = list(deps.store.keys())
        deps.shuffle(keys)  # a run that stops for time leaves other keys each time: none starves at the tail
        run = close_all(deps.store, through, keys, stop=lambda: context.get_remaining_time_in_millis() < margin_ms)
        _record(run)
        logger.info("closed", extra=outcome(run))
        for problem in run.differs + run.failed:
            logger.error("not closed", extra={"problem": problem})
        if run.differs or run.failed:
            raise CloserRunFailed(failure(run))
        return outcome(run)

    return handler


# Built at import, the cold start: a missing or wrong setting fails here, naming it.
handler = make_handler(composition.closer_from_environment())
