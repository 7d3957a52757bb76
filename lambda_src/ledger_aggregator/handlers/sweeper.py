"""Holds sweeper handler: the scheduled release of every open hold past its expiry (docs/holds.md).

A schedule invokes it every minute, asynchronously
(https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html). Each run reads the holds
table's sparse index of open holds, shard by shard, for holds expired by this function's clock, and releases
each in one transaction (``ledger_aggregator.adapters.holds``), with the same code as ``ledger-ops holds
expire``. A release is conditional on the hold being open, unchanged and expired, so a run that repeats or
overlaps another releases nothing twice; a hold captured or voided meanwhile is left as it is, and one whose
balance the guard has not counted in its epoch, or that met a conflict, is found again by the next run. Once
its time is nearly spent a run starts no more releases. An item of the index that is not an open hold (no API
request writes one) fails the run, naming it, after the others are released: Lambda puts the run's record
in the sweeper's dead-letter queue, which the alarms watch.

Terraform invokes it too, with ``{"ledgerGuard": "holds-off", ...}`` (modules/sweeper's aws_lambda_invocation):
created or updated, that only arms the refusal; before the sweeper is deleted (holds or the guard switched
off, or a destroy), it raises while the index lists an open hold, and so fails the apply before the guard's
epoch changes: an epoch without holds would let the funds a hold still reserves be spent.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import composition
from ..adapters.holds import HoldTables, Release, Swept, open_items, sweep
from ..composition import SweeperDeps
from ..formats import beyond_a_label
from ..items import HOLD_NAMES
from ._tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics()

STOP_MARGIN_MS = 10_000  # kept for the release under way and the answer
METRICS = {
    Release.RELEASED: "HoldsReleased",
    Release.CHANGED: "HoldsChangedSinceRead",
    Release.NOT_COUNTED: "HoldsOnUncountedBalances",
    Release.BUSY: "HoldsBusy",
}


HOLDS_OFF_GUARD = "holds-off"
NAMED_AT_MOST = 20  # open holds a refusal names


class SweepFailed(RuntimeError):
    """Some items of the index of open holds are not open holds: they were passed over."""


class HoldsStillOpen(RuntimeError):
    """Holds are open: switching holds (or the guard) off now would let the funds they reserve be spent."""


def holds_off_guard(event: dict[str, Any], client: Any, tables: HoldTables) -> dict[str, Any]:
    """Terraform's invocation (``event["tf"]["action"]``: create, update or delete): arm on create and update;
    on delete, refuse while the index of open holds lists any, naming them."""
    action = (event.get("tf") or {}).get("action")
    if action != "delete":
        return {"guard": "armed", "action": action}
    named = [_named(item) for item in islice(open_items(client, tables), NAMED_AT_MOST + 1)]
    if named:
        more = " and more" if len(named) > NAMED_AT_MOST else ""
        raise HoldsStillOpen(
            f"holds cannot be switched off while holds are open: {', '.join(named[:NAMED_AT_MOST])}{more}. Void them"
            " (POST .../holds/{holdId}/void) or let them expire and be released (the sweeper, or ledger-ops holds"
            " expire), then apply again (docs/holds.md)"
        )
    return {"guard": "passed", "action": action}


def _named(item: dict[str, Any]) -> str:
    account, hold = (item.get(HOLD_NAMES[p], {}).get("S", "?") for p in ("ac", "id"))
    return f"{account}/{hold}"


def check_input(event: Any) -> None:
    """Refuse an input other than an object with at most a ``source`` label (a string): the sweeper releases
    what has expired by its own clock, and an input that asks for another time is refused."""
    refused = beyond_a_label(event)
    if refused:
        raise ValueError(
            f"the sweeper's input is an object with at most a source label (a string), not {refused}: it releases"
            " the holds expired by its clock; to release by hand, use ledger-ops holds expire"
        )


def outcome(swept: Swept) -> dict[str, Any]:
    """What a run did, as the function answers it and logs it."""
    return {
        **{outcome.value: swept.count(outcome) for outcome in Release},
        "unreadable": len(swept.unreadable),
        "stopped": swept.stopped,
    }


def make_handler(deps: SweeperDeps) -> Callable[[Any, Any], dict[str, Any]]:
    """The sweeper's handler over ``deps``, built at cold start."""
    settings = deps.settings
    tables = HoldTables(settings.details_table, settings.holds_table, settings.holds_index, settings.balances_table)

    @logger.inject_lambda_context
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
        """Release every open hold expired by now (``event``, the schedule's input, is a label only); or answer
        Terraform's refusal (``ledgerGuard``)."""
        if isinstance(event, dict) and event.get("ledgerGuard") == HOLDS_OFF_GUARD:
            return holds_off_guard(event, deps.dynamodb, tables)
        check_input(event)
        margin_ms = min(STOP_MARGIN_MS, context.get_remaining_time_in_millis() // 4)
        swept = sweep(
            deps.dynamodb,
            tables,
            deps.now_ms(),
            epoch=settings.guard_epoch,
            request_id=context.aws_request_id,
            stop=lambda: context.get_remaining_time_in_millis() < margin_ms,
        )
        for release, name in METRICS.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=swept.count(release))
        metrics.add_metric(name="HoldsUnreadable", unit=MetricUnit.Count, value=len(swept.unreadable))
        logger.info("swept", extra=outcome(swept))
        if swept.unreadable:
            raise SweepFailed(
                f"{len(swept.unreadable)} item(s) of the open holds' index passed over: {swept.unreadable[:20]}"
            )
        return outcome(swept)

    return handler


# Built at import, the cold start: a missing or wrong setting fails here, naming it.
handler = make_handler(composition.sweeper_from_environment())
