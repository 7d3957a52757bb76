"""Stream handler: DynamoDB stream of the details table to summaries (PATTERN=1) or the buffer queue (PATTERN=2)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import composition
from ..composition import StreamDeps
from ..projector import project, stream_items
from ._common import Handler, partial_response, record_outcome
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()
# A batch that failed whole (all throttled) is reported, not raised: an error would make the
# mapping bisect it down to single records (each retry spending an attempt), where the whole
# batch only needs to be tried again.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def make_handler(deps: StreamDeps) -> Handler:
    """The stream function's handler over ``deps``, built at cold start."""

    @logger.inject_lambda_context
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Project one stream batch; report the records not yet reflected as batch item failures."""
        changes, poison = stream_items(event.get("Records", []))
        deliver = deps.deliver(deps.clock.deadline(context))
        outcome = project(changes, poison, deliver, deps.poison, "stream")
        publishes = deps.settings.pattern == 2
        record_outcome(logger, metrics, len(event.get("Records", [])), outcome, poison, publishes=publishes)
        return partial_response(event, context, processor, outcome.failed_items, _event_id)

    return handler


def _event_id(record: DynamoDBRecord) -> str:
    return str(record.event_id)


# Built at import, the cold start: a missing or wrong setting fails here, naming it.
handler = make_handler(composition.stream_from_environment())
