"""Stream handler: DynamoDB stream of the details table to summaries (PATTERN=1) or the buffer queue (PATTERN=2)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from .. import composition
from ..projector import project, stream_items
from ._common import partial_response, record_outcome
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()
# A batch that failed whole (all throttled) is reported, not raised: an error would make the
# mapping bisect it down to single records (each retry spending an attempt), where the whole
# batch only needs to be tried again.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Project one stream batch; report the records not yet reflected as batch item failures."""
    changes, poison = stream_items(event.get("Records", []))
    sink = composition.stream_sink(composition.deadline(context))
    outcome = project(changes, poison, sink, composition.poison_sink(), "stream")
    publishes = composition.settings().pattern == 2
    record_outcome(logger, metrics, len(event.get("Records", [])), outcome, poison, publishes=publishes)
    return partial_response(event, context, processor, outcome.failed_items, _event_id)


def _event_id(record: DynamoDBRecord) -> str:
    return str(record.event_id)
