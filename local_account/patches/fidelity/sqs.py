"""Fidelity patches of SQS: its attributes' JSON as AWS returns it, and each message action whole.

* SQS returns ``RedrivePolicy`` as compact JSON, as AWS does (moto adds spaces, which the AWS provider
  reads as a change on every plan).
* Each action on messages (send, receive, delete, change visibility, purge) sees and leaves a queue whole:
  moto's server runs requests on threads without locking, and a receive walking the set of in-flight
  messages while another receive changed it was answered 500.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import moto.sqs.models as sqs_models

from ...patching import Patcher


def compact_json_for_sqs(patcher: Patcher) -> None:
    """SQS writes its attributes' JSON (``RedrivePolicy``) without spaces, as AWS returns it."""
    compact = SimpleNamespace(
        dumps=lambda obj, **kw: json.dumps(obj, **{"separators": (",", ":"), **kw}),
        loads=json.loads,
        JSONDecodeError=json.JSONDecodeError,
    )
    patcher.replace(sqs_models, "json", compact)


MESSAGE_ACTIONS = (
    "send_message",
    "send_message_batch",
    "receive_message",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
)
MESSAGES_LOCK = threading.RLock()
_held = threading.local()  # how many times this thread holds MESSAGES_LOCK (an action may call another)


def _locked(action: Callable[..., Any]) -> Callable[..., Any]:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with MESSAGES_LOCK:
            _held.depth = getattr(_held, "depth", 0) + 1
            try:
                return action(self, *args, **kwargs)
            finally:
                _held.depth -= 1

    return run


def _waiting_unlocked(wait: Callable[..., Any]) -> Callable[..., Any]:
    def run(self: Any, timeout: int) -> Any:
        depth = getattr(_held, "depth", 0)
        for _ in range(depth):
            MESSAGES_LOCK.release()
        try:
            return wait(self, timeout)
        finally:
            for _ in range(depth):
                MESSAGES_LOCK.acquire()

    return run


def message_actions_whole(patcher: Patcher) -> None:
    """Each SQS action on messages runs alone, as AWS answers every ReceiveMessage whatever else reads the
    queue (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
    A long poll waits for messages without the lock, so that a send can end its wait."""
    backend = sqs_models.SQSBackend
    for name in MESSAGE_ACTIONS:
        patcher.replace(backend, name, _locked(getattr(backend, name)))
    patcher.replace(sqs_models.Queue, "wait_for_messages", _waiting_unlocked(sqs_models.Queue.wait_for_messages))
