"""moto's server, in process, made to answer as AWS does where the stack depends on it.

Every patch is listed in ``PATCHES`` with its name and purpose (fidelity, faults, metering, speed,
feature) and applied in that order through ``sandbox.patching``, which checks moto's version first,
refuses a patch whose target is missing and can undo them all. None changes what the Terraform modules
or the Lambda package do. What each does:

* SQS returns ``RedrivePolicy`` as compact JSON, as AWS does (moto adds spaces,
  which the AWS provider reads as a change on every plan).
* An ``UpdateItem`` that creates an item emits one INSERT stream record with the
  whole new item, as on AWS (moto first puts the bare key, which emitted a second,
  key-only INSERT record).
* A failed transaction is rolled back item by item, not by deep copies of whole tables
  (moto's copies made each transaction slower as the applied-marker table grew), and it
  leaves nothing in a table's stream, as on AWS: moto's copy replaced the stream shard,
  so open iterators kept a record of the cancelled write and saw nothing written after.
  Stream reads wait for the write lock, so no reader sees a transaction half written.
* DynamoDB writes take one lock, so that transactions are isolated from each other as on
  AWS (moto's rollback could erase a concurrent commit).
* Injected faults (``sandbox.faults``): latency and a write-unit budget on the
  summary table, off unless the account is started with faults.
* Metering (``sandbox.metering``): DynamoDB write units per table and SQS requests,
  counted for the benchmark's cost model; nothing is changed.
* SQS answers in time independent of the queue's depth, as AWS does. moto checked each
  received message's retention by building every queue attribute, three of them counts
  that walk the whole queue reading the clock per message: a receive of 10 from a queue
  of 2,000 took over a second. Retention is read from the queue itself, the counts read
  the clock once, and a delete finds its message in one pass.
* moto's own DynamoDB work (expression trees copied, walked and parsed; response members picked by
  alias) is done with less CPU and the same answers (``sandbox.speedups``).
* moto's server finds the backend of every request by walking its own package
  folder (``list_of_moto_modules``) and matching every service's URL patterns, under
  one lock; the answer depends only on the host, so it is remembered per host.
* API Gateway's Update* actions for methods, integrations, integration and method responses,
  models and resources (moto has none): a changed template, authorization or schema is applied
  in place with the patch operations Terraform sends, as on AWS
  (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html).
* moto delivers DynamoDB stream records and SQS messages to mapped functions
  itself, synchronously, and drops them when the function cannot run (no Docker).
  The local account runs event source mappings itself (``sandbox.esm``), so
  moto's own delivery is switched off.
* A function's calls are held to its execution role: the runtime signs them with a key of the
  function's own, and what the role's policies do not allow is refused with AccessDeniedException,
  as on AWS (``sandbox.execution_roles``); moto allowed everything.
* Lambda's ``Invoke`` (RequestResponse) runs the function in the local account's runtime
  (``route_invocations``), as Terraform's ``aws_lambda_invocation`` needs: moto runs code only in
  Docker. A handler's error answers 200 with ``X-Amz-Function-Error: Unhandled`` and the error as
  the payload, as AWS documents (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
"""

from __future__ import annotations

import copy
import functools
import io
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import moto.apigateway.responses as apigateway_responses
import moto.awslambda.models as lambda_models
import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.models.table as dynamodb_tables
import moto.dynamodbstreams.models as dynamodbstreams_models
import moto.sqs.models as sqs_models
from moto.apigateway.exceptions import BadRequestException
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    DynamodbException,
    ResourceNotFoundException,
    TransactionCanceledException,
)
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from . import dynamodb_values, execution_roles, faults, metering, speedups
from .patching import Patch, Patcher, check_versions


def _compact_json_for_sqs(patcher: Patcher) -> None:
    compact = SimpleNamespace(
        dumps=lambda obj, **kw: json.dumps(obj, **{"separators": (",", ":"), **kw}),
        loads=json.loads,
        JSONDecodeError=json.JSONDecodeError,
    )
    patcher.replace(sqs_models, "json", compact)


def _missing_tables_named(patcher: Patcher) -> None:
    """A request on a missing table answers ``Requested resource not found: Table: <name> not found``, as
    DynamoDB does; moto leaves the name out. The AWS provider reads the name in it: a DeleteTable that finds
    the table gone is a deletion done (an SDK retry of a DeleteTable whose answer was lost), not an error."""
    backend = dynamodb_models.DynamoDBBackend
    get_table = backend.get_table

    def named(self: Any, table_name: str) -> Any:
        try:
            return get_table(self, table_name)
        except ResourceNotFoundException as missing:
            if missing.message != "Requested resource not found":
                raise
            raise ResourceNotFoundException(table_name=table_name) from None

    patcher.replace(backend, "get_table", named)


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


def _no_delivery_by_moto(patcher: Patcher) -> None:
    shard = dynamodb_tables.StreamShard
    patcher.replace(shard, "add", _without_mappings(shard.add, lambda s: s.table))
    queue = sqs_models.Queue
    patcher.replace(queue, "add_message", _without_mappings(queue.add_message, lambda q: q))


_updating = threading.local()


def _one_record_per_update(patcher: Patcher) -> None:
    backend = dynamodb_models.DynamoDBBackend
    table = dynamodb_tables.Table
    update_item, put_item = backend.update_item, table.put_item

    def updating(self: Any, *args: Any, **kwargs: Any) -> Any:
        _updating.active = True
        try:
            return update_item(self, *args, **kwargs)
        finally:
            _updating.active = False

    def putting(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not getattr(_updating, "active", False) or self.stream_shard is None:
            return put_item(self, *args, **kwargs)
        shard, self.stream_shard = self.stream_shard, None  # the bare key is not a change AWS streams
        try:
            return put_item(self, *args, **kwargs)
        finally:
            self.stream_shard = shard

    patcher.replace(backend, "update_item", updating)
    patcher.replace(table, "put_item", putting)


THROTTLED = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
THROTTLED_MESSAGE = "The level of configured provisioned throughput for the table was exceeded."
# The reason DynamoDB gives for an item another transaction is writing
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
TRANSACTION_CONFLICT = "Transaction is ongoing for the item"


_IN_TRANSACTION = threading.local()  # moto's transactions call put_item/update_item per item


def _admitted(tables: list[str], units_each: int) -> bool:
    """Whether the injected faults let these writes through (latency, then the summary table's budget);
    what is let through is metered."""
    summary = [t for t in tables if faults.is_summary_table(t)]
    if summary:
        active = faults.ACTIVE
        if active.latency_ms:
            time.sleep(active.latency_ms / 1000)
        if not active.spend(units_each * len(summary)):
            return False
    for table in tables:
        metering.METER.wrote(table, units_each)
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
            metering.METER.refused_write(table_name)
            raise
        metering.METER.committed(table_name, 1)
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
            summary = faults.is_summary_table
            raise _cancelled_for(tables, "ProvisionedThroughputExceeded", THROTTLED_MESSAGE, lambda _, t: summary(t))
        held = faults.ACTIVE.conflicting_item(len(transact_items))
        if held is not None:  # another transaction holds an item: DynamoDB cancels, it does not queue
            raise _cancelled_for(tables, "TransactionConflict", TRANSACTION_CONFLICT, lambda i, _: i == held)
        _IN_TRANSACTION.active = True
        try:
            answer = transact(self, transact_items)
        except TransactionCanceledException as error:
            reasons = json.loads(error.description).get("CancellationReasons", [])
            for table, reason in zip(tables, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    metering.METER.refused_write(table)
            raise
        finally:
            _IN_TRANSACTION.active = False
        for table in tables:
            metering.METER.committed(table, 2)
        return answer

    return guarded


def _summary_capacity(patcher: Patcher) -> None:
    """Injected faults (sandbox.faults.ACTIVE): latency and a write-unit budget on the summary table, and
    conflicts of transactions; every write admitted is metered."""
    backend = dynamodb_models.DynamoDBBackend
    patcher.replace(backend, "update_item", _single_write_admitted(backend.update_item))
    patcher.replace(backend, "put_item", _single_write_admitted(backend.put_item))
    patcher.replace(backend, "transact_write_items", _transaction_admitted(backend.transact_write_items))


def _key_of(table: Any, op: dict[str, Any]) -> tuple[Any, Any] | None:
    key = op.get("Key") or op.get("Item") or {}
    if table.hash_key_attr not in key:
        return None
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    return DynamoType(key[table.hash_key_attr]), range_value


def _restore(table: Any, hash_value: Any, range_value: Any, old: Any) -> None:
    holder = table.items[hash_value] if range_value is not None else table.items
    slot = range_value if range_value is not None else hash_value
    if old is None:
        holder.pop(slot, None)
    else:
        holder[slot] = old


def _atomic_updates(patcher: Patcher) -> None:
    """An UpdateItem that fails writes nothing and streams nothing, as on AWS.

    moto applies an update expression to the stored item in place, action by action: an error part way
    (a value it cannot store, a type mismatch in a later action) left the actions before it applied, with
    no stream record. The item is copied before and put back if the update fails.
    """
    backend = dynamodb_models.DynamoDBBackend
    update = backend.update_item

    def atomic(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        table = self.tables.get(table_name)
        found = _key_of(table, {"Key": key}) if table is not None else None
        if found is None:
            return update(self, table_name, key, *args, **kwargs)
        old = copy.deepcopy(table.get_item(*found))
        length = len(table.stream_shard.items) if table.stream_shard is not None else 0
        try:
            return update(self, table_name, key, *args, **kwargs)
        except Exception:
            _restore(table, *found, old)
            if table.stream_shard is not None:
                del table.stream_shard.items[length:]
            raise

    patcher.replace(backend, "update_item", atomic)


def _item_level_rollback(patcher: Patcher) -> None:
    """Roll a failed transaction back item by item instead of copying whole tables.

    moto backs up every table a transaction touches with a deep copy, once per item of the
    transaction: with a marker per record, dozens of copies of the applied table per write,
    slower as it grows. Worse, on a table with a stream, putting the copy back replaced the
    table's stream shard: the records of the items written before the failing one stayed in
    the old shard, which every open iterator kept reading, and nothing written afterwards
    reached those iterators (a cancelled transfer stopped the stream function for good). On
    AWS a cancelled transaction writes nothing and streams nothing. Here the touched items
    are copied before and put back if the transaction fails, and each touched stream is cut
    back to its length before the transaction; readers of the stream wait for the write lock
    (``_isolated_reads_of_streams``), so none sees a record that is then taken back.
    """
    backend = dynamodb_models.DynamoDBBackend
    transact = backend.transact_write_items
    real_copy = getattr(dynamodb_models, "copy")  # noqa: B009 - the copy module moto's code calls
    state = threading.local()

    def deepcopy(obj: Any, memo: Any = None) -> Any:
        if getattr(state, "live_tables", False) and isinstance(obj, dynamodb_tables.Table):
            return obj  # moto's "backup" is the live table; the touched items are backed up below
        return real_copy.deepcopy(obj, memo)

    def rolled_back_by_item(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        touched = []
        streamed: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.tables.get(op.get("TableName", ""))
            key = _key_of(table, op) if table is not None else None
            if table is None or key is None:
                return transact(self, transact_items)
            touched.append((table, *key, real_copy.deepcopy(table.get_item(*key))))
            if table.stream_shard is not None:
                streamed[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        state.live_tables = True
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, old in reversed(touched):
                _restore(table, hash_value, range_value, old)
            for shard, length in streamed.values():
                del shard.items[length:]
            raise
        finally:
            state.live_tables = False

    patcher.replace(dynamodb_models, "copy", SimpleNamespace(deepcopy=deepcopy, copy=real_copy.copy))
    patcher.replace(backend, "transact_write_items", rolled_back_by_item)


def _reordering_delays(patcher: Patcher) -> None:
    """Injected reordering: a message sent may become visible 1-3 s late, so later ones overtake it.

    Delaying at send time, unlike receiving and hiding a message again, does not count as a
    receive, so it never pushes a message towards its queue's maxReceiveCount.
    """
    backend = sqs_models.SQSBackend
    send = backend.send_message

    def send_maybe_late(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        active = faults.ACTIVE
        if active.reorder and active.chance(active.reorder):
            kwargs["delay_seconds"] = max(int(kwargs.get("delay_seconds") or 0), int(active.pick(1, 3.99)))
        return send(self, queue_name, message_body, *args, **kwargs)

    patcher.replace(backend, "send_message", send_maybe_late)


_WRITES = threading.RLock()


def _isolated_writes(patcher: Patcher) -> None:
    """DynamoDB writes are isolated from each other, as on AWS.

    moto's server handles requests on threads without locking: a transaction that fails and
    restores the items it touched (or, in moto's own code, whole tables) can erase an update
    another thread committed in between. Writes here take one lock.
    """
    backend = dynamodb_models.DynamoDBBackend
    for name in ("transact_write_items", "update_item", "put_item", "delete_item", "batch_write_item"):
        method = getattr(backend, name, None)  # a missing one is refused by the patcher, loudly

        def locked(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with _WRITES:
                return _method(self, *args, **kwargs)

        patcher.replace(backend, name, locked)


TRANSACTION_CONFLICT_ERROR = "com.amazonaws.dynamodb.v20120810#TransactionConflictException"


class _ItemsInFlight:
    """The items of the transactions in progress, for ``_conflicting_overlaps``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()

    def take(self, keys: list[tuple[str, str]]) -> int | None:
        """Hold every key, or none: the index of the first key another transaction holds, else None."""
        with self._lock:
            for index, key in enumerate(keys):
                if key in self._held:
                    return index
            self._held.update(keys)
            return None

    def holds(self, key: tuple[str, str]) -> bool:
        """Whether a transaction in progress holds this item."""
        with self._lock:
            return key in self._held

    def release(self, keys: list[tuple[str, str]]) -> None:
        """Let the keys go (the transaction ended, committed or not)."""
        with self._lock:
            self._held.difference_update(keys)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)


ITEMS_IN_FLIGHT = _ItemsInFlight()


def _item_id(backend: Any, table_name: str, attributes: dict[str, Any]) -> tuple[str, str]:
    """An item's identity: its table and the key attributes of ``attributes`` (a key or a whole item)."""
    table = backend.tables.get(table_name)
    names = [table.hash_key_attr, table.range_key_attr] if table is not None else list(attributes)
    return table_name, json.dumps({n: attributes.get(n) for n in names if n}, sort_keys=True)


def _conflicting_overlaps(patcher: Patcher) -> None:
    """A write to an item that a transaction in progress holds is refused, not queued, as on AWS.

    AWS, "Transaction conflict handling in DynamoDB"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html): an item of a
    TransactWriteItems that is part of another one in progress cancels the request (TransactionCanceled,
    reason TransactionConflict), and a PutItem, UpdateItem or DeleteItem of an item that an ongoing
    TransactWriteItems includes fails with TransactionConflictException. The emulator serialises writes
    (``_isolated_writes``), so a transaction is "in progress" from its arrival until it ends, its wait for
    the write lock included: two that overlap in time on one item conflict here, where the lock would have
    queued them. Applied outside the write lock, so that the wait is seen.
    """
    backend = dynamodb_models.DynamoDBBackend
    transact = backend.transact_write_items
    in_flight = ITEMS_IN_FLIGHT
    own = threading.local()  # moto's transaction writes its items through put_item/update_item

    def keys_of(self: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, str]]:
        ops = [next(iter(item.values())) for item in transact_items]
        return [_item_id(self, op.get("TableName", ""), op.get("Key") or op.get("Item") or {}) for op in ops]

    def overlapping(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        keys = keys_of(self, transact_items)
        held = in_flight.take(keys)
        if held is not None:
            raise TransactionCanceledException(
                [
                    ("TransactionConflict", TRANSACTION_CONFLICT, None) if i == held else (None, None, None)
                    for i in range(len(keys))
                ]
            )
        own.active = True
        try:
            return transact(self, transact_items)
        finally:
            own.active = False
            in_flight.release(keys)

    def single(method: Any, key_argument: str) -> Any:
        def refused_while_held(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            if not getattr(own, "active", False):
                key = kwargs.get(key_argument, args[0] if args else {})
                if in_flight.holds(_item_id(self, table_name, key)):
                    raise DynamodbException(TRANSACTION_CONFLICT_ERROR, TRANSACTION_CONFLICT)
            return method(self, table_name, *args, **kwargs)

        return refused_while_held

    patcher.replace(backend, "transact_write_items", overlapping)
    patcher.replace(backend, "update_item", single(backend.update_item, "key"))
    patcher.replace(backend, "delete_item", single(backend.delete_item, "key"))
    patcher.replace(backend, "put_item", single(backend.put_item, "item_attrs"))


def _isolated_reads_of_streams(patcher: Patcher) -> None:
    """Stream reads wait for the write lock, so that a transaction is seen whole or not at all.

    The ``empty`` fault answers a page with no records and the same iterator. AWS: "GetRecords
    can return an empty result even when there are records further on in the shard"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html,
    and the Kinesis page it follows, "a consumer may need several calls to reach the records").
    """
    backend = dynamodbstreams_models.DynamoDBStreamsBackend
    get_records = backend.get_records

    def locked(self: Any, iterator_arn: str, *args: Any, **kwargs: Any) -> Any:
        if faults.ACTIVE.chance(faults.ACTIVE.empty) and iterator_arn in self.shard_iterators:
            return {"Records": [], "NextShardIterator": iterator_arn}
        with _WRITES:
            return get_records(self, iterator_arn, *args, **kwargs)

    patcher.replace(backend, "get_records", locked)


def _sqs_metering(patcher: Patcher) -> None:
    """Count the SQS requests that carry messages (sandbox.metering)."""
    backend = sqs_models.SQSBackend

    def counted(action: str, method: Any, when: Any = bool) -> Any:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            if when(result):
                metering.METER.asked(action)
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


def _sqs_independent_of_depth(patcher: Patcher) -> None:
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


def _backend_per_host_remembered(patcher: Patcher) -> None:
    """Remember which backend serves a host: moto works it out again, from the filesystem, per request."""
    dispatcher = DomainDispatcherApplication
    find = dispatcher.get_backend_for_host
    known: dict[str | None, Any] = {}

    def remembered(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = find(self, host)
        return known[host]

    patcher.replace(dispatcher, "get_backend_for_host", remembered)


# API field -> moto attribute, for what Update* may change. Paths are "/field" or "/field/key", with "/"
# in a key written "~1" (JSON Pointer). A method's request parameter says whether it is required.
_PATCHABLE: dict[str, dict[str, str]] = {
    "method": {
        "authorizationType": "authorization_type",
        "authorizerId": "authorizer_id",
        "authorizationScopes": "authorization_scopes",
        "apiKeyRequired": "api_key_required",
        "requestValidatorId": "request_validator_id",
        "requestParameters": "request_parameters",
        "requestModels": "request_models",
        "operationName": "operation_name",
    },
    "integration": {
        "type": "integration_type",
        "uri": "uri",
        "httpMethod": "http_method",
        "requestTemplates": "request_templates",
        "requestParameters": "request_parameters",
        "passthroughBehavior": "passthrough_behaviour",
        "credentials": "credentials",
        "contentHandling": "content_handling",
        "timeoutInMillis": "timeout_in_millis",
        "connectionType": "connection_type",
    },
    "integration_response": {
        "selectionPattern": "selection_pattern",
        "responseTemplates": "response_templates",
        "responseParameters": "response_parameters",
        "contentHandling": "content_handling",
    },
    "method_response": {"responseModels": "response_models", "responseParameters": "response_parameters"},
    "model": {"schema": "schema", "description": "description"},
    "resource": {"parentId": "parent_id", "pathPart": "path_part"},
}
_BOOLEAN_VALUES = {"apiKeyRequired", "requestParameters"}


def apply_patch(target: Any, kind: str, operations: list[dict[str, Any]]) -> None:
    """Apply API Gateway patch operations (add, replace, remove) to a moto model; unknown paths are refused."""
    fields = _PATCHABLE[kind]
    for operation in operations:
        name, _, key = str(operation.get("path", "")).lstrip("/").partition("/")
        attribute = fields.get(name)
        if attribute is None or operation.get("op") not in ("add", "replace", "remove"):
            raise BadRequestException(f"Invalid patch path {operation.get('path')!r} for {operation.get('op')!r}")
        value: Any = operation.get("value")
        if name in _BOOLEAN_VALUES and kind == "method" and isinstance(value, str):
            value = value == "true"
        if not key:
            setattr(target, attribute, None if operation["op"] == "remove" else value)
            continue
        mapping = dict(getattr(target, attribute) or {})
        key = key.replace("~1", "/").replace("~0", "~")
        if operation["op"] == "remove":
            mapping.pop(key, None)
        else:
            mapping[key] = value
        setattr(target, attribute, mapping)


def _api_gateway_updates(patcher: Patcher) -> None:
    """UpdateMethod, UpdateIntegration, UpdateIntegrationResponse, UpdateMethodResponse, UpdateModel, UpdateResource."""
    responses = apigateway_responses.APIGatewayResponse

    def parts(self: Any) -> list[str]:
        return [urllib.parse.unquote(p) for p in self.path.split("/")]

    def method(self: Any) -> Any:
        p = parts(self)
        return self.backend.get_method(p[2], p[4], p[6])

    def answer(self: Any, kind: str, target: Any, render: Any) -> str:
        apply_patch(target, kind, self._get_param("patchOperations") or [])
        return json.dumps(render(target))

    def update_method(self: Any) -> str:
        return answer(self, "method", method(self), lambda m: m.to_json())

    def update_integration(self: Any) -> str:
        return answer(self, "integration", method(self).method_integration, lambda i: i.to_json())

    def update_integration_response(self: Any) -> str:
        target = method(self).method_integration.get_integration_response(parts(self)[-1])
        return answer(self, "integration_response", target, lambda r: r.to_json())

    def update_method_response(self: Any) -> str:
        target = method(self).method_responses[parts(self)[-1]]
        return answer(self, "method_response", target, lambda r: r.to_json())

    def update_model(self: Any) -> str:
        p = parts(self)
        return answer(self, "model", self.backend.get_model(p[2], p[4]), lambda m: m.to_json())

    def update_resource(self: Any) -> str:
        p = parts(self)
        return answer(self, "resource", self.backend.get_resource(p[2], p[4]), lambda r: r.to_dict())

    for handler in (
        update_method,
        update_integration,
        update_integration_response,
        update_method_response,
        update_model,
        update_resource,
    ):
        patcher.add(responses, handler.__name__, handler)


# Requests moto answers at once: the gateway's, the pollers', every warm function's, and an Invoke that
# waits for its function (Terraform's aws_lambda_invocation).
SERVER_THREADS = 24

# The local account's Lambda runtime, once started: (function name, event) -> (result, error, error type).
_INVOKE: list[Any] = []


def _execution_roles_enforced(patcher: Patcher) -> None:
    """A function's calls are held to its execution role (``sandbox.execution_roles``)."""
    dispatcher = DomainDispatcherApplication
    serve = dispatcher.__call__

    def checked(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        signer = execution_roles.caller(environ.get("HTTP_AUTHORIZATION", ""))
        if signer is None:
            return serve(self, environ, start_response)
        function, region, service = signer
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        call = execution_roles.Call(
            service,
            region,
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            environ.get("HTTP_X_AMZ_TARGET", ""),
            body,
        )
        role, policies = execution_roles.role_policies(function, region)
        why = execution_roles.refusal(policies, call)
        if why is None:
            return serve(self, environ, start_response)
        message = f"User: {role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/{function} {why}"
        status, headers, answer = execution_roles.denied_answer(service, message)
        start_response(f"{status} {'Forbidden' if status == 403 else 'Bad Request'}", headers)
        return [answer]

    patcher.replace(dispatcher, "__call__", checked)


def route_invocations(invoke: Any) -> None:
    """Send Lambda ``Invoke`` calls to ``invoke(name, event)``, which answers (result, error, error type)."""
    _INVOKE[:] = [invoke]


def _invocations_run_locally(patcher: Patcher) -> None:
    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
        if not _INVOKE:
            raise RuntimeError("the local account's Lambda runtime is not started")
        result, error, error_type = _INVOKE[0](self.function_name, json.loads(body) if body else {})
        if error is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": error, "errorType": error_type or "Error"}).encode()
        return json.dumps(result).encode()

    patcher.replace(lambda_models.LambdaFunction, "invoke", invoke)


# Every patch of moto, by purpose, in the order applied (sandbox/patching.py). The order matters where
# two patches wrap one method: the outer (applied later) runs first. Speed-ups come last: they remember
# each handler's methods, Update* included.
PATCHES = [
    Patch(
        "SQS RedrivePolicy as compact JSON",
        "fidelity",
        _compact_json_for_sqs,
        "tests/sandbox/test_emulator.py::test_redrive_policy_is_compact_json_as_aws_returns_it",
    ),
    Patch(
        "a missing table named in its error",
        "fidelity",
        _missing_tables_named,
        "tests/sandbox/test_emulator.py::test_a_missing_table_is_named_in_the_answer_as_dynamodb_names_it",
    ),
    Patch(
        "numbers and strings held as DynamoDB holds them",
        "fidelity",
        dynamodb_values.hold_values_as_dynamodb_does,
        "tests/sandbox/test_emulator.py::test_numbers_are_stored_as_dynamodb_stores_them",
    ),
    Patch(
        "no delivery to mapped functions by moto",
        "fidelity",
        _no_delivery_by_moto,
        "tests/sandbox/test_emulator.py::test_moto_itself_delivers_nothing_to_a_mapped_function",
    ),
    Patch(
        "one stream record per UpdateItem",
        "fidelity",
        _one_record_per_update,
        "tests/sandbox/test_emulator.py::test_an_update_that_creates_an_item_streams_one_insert_with_the_whole_item",
    ),
    Patch(
        "an UpdateItem writes all or nothing",
        "fidelity",
        _atomic_updates,
        "tests/sandbox/test_emulator.py::test_an_update_whose_later_action_fails_writes_none_of_its_actions",
    ),
    Patch(
        "a failed transaction rolled back item by item",
        "fidelity",
        _item_level_rollback,
        "tests/sandbox/test_emulator.py::test_a_cancelled_transaction_on_a_streamed_table_emits_nothing_and_the_stream_goes_on",
    ),
    Patch(
        "latency, capacity and conflicts on the summary table",
        "faults",
        _summary_capacity,
        "tests/sandbox/test_emulator.py::test_a_throttled_transaction_is_cancelled_with_the_reason_and_writes_nothing",
    ),
    Patch(
        "DynamoDB writes isolated from each other",
        "fidelity",
        _isolated_writes,
        "tests/sandbox/test_emulator.py::test_a_write_waits_while_another_write_is_in_progress",
    ),
    Patch(
        "writes overlapping a transaction conflict",
        "fidelity",
        _conflicting_overlaps,
        "tests/sandbox/test_emulator.py::test_writes_that_overlap_a_transaction_on_its_items_conflict_rather_than_queue",
    ),
    Patch(
        "stream reads wait for the write lock",
        "fidelity",
        _isolated_reads_of_streams,
        "tests/sandbox/test_emulator.py::test_a_stream_read_waits_while_a_write_is_in_progress",
    ),
    Patch(
        "SQS messages delayed out of order",
        "faults",
        _reordering_delays,
        "tests/sandbox/test_emulator.py::test_the_reorder_fault_delays_a_message_so_later_ones_overtake_it",
    ),
    Patch(
        "SQS requests counted",
        "metering",
        _sqs_metering,
        "tests/sandbox/test_emulator.py::test_the_meter_counts_write_units_per_table_and_sqs_requests_that_carry_messages",
    ),
    Patch(
        "a request's backend remembered per host",
        "speed",
        _backend_per_host_remembered,
        "tests/sandbox/test_speedups.py::test_each_speedup_is_on_motos_path[a-request's-backend-remembered-per-host]",
    ),
    Patch(
        "SQS in time independent of the queue's depth",
        "speed",
        _sqs_independent_of_depth,
        "tests/sandbox/test_emulator.py::test_sqs_does_not_slow_down_as_the_queue_grows",
    ),
    Patch(
        "API Gateway Update* actions",
        "feature",
        _api_gateway_updates,
        "tests/sandbox/test_gateway.py::test_methods_integrations_models_and_resources_update_in_place",
    ),
    Patch(
        "Lambda Invoke in the local runtime",
        "feature",
        _invocations_run_locally,
        "tests/sandbox/test_emulator.py::test_lambda_invoke_runs_in_the_local_runtime",
    ),
    Patch(
        "calls held to the function's execution role",
        "fidelity",
        _execution_roles_enforced,
        "tests/sandbox/test_execution_roles.py::test_a_function_is_refused_what_its_role_does_not_allow_and_granted_what_it_does",
    ),
    *speedups.SPEEDUPS,
]


@functools.cache
def patch_moto() -> Patcher:
    """Check moto's version, then apply every patch, once per process; the patcher can undo them."""
    check_versions()
    patcher = Patcher()
    patcher.apply(PATCHES)
    return patcher


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# endpoint URL -> moto's app serving it in this process: the local gateway's integrations call it
# directly, as a WSGI call, instead of over a loopback connection (``call_in_process``).
_IN_PROCESS: dict[str, Any] = {}


class EmulatorServer:
    """moto's WSGI app served by waitress on a loopback port, in a background thread."""

    def __init__(self, port: int, threads: int = SERVER_THREADS) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._app = app = DomainDispatcherApplication(create_backend_app)
        self._sockets: dict[int, Any] = {}  # the server's, its trigger's and every connection's
        server = create_server(
            app,
            map=self._sockets,
            host="127.0.0.1",
            port=port,
            threads=threads,
            connection_limit=1000,  # every Lambda worker, poller and test client keeps its connections
            channel_timeout=900,  # an Invoke answers when the function ends (at most its 900 s timeout)
        )
        assert isinstance(server, BaseWSGIServer), "one address, one listening socket"
        self._server = server
        self._thread = threading.Thread(target=self._server.run, name="emulator", daemon=True)

    def start(self) -> EmulatorServer:
        """Start answering."""
        self._thread.start()
        _IN_PROCESS[self.url] = self._app
        return self

    def stop(self) -> None:
        """Stop answering and close every connection."""
        _IN_PROCESS.pop(self.url, None)
        trigger: Any = self._server.trigger  # (waitress's stubs type it as an int)

        def close() -> None:  # a connection that errs while closing is closed all the same
            wasyncore.close_all(self._sockets, ignore_all=True)

        try:
            trigger.pull_trigger(close)  # closed in the loop's own thread
        except OSError:  # the loop has already closed its trigger (seen once in a bench run): close here
            close()
        self._thread.join(timeout=10)
        self._server.task_dispatcher.shutdown()


def start(port: int | None = None) -> tuple[EmulatorServer, str]:
    """Start moto on a free loopback port; return its server and its endpoint URL.

    moto's own ``ThreadedMotoServer`` is werkzeug's development server, which closes the connection
    after every answer ("Connection: close", by design) and starts a thread per connection: every SDK
    call paid a TCP connect and a thread. AWS's endpoints keep connections alive, and so does waitress,
    a WSGI server made for it, with a fixed pool of request threads.
    """
    patch_moto()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" notes under load
    server = EmulatorServer(port or free_port()).start()
    return server, server.url


def call_in_process(endpoint: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str] | None:
    """POST to the emulator at ``endpoint`` as a WSGI call, when it runs in this process; else None.

    The request is the one a client would send (same path, headers and body, through the same app:
    dispatch, execution roles, moto), without the loopback connection and the two thread handoffs of
    the server's answer.
    """
    app = _IN_PROCESS.get(endpoint)
    if app is None:
        return None
    environ = EnvironBuilder(
        base_url=endpoint, path=path, method="POST", data=body, headers=list(headers.items())
    ).get_environ()
    answer, status, _ = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(answer).decode()
