"""Fidelity patches of DynamoDB and DynamoDB Streams: writes, transactions and stream reads as on AWS.

* A request on a missing table names it, as DynamoDB does; the AWS provider reads the name.
* An ``UpdateItem`` that creates an item emits one INSERT stream record with the whole new item, as on
  AWS (moto first puts the bare key, which emitted a second, key-only INSERT record).
* An ``UpdateItem`` that fails part way writes nothing and streams nothing.
* A failed transaction is rolled back item by item, not by deep copies of whole tables (moto's copies
  made each transaction slower as the applied-marker table grew), and it leaves nothing in a table's
  stream, as on AWS: moto's copy replaced the stream shard, so open iterators kept a record of the
  cancelled write and saw nothing written after.
* DynamoDB reads take the write lock too, so that no read sees an item half-written;
* DynamoDB writes take one lock (``WRITE_LOCK``), so that transactions are isolated from each other as
  on AWS (moto's rollback could erase a concurrent commit); stream reads wait for it, so no reader sees
  a transaction half written; a write overlapping a transaction in progress on its items conflicts
  rather than queueing, as DynamoDB's does.
"""

from __future__ import annotations

import copy
import json
import threading
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.models.table as dynamodb_tables
import moto.dynamodb.responses as dynamodb_responses
import moto.dynamodbstreams.models as dynamodbstreams_models
from moto.dynamodb.exceptions import (
    DynamodbException,
    ResourceNotFoundException,
    TransactionCanceledException,
)
from moto.dynamodb.models.dynamo_type import DynamoType

from ... import fault_plan
from ...patching import Patcher


def missing_tables_named(patcher: Patcher) -> None:
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


_updating = threading.local()


def one_record_per_update(patcher: Patcher) -> None:
    """An UpdateItem that creates an item streams one INSERT, not moto's bare key first."""
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


# The reason DynamoDB gives for an item another transaction is writing
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
TRANSACTION_CONFLICT = "Transaction is ongoing for the item"


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


def atomic_updates(patcher: Patcher) -> None:
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


def item_level_rollback(patcher: Patcher) -> None:
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
    (``isolated_reads_of_streams``), so none sees a record that is then taken back.
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


WRITE_LOCK = threading.RLock()


def isolated_writes(patcher: Patcher) -> None:
    """DynamoDB writes are isolated from each other, as on AWS.

    moto's server handles requests on threads without locking: a transaction that fails and
    restores the items it touched (or, in moto's own code, whole tables) can erase an update
    another thread committed in between. Writes here take one lock.
    """
    names = ("transact_write_items", "update_item", "put_item", "delete_item", "batch_write_item")
    _under_the_write_lock(patcher, dynamodb_models.DynamoDBBackend, names)


def _under_the_write_lock(patcher: Patcher, owner: Any, names: tuple[str, ...]) -> None:
    """Each named method of ``owner`` runs holding ``WRITE_LOCK``."""
    for name in names:
        method = getattr(owner, name, None)  # a missing one is refused by the patcher, loudly

        def locked(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with WRITE_LOCK:
                return _method(self, *args, **kwargs)

        patcher.replace(owner, name, locked)


def isolated_reads(patcher: Patcher) -> None:
    """DynamoDB's reads see each item as a committed write left it, never half-written, as on AWS.

    moto applies an update to the stored item in place, action by action, and its read handlers answer
    references to stored items: a Query beside a transaction that closed a hold answered the hold's item with
    its new status and the attribute the same update removes still there (the holds benchmark's sweep found
    such an item in the index of open holds). Reads take the write lock for the call and the answer's
    conversion to plain values. AWS: a GetItem, Query or Scan has read-committed isolation to every
    transaction, and returns committed values only
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-isolation).
    """
    names = ("get_item", "query", "scan", "batch_get_item", "transact_get_items")
    _under_the_write_lock(patcher, dynamodb_responses.DynamoHandler, names)


TRANSACTION_CONFLICT_ERROR = "com.amazonaws.dynamodb.v20120810#TransactionConflictException"


class _ItemsInFlight:
    """The items of the transactions in progress, for ``conflicting_overlaps``."""

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


def conflicting_overlaps(patcher: Patcher) -> None:
    """A write to an item that a transaction in progress holds is refused, not queued, as on AWS.

    AWS, "Transaction conflict handling in DynamoDB"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html): an item of a
    TransactWriteItems that is part of another one in progress cancels the request (TransactionCanceled,
    reason TransactionConflict), and a PutItem, UpdateItem or DeleteItem of an item that an ongoing
    TransactWriteItems includes fails with TransactionConflictException. The local account serialises writes
    (``isolated_writes``), so a transaction is "in progress" from its arrival until it ends, its wait for
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


def isolated_reads_of_streams(patcher: Patcher) -> None:
    """Stream reads wait for the write lock, so that a transaction is seen whole or not at all.

    The ``empty`` fault answers a page with no records and the same iterator. AWS: "GetRecords
    can return an empty result even when there are records further on in the shard"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html,
    and the Kinesis page it follows, "a consumer may need several calls to reach the records").
    """
    backend = dynamodbstreams_models.DynamoDBStreamsBackend
    get_records = backend.get_records

    def locked(self: Any, iterator_arn: str, *args: Any, **kwargs: Any) -> Any:
        if fault_plan.ACTIVE.chance(fault_plan.ACTIVE.empty) and iterator_arn in self.shard_iterators:
            return {"Records": [], "NextShardIterator": iterator_arn}
        with WRITE_LOCK:
            return get_records(self, iterator_arn, *args, **kwargs)

    patcher.replace(backend, "get_records", locked)
