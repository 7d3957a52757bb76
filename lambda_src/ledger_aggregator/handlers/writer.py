"""The writer's handler (pattern 2): deltas from the buffer queue to the summary table."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import composition
from ..composition import WriterDeps
from ..projector import project, queue_items
from ..redelivery import deferrals
from ..retirement import removal_refusal
from ._common import Handler, partial_response, record_outcome
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()
# A batch that failed whole (all throttled) is reported, not raised. An SQS source never bisects a
# batch: raising would only add a function error (and the errors alarm) to what the batch item
# failures already say, and the writer's deferral sets when the messages come back either way.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# Terraform's aws_lambda_invocation of the buffer module (lifecycle_scope CRUD) marks its events so.
GUARD = "buffer-removal"


class BufferRemovalRefusedError(Exception):
    """The buffer still holds, or may still be sent, a delta: Terraform must not delete it now."""


def make_handler(deps: WriterDeps) -> Handler:
    """The writer's handler over ``deps``, built at cold start."""

    @logger.inject_lambda_context
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Apply a batch of delta messages.

        Messages the writer refuses (not what the stream function writes) are parked in the
        buffer DLQ with their reason. Messages not applied now (throttled) are reported failed
        and deferred by a jittered backoff (``redelivery``), not the queue's visibility timeout.
        """
        if event.get("ledgerGuard") == GUARD:
            return guard_buffer_removal(event, deps)
        records = event.get("Records", [])
        changes, poison = queue_items(records)
        outcome = project(changes, poison, deps.summaries(deps.clock.deadline(context)).write, deps.poison, "queue")
        record_outcome(logger, metrics, len(records), outcome, poison)
        later = deferrals(records, outcome.failed_items, deps.settings.backoff_max_seconds)
        if later:
            deferred = deps.redelivery.defer(later)
            metrics.add_metric(name="MessagesDeferred", unit=MetricUnit.Count, value=deferred)
            logger.info("failed messages deferred", extra={"deferred": deferred, "seconds": [d.seconds for d in later]})
        return partial_response(event, context, processor, outcome.failed_items, _message_id)

    return handler


def guard_buffer_removal(event: dict[str, Any], use: WriterDeps) -> dict[str, Any]:
    """Answer Terraform before it deletes the buffer: raise, and so fail the apply, while a delta could be lost.

    Created and updated, the guard only arms itself; deleted, it reads the queues and the stream function.
    """
    action = (event.get("tf") or {}).get("action")
    if action != "delete":
        return {"guard": "armed", "action": action}
    if not event.get("check", True):
        logger.warning("buffer removal guard turned off (buffer.removal_guard = false): not checked")
        return {"guard": "off"}
    refusal = removal_refusal(use.buffer_now(list(event["queueUrls"]), str(event["streamFunction"])))
    if refusal:
        logger.error("buffer removal refused", extra={"reason": refusal})
        raise BufferRemovalRefusedError(f"the buffer is kept: {refusal}")
    logger.info("buffer removal allowed: both queues are empty and the stream function no longer publishes")
    return {"guard": "passed"}


def _message_id(record: SQSRecord) -> str:
    return str(record.message_id)


# Built at import, the cold start: a missing or wrong setting fails here, naming it.
handler = make_handler(composition.writer_from_environment())
