"""Events handler: the enrichment step of the balance-events Pipe (summary table stream -> event bus).

An EventBridge Pipe hands its enrichment a batch of the source's records (a JSON list) and sends each
element of the list it returns to the target, in order
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-enrichment.html); for an event bus
target each element is one event's ``detail``, and the source and detail-type are the target's parameters
(``balance_events.SOURCE``, ``balance_events.DETAIL_TYPE``). A record that is not a committed money change
(the Pipe's filter passes only those; this checks again) gives no element. A record that cannot be read
raises: the Pipe retries the batch, then sends it to its dead-letter queue.
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
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()


def make_handler(deps: EventsDeps) -> Callable[[list[dict[str, Any]], Any], list[dict[str, Any]]]:
    """The events enrichment's handler over ``deps``, built at cold start."""

    @logger.inject_lambda_context
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: list[dict[str, Any]], context: LambdaContext) -> list[dict[str, Any]]:
        """One event detail per committed change of a summary in the batch, in the batch's order."""
        deployment = deps.settings.deployment_name
        details = []
        for record in event:
            images = record.get("dynamodb", {})
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
