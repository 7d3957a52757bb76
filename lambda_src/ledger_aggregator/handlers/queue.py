"""Queue handler (pattern 2): deltas from the buffer queue to the summary table."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from .. import runtime
from ..projector import project, queue_items
from ._common import partial_response, record_outcome
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()
# A batch that failed whole (all throttled) is reported, not raised: an error would make the
# mapping bisect it down to single records, a retry of the whole batch is what it needs.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply a batch of delta messages; undecodable ones fail and reach the DLQ by redrive."""
    changes, poison = queue_items(event.get("Records", []))
    outcome = project(changes, poison, runtime.summary_store(runtime.deadline(context)), None, "queue")
    record_outcome(logger, metrics, len(event.get("Records", [])), outcome, poison)
    return partial_response(event, context, processor, outcome.failed_items, _message_id)


def _message_id(record: SQSRecord) -> str:
    return str(record.message_id)
