"""Fidelity patches: moto made to answer as AWS documents where the stack depends on it.

* SQS returns ``RedrivePolicy`` as compact JSON, as AWS does (moto adds spaces, which the AWS provider
  reads as a change on every plan).
* A request on a missing table names it, as DynamoDB does; the AWS provider reads the name.
* moto delivers DynamoDB stream records and SQS messages to mapped functions itself, synchronously,
  and drops them when the function cannot run (no Docker). The local account runs event source
  mappings itself (``local_account.esm``), so moto's own delivery is switched off.
* An ``UpdateItem`` that creates an item emits one INSERT stream record with the whole new item, as on
  AWS (moto first puts the bare key, which emitted a second, key-only INSERT record).
* An ``UpdateItem`` that fails part way writes nothing and streams nothing.
* A failed transaction is rolled back item by item, not by deep copies of whole tables (moto's copies
  made each transaction slower as the applied-marker table grew), and it leaves nothing in a table's
  stream, as on AWS: moto's copy replaced the stream shard, so open iterators kept a record of the
  cancelled write and saw nothing written after.
* DynamoDB writes take one lock (``WRITE_LOCK``), so that transactions are isolated from each other as
  on AWS (moto's rollback could erase a concurrent commit); stream reads wait for it, so no reader sees
  a transaction half written; a write overlapping a transaction in progress on its items conflicts
  rather than queueing, as DynamoDB's does.
* A function's calls are held to its execution role: the runtime signs them with a key of the
  function's own, and what the role's policies do not allow is refused with AccessDeniedException, as
  on AWS (``local_account.execution_roles``); moto allowed everything.
* An API Gateway stage says when it was created and last updated (``createdDate``, ``lastUpdatedDate``),
  as GetStage does on AWS; ``ledger-ops guard init`` waits from the last update.
* What AWS refuses at apply time is refused here too, so that a first apply that would fail in a fresh
  account fails locally: a stage update that turns on access or execution logging while the account
  names no API Gateway CloudWatch role; a log group encrypted with a KMS key whose policy does not let
  CloudWatch Logs use it; a send to a queue whose policy denies the sender (``local_account.principals``).
* A pipe whose source batch is larger than its target takes is refused at CreatePipe and UpdatePipe, as
  AWS refuses it; moto stored any.
* A pipe whose source DynamoDB stream was disabled cannot be stopped, started or updated, as on AWS (a
  re-enabled stream is another stream); moto did all three.
"""

from __future__ import annotations

import copy
import io
import json
import threading
import time
from types import SimpleNamespace
from typing import Any

import moto.apigateway.exceptions as apigateway_exceptions
import moto.apigateway.models as apigateway_models
import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.models.table as dynamodb_tables
import moto.dynamodbstreams.models as dynamodbstreams_models
import moto.logs.models as logs_models
import moto.pipes.models as pipes_models
import moto.sqs.models as sqs_models
from moto.dynamodb.exceptions import (
    DynamodbException,
    ResourceNotFoundException,
    TransactionCanceledException,
)
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.pipes.exceptions import ValidationException as PipesValidationException

from .. import execution_roles, fault_plan, pipes, principals
from ..patching import Patcher


def compact_json_for_sqs(patcher: Patcher) -> None:
    """SQS writes its attributes' JSON (``RedrivePolicy``) without spaces, as AWS returns it."""
    compact = SimpleNamespace(
        dumps=lambda obj, **kw: json.dumps(obj, **{"separators": (",", ":"), **kw}),
        loads=json.loads,
        JSONDecodeError=json.JSONDecodeError,
    )
    patcher.replace(sqs_models, "json", compact)


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
    backend = dynamodb_models.DynamoDBBackend
    for name in ("transact_write_items", "update_item", "put_item", "delete_item", "batch_write_item"):
        method = getattr(backend, name, None)  # a missing one is refused by the patcher, loudly

        def locked(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with WRITE_LOCK:
                return _method(self, *args, **kwargs)

        patcher.replace(backend, name, locked)


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


def call_of(environ: dict[str, Any], service: str, region: str) -> execution_roles.Call:
    """The signed request a WSGI environ carries, its body read and put back for moto."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    method, path, target = environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("HTTP_X_AMZ_TARGET", "")
    return execution_roles.Call(service, region, method, path, target, body)


def execution_roles_enforced(patcher: Patcher) -> None:
    """A function's calls are held to its execution role (``local_account.execution_roles``)."""
    dispatcher = DomainDispatcherApplication
    serve = dispatcher.__call__

    def checked(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        signer = execution_roles.caller(environ.get("HTTP_AUTHORIZATION", ""))
        if signer is None:
            return serve(self, environ, start_response)
        function, region, service = signer
        call = call_of(environ, service, region)
        role, policies = execution_roles.role_policies(function, region)
        why = execution_roles.refusal(policies, call)
        if why is None:
            return serve(self, environ, start_response)
        message = f"User: {role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/{function} {why}"
        status, headers, answer = execution_roles.denied_answer(service, message)
        start_response(f"{status} {'Forbidden' if status == 403 else 'Bad Request'}", headers)
        return [answer]

    patcher.replace(dispatcher, "__call__", checked)


def stages_dated(patcher: Patcher) -> None:
    """A stage records when it was created and when it last changed, and GetStage answers both, as AWS's
    does (https://docs.aws.amazon.com/apigateway/latest/api/API_GetStage.html: createdDate, lastUpdatedDate)."""
    stage = apigateway_models.Stage
    created, updated, answered = stage.__init__, stage.apply_operations, stage.to_json

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        created(self, *args, **kwargs)
        self.created_date = self.last_updated_date = time.time()

    def apply_operations(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        changed = updated(self, patch_operations)
        self.last_updated_date = time.time()
        return changed

    def to_json(self: Any) -> dict[str, Any]:
        return {**answered(self), "createdDate": self.created_date, "lastUpdatedDate": self.last_updated_date}

    patcher.replace(stage, "__init__", init)
    patcher.replace(stage, "apply_operations", apply_operations)
    patcher.replace(stage, "to_json", to_json)


# API Gateway writes access and execution logs through the account's CloudWatch role, and refuses a stage
# update that turns either on while the account names none (set-up-logging.html, "Permissions for
# CloudWatch logging"); metrics need no role.
LOGGING_NEEDS_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"


def turns_logging_on(operation: dict[str, Any]) -> bool:
    """Whether a stage patch operation enables access logging, execution logging or data tracing."""
    path, value = str(operation.get("path", "")), str(operation.get("value", ""))
    if operation.get("op") not in ("add", "replace") or not value:
        return False
    if path == "/accessLogSettings/destinationArn":
        return True
    setting = path.rpartition("/logging/")[2] if "/logging/" in path else ""
    return (setting == "loglevel" and value.upper() != "OFF") or (setting == "dataTrace" and value == "true")


def logging_needs_the_account_role(patcher: Patcher) -> None:
    """UpdateStage that enables logging is refused while the account has no cloudwatchRoleArn, as on AWS."""
    backend = apigateway_models.APIGatewayBackend
    update_stage = backend.update_stage

    def checked(self: Any, function_id: str, stage_name: str, patch_operations: Any) -> Any:
        enables = any(turns_logging_on(op) for op in patch_operations or [])
        if enables and not self.get_account().cloudwatch_role_arn:
            raise apigateway_exceptions.BadRequestException(LOGGING_NEEDS_ROLE)
        return update_stage(self, function_id, stage_name, patch_operations)

    patcher.replace(backend, "update_stage", checked)


def log_group_keys_checked(patcher: Patcher) -> None:
    """CreateLogGroup with a KMS key that CloudWatch Logs may not use is refused, as on AWS."""
    backend = logs_models.LogsBackend
    create = backend.create_log_group

    def checked(self: Any, log_group_name: str, tags: Any, **kwargs: Any) -> Any:
        key = kwargs.get("kmsKeyId")
        group = principals.log_group_arn(self.region_name, log_group_name)
        if key and not principals.logs_may_use_key(key, self.region_name, group):
            raise principals.key_refused(group)
        return create(self, log_group_name, tags, **kwargs)

    patcher.replace(backend, "create_log_group", checked)


_SENDS = ("sqs:SendMessage",)  # SendMessageBatch needs sqs:SendMessage (execution_roles)


def queue_policies_held(patcher: Patcher) -> None:
    """SendMessage from a principal the local IAM or STS knows is held to the queue's policy, with
    aws:PrincipalArn as IAM documents it (``local_account.principals``)."""
    dispatcher = DomainDispatcherApplication
    serve = dispatcher.__call__

    def checked(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        scope = execution_roles.scope(authorization)
        principal = principals.principal_arn(authorization) if scope and scope[2] == "sqs" else None
        if principal is None or scope is None:
            return serve(self, environ, start_response)
        try:
            needed = execution_roles.needed(call_of(environ, "sqs", scope[1]))
        except execution_roles.UnmodelledCallError:
            return serve(self, environ, start_response)
        for action, queue in needed:
            why = principals.queue_refusal(principal, action, queue) if action in _SENDS else None
            if why is not None:
                status, headers, answer = execution_roles.denied_answer("sqs", f"User: {principal} {why}")
                start_response(f"{status} Bad Request", headers)
                return [answer]
        return serve(self, environ, start_response)

    patcher.replace(dispatcher, "__call__", checked)


# The largest batch each batching target of a pipe takes (a Lambda function or a state machine takes what
# its payload allows): https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html
PIPE_TARGET_BATCH = {
    "events": pipes.BUS_TARGET_BATCH,
    "sqs": 10,
    "sns": 10,
    "kinesis": 500,
    "firehose": 500,
    "logs": 10000,
}


def _source_batch_size(source_parameters: dict[str, Any] | None) -> int | None:
    """The ``BatchSize`` of a pipe's source parameters (``DynamoDBStreamParameters`` and the like), if set."""
    for value in (source_parameters or {}).values():
        if isinstance(value, dict) and value.get("BatchSize") is not None:
            return int(value["BatchSize"])
    return None


def _refuse_a_batch_the_target_cannot_take(name: str, target: str, batch: int | None) -> None:
    service = target.split(":")[2] if target.count(":") >= 2 else ""
    largest = PIPE_TARGET_BATCH.get(service)
    if batch is not None and largest is not None and batch > largest:
        raise PipesValidationException(
            f"Pipe {name}: the source's BatchSize {batch} is larger than its target takes ({largest} for {service})"
        )


def pipe_batches_the_target_takes(patcher: Patcher) -> None:
    """CreatePipe and UpdatePipe refuse a source batch larger than the target takes (an event bus: 10)."""
    backend = pipes_models.EventBridgePipesBackend
    create, update = backend.create_pipe, backend.update_pipe

    def creating(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        _refuse_a_batch_the_target_cannot_take(name, kwargs["target"], _source_batch_size(kwargs["source_parameters"]))
        return create(self, name, *args, **kwargs)

    def updating(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        pipe = self.pipes.get(name)
        if pipe is not None:
            batch = _source_batch_size(kwargs["source_parameters"]) or _source_batch_size(pipe.source_parameters)
            _refuse_a_batch_the_target_cannot_take(name, kwargs["target"] or pipe.target, batch)
        return update(self, name, *args, **kwargs)

    patcher.replace(backend, "create_pipe", creating)
    patcher.replace(backend, "update_pipe", updating)


def _disabled_stream(source: str) -> bool:
    """Whether ``source`` is a DynamoDB stream that is no longer its table's enabled stream."""
    if ":dynamodb:" not in source or "/stream/" not in source:
        return False
    table_arn, label = source.split("/stream/", 1)
    _, _, _, region, account, resource = table_arn.split(":", 5)
    table = dynamodb_models.dynamodb_backends[account][region].tables.get(resource.split("/", 1)[1])
    if table is None or not (table.stream_specification or {}).get("StreamEnabled"):
        return True
    return bool(table.latest_stream_label != label)


def pipes_held_on_a_disabled_source(patcher: Patcher) -> None:
    """StopPipe, StartPipe and UpdatePipe refuse a pipe whose source stream was disabled (DeletePipe does not)."""
    backend = pipes_models.EventBridgePipesBackend

    def held(method: Any) -> Any:
        def refusing(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            pipe = self.pipes.get(name)
            if pipe is not None and _disabled_stream(pipe.source):
                raise PipesValidationException(f"Pipe {name}: its source {pipe.source} is disabled")
            return method(self, name, *args, **kwargs)

        return refusing

    for action in ("stop_pipe", "start_pipe", "update_pipe"):
        patcher.replace(backend, action, held(getattr(backend, action)))
