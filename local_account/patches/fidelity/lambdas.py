"""Fidelity patches of Lambda's event source mappings: the local account delivers, not moto.

* moto delivers DynamoDB stream records and SQS messages to mapped functions itself, synchronously,
  and drops them when the function cannot run (no Docker). The local account runs event source
  mappings itself (``local_account.esm``), so moto's own delivery is switched off.
"""

from __future__ import annotations

from typing import Any

import moto.dynamodb.models.table as dynamodb_tables
import moto.sqs.models as sqs_models

from ...patching import Patcher


def _without_mappings(method: Any, owner_of_mappings: Any) -> Any:
    """Wrap ``method`` so that moto sees no event source mapping while it runs."""

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        owner = owner_of_mappings(self)
        saved = owner.lambda_event_source_mappings
        owner.lambda_event_source_mappings = {}
        try:
            return method(self, *args, **kwargs)
        finally:
            owner.lambda_event_source_mappings = saved

    return wrapped


def no_delivery_by_moto(patcher: Patcher) -> None:
    """moto hands no stream record or message to a mapped function: the local pollers (local_account.esm) do."""
    shard = dynamodb_tables.StreamShard
    patcher.replace(shard, "add", _without_mappings(shard.add, lambda s: s.table))
    queue = sqs_models.Queue
    patcher.replace(queue, "add_message", _without_mappings(queue.add_message, lambda q: q))
