"""Metering patches: SQS requests counted for the benchmark's cost model (``local_account.meter``).

DynamoDB's write units are counted where the faults let writes through (``local_account.patches.fault_injection``).
Nothing is changed.
"""

from __future__ import annotations

from typing import Any

import moto.sqs.models as sqs_models

from .. import meter
from ..patching import Patcher


def sqs_metering(patcher: Patcher) -> None:
    """Count the SQS requests that carry messages (local_account.meter)."""
    backend = sqs_models.SQSBackend

    def counted(action: str, method: Any, when: Any = bool) -> Any:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            if when(result):
                meter.METER.asked(action)
            return result

        return wrapped

    always = lambda _: True  # noqa: E731
    patcher.replace(backend, "send_message", counted("SendMessage", backend.send_message, always))
    patcher.replace(backend, "send_message_batch", counted("SendMessageBatch", backend.send_message_batch, always))
    patcher.replace(backend, "receive_message", counted("ReceiveMessage", backend.receive_message))
    patcher.replace(backend, "delete_message", counted("DeleteMessage", backend.delete_message, always))
    patcher.replace(
        backend, "delete_message_batch", counted("DeleteMessageBatch", backend.delete_message_batch, always)
    )
