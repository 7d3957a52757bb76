"""Fault patches: the faults ``local_account.fault_plan`` describes, injected into moto (off unless asked for).

* Latency and a write-unit budget on the summary table, forced or drawn conflicts of transactions;
  every write let through is metered (``local_account.meter``).
* Reordering: a message sent may become visible 1-3 s late, so later ones overtake it.
* Overtaking: an event a rule matched may reach the rule's targets 1-3 s late, so later ones overtake it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
import moto.events.models as events_models
import moto.sqs.models as sqs_models
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    DynamodbException,
    TransactionCanceledException,
)

from .. import fault_plan, meter
from ..patching import Patcher
from .fidelity.dynamodb import TRANSACTION_CONFLICT

THROTTLED = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"


THROTTLED_MESSAGE = "The level of configured provisioned throughput for the table was exceeded."


_IN_TRANSACTION = threading.local()  # moto's transactions call put_item/update_item per item


def _admitted(tables: list[str], units_each: int) -> bool:
    """Whether the injected faults let these writes through (latency, then the summary table's budget);
    what is let through is metered."""
    summary = [t for t in tables if fault_plan.is_summary_table(t)]
    if summary:
        active = fault_plan.ACTIVE
        if active.latency_ms:
            time.sleep(active.latency_ms / 1000)
        if not active.spend(units_each * len(summary)):
            return False
    for table in tables:
        meter.METER.wrote(table, units_each)
    return True


def _single_write_admitted(method: Any) -> Any:
    """A PutItem or UpdateItem outside a transaction, throttled by the faults and metered."""

    def guarded(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        if getattr(_IN_TRANSACTION, "active", False):
            return method(self, table_name, *args, **kwargs)
        if not _admitted([table_name], 1):
            raise DynamodbException(THROTTLED, THROTTLED_MESSAGE)
        try:
            answer = method(self, table_name, *args, **kwargs)
        except ConditionalCheckFailed:
            meter.METER.refused_write(table_name)
            raise
        meter.METER.committed(table_name, 1)
        return answer

    return guarded


def _cancelled_for(tables: list[str], code: str, message: str, where: Callable[[int, str], bool]) -> Exception:
    """A TransactionCanceledException whose reason is ``code`` for the items ``where`` picks."""
    return TransactionCanceledException(
        [(code, message, None) if where(i, t) else (None, None, None) for i, t in enumerate(tables)]
    )


def _transaction_admitted(transact: Any) -> Any:
    """A TransactWriteItems throttled and made to conflict by the faults, and metered."""

    def guarded(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        tables = [next(iter(item.values())).get("TableName", "") for item in transact_items]
        if not _admitted(tables, 2):
            summary = fault_plan.is_summary_table
            raise _cancelled_for(tables, "ProvisionedThroughputExceeded", THROTTLED_MESSAGE, lambda _, t: summary(t))
        held = fault_plan.ACTIVE.conflicting_item(len(transact_items))
        if held is not None:  # another transaction holds an item: DynamoDB cancels, it does not queue
            raise _cancelled_for(tables, "TransactionConflict", TRANSACTION_CONFLICT, lambda i, _: i == held)
        _IN_TRANSACTION.active = True
        try:
            answer = transact(self, transact_items)
        except TransactionCanceledException as error:
            reasons = json.loads(error.description).get("CancellationReasons", [])
            for table, reason in zip(tables, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    meter.METER.refused_write(table)
            raise
        finally:
            _IN_TRANSACTION.active = False
        for table in tables:
            meter.METER.committed(table, 2)
        return answer

    return guarded


def summary_capacity(patcher: Patcher) -> None:
    """Injected faults (local_account.fault_plan.ACTIVE): latency and a write-unit budget on the summary table, and
    conflicts of transactions; every write admitted is metered."""
    backend = dynamodb_models.DynamoDBBackend
    patcher.replace(backend, "update_item", _single_write_admitted(backend.update_item))
    patcher.replace(backend, "put_item", _single_write_admitted(backend.put_item))
    patcher.replace(backend, "transact_write_items", _transaction_admitted(backend.transact_write_items))


def reordering_delays(patcher: Patcher) -> None:
    """Injected reordering: a message sent may become visible 1-3 s late, so later ones overtake it.

    Delaying at send time, unlike receiving and hiding a message again, does not count as a
    receive, so it never pushes a message towards its queue's maxReceiveCount.
    """
    backend = sqs_models.SQSBackend
    send = backend.send_message

    def send_maybe_late(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        active = fault_plan.ACTIVE
        if active.reorder and active.chance(active.reorder):
            kwargs["delay_seconds"] = max(int(kwargs.get("delay_seconds") or 0), int(active.pick(1, 3.99)))
        return send(self, queue_name, message_body, *args, **kwargs)

    patcher.replace(backend, "send_message", send_maybe_late)


def rule_targets_overtaken(patcher: Patcher) -> None:
    """Injected overtaking: an event a rule matched may reach its targets 1-3 s late, later events first.

    EventBridge delivers to each target on its own and retries a failed delivery with backoff, so a
    consumer cannot rely on order (docs/events.md). The late delivery runs on a timer thread, as a retry
    would; moto's ``send_to_targets`` is what a rule does with one event.
    """
    rule = events_models.Rule
    send = rule.send_to_targets

    def maybe_late(self: Any, event: Any, *args: Any, **kwargs: Any) -> None:
        delay = fault_plan.ACTIVE.overtaking_delay() if self.event_pattern.matches_event(event) else None
        if delay is None:
            send(self, event, *args, **kwargs)
            return
        late = threading.Timer(delay, send, args=(self, event, *args), kwargs=kwargs)
        late.daemon = True
        late.start()

    patcher.replace(rule, "send_to_targets", maybe_late)
