"""What both handlers share: metrics, logging of the outcome, and the partial response."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response

from ..projector import Outcome, PoisonItem

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# A Lambda handler: the event and the context in, the answer out.
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class NotProjectedError(Exception):
    """The record's effect is not yet in the summary; the event source will deliver it again."""


def record_outcome(
    logger: Logger,
    metrics: Metrics,
    read: int,
    outcome: Outcome,
    poison: Sequence[PoisonItem],
    *,
    publishes: bool = False,
) -> None:
    """Emit the batch's metrics and log every poison record and error as structured JSON.

    A function that writes summaries counts ``RecordsApplied`` and ``SummaryWrites``; pattern 2's stream
    function, which only publishes, counts ``DeltasPublished`` and ``MessagesSent`` instead, so that
    nobody reads a summary write into a message sent.
    """
    counts = (
        [("DeltasPublished", outcome.deltas), ("MessagesSent", outcome.writes)]
        if publishes
        else [("RecordsApplied", outcome.applied), ("SummaryWrites", outcome.writes)]
    )
    counts += [
        ("RecordsRead", read),
        ("DuplicatesSkipped", outcome.duplicates),
        ("PoisonRecords", len(poison)),
        ("ThrottledDeltas", outcome.throttled),
    ]
    for name, value in counts:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for item in poison:
        p = item.poison
        logger.error(
            "poison record",
            extra={"reason": p.reason, "field": p.field, "recordId": p.record_id, "item": item.item},
        )
    for error in outcome.errors:
        logger.warning("delta not applied", extra={"error": error})
    logger.info(
        "batch projected",
        extra={
            "records": outcome.records,
            "applied": outcome.applied,
            "duplicates": outcome.duplicates,
            "writes": outcome.writes,
            "failedItems": len(outcome.failed_items),
        },
    )


def partial_response(
    event: dict[str, Any],
    context: LambdaContext,
    processor: BatchProcessor,
    failed: frozenset[str],
    item_of: Callable[[Any], str],
) -> dict[str, Any]:
    """Report the failed items through Powertools' partial batch response."""

    def record_handler(record: Any) -> None:
        item = item_of(record)
        if item in failed:
            raise NotProjectedError(item)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
