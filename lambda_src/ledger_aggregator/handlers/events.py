"""Events handler: the enrichment step of the two events Pipes (summary table stream -> balance events,
history table stream -> day-close events; both to the same event bus).

An EventBridge Pipe hands its enrichment a batch of the source's records (a JSON list) and sends each
element of the list it returns to the target, in order
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-enrichment.html); for an event bus
target each element is one event's ``detail``, and the source and detail-type are the target's parameters
(``balance_events.SOURCE`` with ``balance_events.DETAIL_TYPE`` or ``day_close_events.DETAIL_TYPE``). A
record is the history table's when its ``eventSourceARN`` is that table's stream (``HISTORY_TABLE_ARN``),
the summary table's otherwise. A summary record that is not a committed money change, and a history
record that inserts no close (the Pipes' filters pass only those; this checks again), give no element. A
record that cannot be read, or a close that is not a valid day close, raises: the Pipe retries the batch,
then sends it to its dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import composition
from ..balance_events import committed_change, event_detail
from ..composition import EventsDeps
from ..day_close_events import day_close_detail, from_history, is_new_close
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()


def make_handler(deps: EventsDeps) -> Callable[[list[dict[str, Any]], Any], list[dict[str, Any]]]:
    """The events enrichment's handler over ``deps``, built at cold start."""

    @logger.inject_lambda_context
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: list[dict[str, Any]], context: LambdaContext) -> list[dict[str, Any]]:
        """One event detail per committed change of a summary, or per day close, in the batch's order."""
        deployment, history = deps.settings.deployment_name, deps.settings.history_table_arn
        details = []
        for record in event:
            images = record.get("dynamodb", {})
            if from_history(record, history):
                if is_new_close(record):
                    details.append(day_close_detail(images.get("NewImage") or {}, deployment))
                continue
            change = committed_change(images.get("OldImage"), images.get("NewImage"))
            if change is not None:
                details.append(event_detail(change, deployment))
        metrics.add_metric(name="RecordsRead", unit=MetricUnit.Count, value=len(event))
        metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=len(details))
        logger.info("enriched", extra={"records": len(event), "events": len(details)})
        return details

    return handler


# Built at import, the cold start: a missing or wrong setting fails here, naming it.
handler = make_handler(composition.events_from_environment())
