"""Speed patches of moto's server and SQS: the same answers with less work.

* SQS answers in time independent of the queue's depth, as AWS does. moto checked each received
  message's retention by building every queue attribute, three of them counts that walk the whole
  queue reading the clock per message: a receive of 10 from a queue of 2,000 took over a second.
  Retention is read from the queue itself, the counts read the clock once, and a delete finds its
  message in one pass.
* moto's server finds the backend of every request by walking its own package folder
  (``list_of_moto_modules``) and matching every service's URL patterns, under one lock; the answer
  depends only on the host, so it is remembered per host.

moto's own DynamoDB work (expression trees copied, walked and parsed; response members picked by alias)
is sped up by ``local_account.patches.speedups``.
"""

from __future__ import annotations

import time
from typing import Any

import moto.sqs.models as sqs_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sqs.exceptions import ReceiptHandleIsInvalid

from ..patching import Patcher


def sqs_independent_of_depth(patcher: Patcher) -> None:
    """Receives, deletes and counts that do not slow down as the queue grows (see the module docstring)."""
    queue_class, backend = sqs_models.Queue, sqs_models.SQSBackend

    def now_ms() -> float:
        return time.time() * 1000

    def shown(self: Any) -> list[Any]:
        now = now_ms()
        return [m for m in self._messages if now > m.visible_at and now >= m.delayed_until]

    def delayed(self: Any) -> int:
        now = now_ms()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self: Any) -> int:
        now = now_ms()
        return sum(1 for m in self._messages if now <= m.visible_at)

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > time.time())

    def delete(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # deleting again is not an error, as on AWS
        for index, message in enumerate(self._messages):
            if receipt_handle == message.receipt_handle or receipt_handle in message._old_receipt_handles:
                del self._messages[index]
                self.pending_messages.discard(message)
                self.deleted_messages.update(message.all_receipt_handles)
                return
        raise ReceiptHandleIsInvalid()

    patcher.replace(queue_class, "messages", property(shown))
    patcher.replace(queue_class, "approximate_number_of_messages_delayed", property(delayed))
    patcher.replace(queue_class, "approximate_number_of_messages_not_visible", property(not_visible))
    patcher.replace(queue_class, "delete_message", delete)
    patcher.replace(backend, "is_message_valid_based_on_retention_period", retained)


def backend_per_host_remembered(patcher: Patcher) -> None:
    """Remember which backend serves a host: moto works it out again, from the filesystem, per request."""
    dispatcher = DomainDispatcherApplication
    find = dispatcher.get_backend_for_host
    known: dict[str | None, Any] = {}

    def remembered(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = find(self, host)
        return known[host]

    patcher.replace(dispatcher, "get_backend_for_host", remembered)
