"""The speed-ups: patches of moto's own work that change no answer, the same result with less CPU.

They form one group (``SPEEDUPS``, purpose "speed"), applied last, which ``CQRS_LOCAL_ACCOUNT_SPEEDUPS=0``
leaves out as a whole: the local account then answers the same, more slowly
(tests/local_account/patches/test_speedups.py compares the answers both ways).

The local account answers every request in one Python process, so moto's CPU per call is what bounds
its rate (``make bench-sandbox``). A profile of signed POSTs (docs/local-account.md, "Speed") showed
most of an UpdateItem spent in three places, each taken here:

* **Copies of expression trees.** moto's validator deep-copies the update expression's tree before it
  resolves names and values into it, twice for an item that does not exist yet. ``copy.deepcopy``
  walks every attribute through its generic dispatch and memo; a tree node here copies itself by
  structure (children and parent links, everything else through ``deepcopy`` as before), which gives an
  equal tree in a fraction of the time.
* **Walking the tree ten times, asking the same questions.** Ten validators walk the copied tree
  in turn, and for every node each builds its table of node classes anew and asks ``isinstance`` of
  abstract classes, which is slow. Which processor takes a node depends only on the walker's and the
  node's class (the first class of the table that matches, as before), so it is worked out once per
  pair; a walker with nothing to process in a tree, and no per-child hook, skips the walk, which
  would change nothing.
  Likewise ``find_clauses`` decides per class whether to descend; and the validator that counts
  clauses, which asked it three times at every node (a walk of the subtree each time), counts each
  subtree once, bottom up, and refuses with the same error at the same node as before.
* **Parsing the same expression again.** An UpdateItem's expression is tokenised and parsed twice per
  call (once to report syntax errors, once to apply it), and the templates send the same few
  expressions every time. A parsed tree is kept per expression text (at most 4,096, least recently
  used dropped) and handed out again: moto's
  callers only read it (``find_clauses``) or hand it to the validator, which works on its own copy
  (tests/local_account/patches/test_speedups.py holds that the kept tree is unchanged after use); an expression
  that does not parse is parsed (and refused) every time, as before.
* **Parsing the same condition again.** Every conditional write (the create-only row, each applied
  marker of a transaction) lexes and parses its condition. A parsed condition is kept per expression
  text and the names and values it refers to (at most 4,096, least recently used dropped), with the
  placeholders it found, which callers read after parsing; moto's condition trees are not changed by
  evaluation.
* **Picking response members by alias.** moto's serializer looks up each member of each output
  structure under up to six alias spellings, building six alias objects per lookup; for a DynamoDB
  item that is every member of every attribute value. The spellings depend only on the member, its
  shape, the parent shape and the kind of object, so for objects without their own alias table
  (``Meta``) they are worked out once and remembered.
* **Serializing DynamoDB attribute values member by member.** Every item in an answer (a Query's
  page, a stream record's images, an update's new item) is a tree of ``AttributeValue`` structures,
  and the generic serializer visits all ten members of each. An attribute value of the plain kinds
  (``S``, ``N``, ``BOOL``, ``NULL``, ``SS``, ``NS``, ``M``, ``L``) is written as the same JSON
  directly; anything else (binary, more than one member, a value of another Python type) goes the
  generic way (tests/local_account/patches/test_speedups.py compares the two over generated values).
* **Flask around every JSON request.** A DynamoDB, DynamoDB Streams or SQS call is a POST to ``/``
  with an ``X-Amz-Target`` header, which moto's Flask app routes to one view that hands the request
  to moto's dispatcher and wraps its answer. Such a request (from an SDK: no ``Origin`` header, no
  query string) is routed by the same URL map and handed to the same view's dispatcher directly,
  with the same answer and the one header Flask's CORS extension adds to it; anything else goes
  through Flask as before (tests/local_account/patches/test_speedups.py compares the two ways).
* **Listing a handler's methods with ``inspect`` on every request.** moto asks which actions a
  response class has, per request; the answer is remembered per class once the patches are in.
* **SQS in time independent of the queue's depth**, as AWS answers. moto checked each received
  message's retention by building every queue attribute, three of them counts that walk the whole
  queue reading the clock per message: a receive of 10 from a queue of 2,000 took over a second.
  Retention is read from the queue itself, the counts read the clock once, and a delete finds its
  message in one pass.
* **Sorting and reading every item of a table for each Query.** moto's ``Query`` reads
  ``Table.all_items()``, which sorts every item of the table by its keys, then keeps the items of the
  partition asked for and sorts them again: by the query's keys and the table's, a total order, so the
  first sort decides nothing. On a details table of 30,000 rows each Query on its index took seconds (the
  closer makes several per account). A Query now reads only the partition it asks for, unsorted: on the
  table, from moto's own map of items by partition key; on an index, from a map of the table's items by
  the index's partition key, made again after any write to the table (PutItem, DeleteItem and UpdateItem,
  which every batch, transaction and PartiQL write goes through). An index whose partition key has
  several attributes, and ``Scan`` and every other caller, read every item as before.
* **Finding a request's backend per request.** moto's server walks its own package folder
  (``list_of_moto_modules``) and matches every service's URL patterns, under one lock, for every
  request; the answer depends only on the host, so it is remembered per host.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import json
import os
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
import moto.core.serialize as moto_serialize
import moto.dynamodb.comparisons as dynamodb_comparisons
import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.models.table as dynamodb_table
import moto.dynamodb.parsing.expressions as dynamodb_expressions
import moto.dynamodb.parsing.validators as dynamodb_validators
import moto.dynamodb.responses as dynamodb_responses
import moto.moto_server.werkzeug_app as moto_server_app
import moto.settings as moto_settings
import moto.sqs.models as sqs_models
from botocore.exceptions import ClientError
from moto.core.request import normalize_request
from moto.core.utils import convert_to_flask_response
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    DepthFirstTraverser,
    Expression,
    Node,
    UpdateExpressionAddClause,
    UpdateExpressionFunction,
    UpdateExpressionRemoveClause,
    UpdateExpressionSetClause,
)
from moto.moto_api import recorder
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from werkzeug.exceptions import HTTPException

from ..patching import Patch, Patcher

_SHARED = (str, int, float, bool, type(None))  # values deepcopy itself hands back unchanged

# moto's own methods that a speed-up replaces, by speed-up: what its tests compare with.
ORIGINALS: dict[str, Any] = {}
# Parsed expressions kept, of each kind (update expressions, conditions); the least recently used go.
EXPRESSIONS_KEPT = 4096
_KINDS: dict[tuple[type, Any], bool] = {}


def instance_of(obj: Any, classes: Any) -> bool:
    """``isinstance(obj, classes)``, asked once per class: moto's node classes are abstract, and
    ``isinstance`` of an abstract class is slow."""
    key = (type(obj), classes)
    if key not in _KINDS:
        _KINDS[key] = isinstance(obj, classes)
    return _KINDS[key]


def copy_tree(node: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of an expression tree node, equal to ``copy.deepcopy(node)``."""
    clone = object.__new__(type(node))
    memo[id(node)] = clone
    for name, value in node.__dict__.items():
        clone.__dict__[name] = _copy_attribute(name, value, memo)
    return clone


def _copy_attribute(name: str, value: Any, memo: dict[int, Any]) -> Any:
    if name == "children" and type(value) is list:
        return [copy_tree(c, memo) if isinstance(c, Node) else copy.deepcopy(c, memo) for c in value]
    if name == "parent" and value is not None:
        return memo[id(value)] if id(value) in memo else copy.deepcopy(value, memo)
    return value if isinstance(value, _SHARED) else copy.deepcopy(value, memo)


def _trees_copied_by_structure(patcher: Patcher) -> None:
    def deepcopy_node(self: Any, memo: dict[int, Any]) -> Any:
        return copy_tree(self, memo)

    patcher.add(Node, "__deepcopy__", deepcopy_node)  # Node has none: copy.deepcopy walked it generically


_BY_INSTANCE = object()  # a processor that is not one of the walker's own methods: asked per instance


def _walks_decided_per_class(patcher: Patcher) -> None:
    """Each kind of walker decides once per node class which processor takes it, and does not walk a
    tree where it would process nothing and its per-child hook does nothing."""
    walker = DepthFirstTraverser
    walk = walker.traverse_node_recursively
    chosen: dict[tuple[type, type], Any] = {}  # (walker class, node class) -> its method, None or _BY_INSTANCE

    def processor_for(self: Any, node: Any) -> Any:
        key = (type(self), type(node))
        if key not in chosen:
            found: Any = None
            if isinstance(node, self.nodes_to_be_processed()):
                found = next((p for k, p in self._processing_map().items() if isinstance(node, k)), None)
            if found is None or getattr(found, "__self__", None) is not self:
                chosen[key] = None if found is None else _BY_INSTANCE
            else:
                chosen[key] = found.__func__
        return chosen[key]

    def decided(self: Any, node: Any, child_id: int = -1) -> Any:
        if not instance_of(node, Node):
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                decided(self, child_node, i)
        processor = processor_for(self, node)
        if processor is not None:
            node = self.process(node) if processor is _BY_INSTANCE else processor(self, node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    def processes_any(self: Any, node: Any) -> bool:
        if not instance_of(node, Node):
            return False
        return processor_for(self, node) is not None or any(processes_any(self, c) for c in node.children or ())

    original = (walker.process, walker.nodes_to_be_processed)
    no_hook = walker.pre_processing_of_child

    def chosen_walk(self: Any, node: Any, child_id: int = -1) -> Any:
        kind = type(self)
        if (kind.process, kind.nodes_to_be_processed) != original:
            return walk(self, node, child_id)  # a walker that chooses its own way keeps moto's walk
        if kind.pre_processing_of_child is no_hook and not processes_any(self, node):
            return node  # nothing in the tree for it: the walk would change nothing
        return decided(self, node, child_id)

    patcher.replace(walker, "traverse_node_recursively", chosen_walk)


def _clauses_found_by_class(patcher: Patcher) -> None:
    """``Node.find_clauses`` with its two ``isinstance`` questions answered once per class."""

    def find_clauses(self: Any, clause_types: list[type]) -> list[Any]:
        clauses: list[Any] = []
        for child in self.children or []:
            if type(child) in clause_types:
                clauses.append(child)
            elif instance_of(child, _DESCENDED):
                clauses.extend(child.find_clauses(clause_types))
        return clauses

    patcher.replace(Node, "find_clauses", find_clauses)


_DESCENDED = (Expression, UpdateExpressionFunction)  # what find_clauses looks inside
_COUNTED = (UpdateExpressionAddClause, UpdateExpressionRemoveClause, UpdateExpressionSetClause)


def clause_counts(node: Any, memo: dict[int, Any]) -> tuple[int, int, int]:
    """How many ADD, REMOVE and SET clauses ``node.find_clauses([kind])`` finds for each kind."""
    if id(node) in memo:
        return memo[id(node)][1]  # type: ignore[no-any-return]
    counts = [0, 0, 0]
    for child in node.children or []:
        kind = type(child)
        if kind in _COUNTED:
            counts[_COUNTED.index(kind)] += 1
        elif instance_of(child, _DESCENDED):
            for i, n in enumerate(clause_counts(child, memo)):
                counts[i] += n
    found = (counts[0], counts[1], counts[2])
    memo[id(node)] = (node, found)  # the node is kept, so that its id stays its own
    return found


def _clauses_counted_once(patcher: Patcher) -> None:
    counter = dynamodb_validators.ActionCountValidator
    too_many = dynamodb_validators.TooManyClauses  # type: ignore[attr-defined]

    def verify_action_counts(self: Any, node: Any) -> Any:
        add, remove, set_ = clause_counts(node, self.__dict__.setdefault("_clause_counts", {}))
        for name, count in (("ADD", add), ("REMOVE", remove), ("SET", set_)):
            if count > 1:
                raise too_many(name)
        return node

    patcher.replace(counter, "verify_action_counts", verify_action_counts)


def _update_expressions_parsed_once(patcher: Patcher) -> None:
    parser = dynamodb_expressions.UpdateExpressionParser  # type: ignore[attr-defined]
    # an expression that does not parse raises, and lru_cache keeps nothing for it
    parse: Any = functools.lru_cache(maxsize=EXPRESSIONS_KEPT)(parser.make.__func__)
    patcher.replace(parser, "make", classmethod(parse))
    for module in (dynamodb_models, dynamodb_responses):
        assert module.UpdateExpressionParser is parser, f"{module.__name__} imports another parser"


_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def condition_key(expression: str, names: dict[str, str] | None, values: dict[str, Any] | None) -> tuple[str, str]:
    """What a condition's parse depends on: its text, and the names and values its placeholders refer to."""
    used = set(_PLACEHOLDER.findall(expression))
    referred = {
        "names": {k: v for k, v in (names or {}).items() if k in used},
        "values": {k: v for k, v in (values or {}).items() if k in used},
    }
    return expression, json.dumps(referred, sort_keys=True, default=repr)


def _conditions_parsed_once(patcher: Patcher) -> None:
    parser = dynamodb_comparisons.ConditionExpressionParser
    parse = parser.parse
    kept: OrderedDict[tuple[str, str], tuple[Any, list[str], list[str]]] = OrderedDict()
    lock = threading.Lock()

    def parse_once(self: Any) -> Any:
        if not self.condition_expression:
            return parse(self)
        key = condition_key(
            self.condition_expression, self.expression_attribute_names, self.expression_attribute_values
        )
        with lock:
            found = kept.get(key)
            if found is not None:
                kept.move_to_end(key)
        if found is None:
            names_before, values_before = len(self.expr_attr_names_found), len(self.expr_attr_values_found)
            op = parse(self)  # raises for a condition that does not parse; nothing is kept
            found = (op, self.expr_attr_names_found[names_before:], self.expr_attr_values_found[values_before:])
            with lock:
                kept[key] = found
                while len(kept) > EXPRESSIONS_KEPT:
                    kept.popitem(last=False)
            return op
        self.expr_attr_names_found.extend(found[1])
        self.expr_attr_values_found.extend(found[2])
        return found[0]

    patcher.replace(parser, "parse", parse_once)


def _alias_spellings_remembered(patcher: Patcher) -> None:
    picker = moto_serialize.XFormedAttributePicker
    spell = picker.get_possible_keys
    known: dict[tuple[Any, ...], tuple[tuple[str, ...], Any, Any]] = {}

    def remembered(self: Any, context: Any) -> Any:
        obj, shape = context.obj, context.shape
        if hasattr(obj, "Meta") or self.alias_providers is not moto_serialize.DEFAULT_ALIAS_PROVIDERS:
            return spell(self, context)
        parent = getattr(shape, "parent", None)
        key = (type(obj), context.key, id(shape), id(parent))
        entry = known.get(key)
        if entry is None:
            # the shapes are kept with their spellings, so that their ids are not reused by other shapes
            entry = (tuple(spell(self, context)), shape, parent)
            known[key] = entry
        return entry[0]

    patcher.replace(picker, "get_possible_keys", remembered)


_PLAIN_STRING = frozenset({"S", "N"})
_PLAIN_FLAG = frozenset({"BOOL", "NULL"})
_PLAIN_SET = frozenset({"SS", "NS"})


def attribute_value_json(value: Any) -> Any:
    """An ``AttributeValue`` as the generic JSON serializer writes it, or None for one it must write."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if kind in _PLAIN_STRING:
        plain = type(inner) is str
    elif kind in _PLAIN_FLAG:
        plain = type(inner) is bool
    elif kind in _PLAIN_SET:
        plain = type(inner) is list and all(type(i) is str for i in inner)
        inner = list(inner) if plain else inner
    else:
        return _container_json(kind, inner)
    return {kind: inner} if plain else None


def _container_json(kind: str, inner: Any) -> Any:
    if kind == "M" and type(inner) is dict and "" not in inner:  # moto writes an empty name's value in place
        members = {name: attribute_value_json(member) for name, member in inner.items()}
        return None if any(m is None for m in members.values()) else {"M": members}
    if kind == "L" and type(inner) is list:
        items = [attribute_value_json(item) for item in inner]
        return None if any(i is None for i in items) else {"L": items}
    return None


def _attribute_values_written_directly(patcher: Patcher) -> None:
    serializer = moto_serialize.BaseJSONSerializer
    generic = ORIGINALS["attribute_values"] = serializer._serialize_type_structure

    def structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            written = attribute_value_json(value)
            if written is not None:
                self._default_serialize(serialized, written, shape, key)
                return
        generic(self, serialized, value, shape, key)

    patcher.replace(serializer, "_serialize_type_structure", structure)


class DirectJsonTargets:
    """A WSGI app before one of moto's Flask apps: SDK JSON calls go to the routed view's dispatcher."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Answer one request: directly when it is a plain SDK JSON call, else through Flask."""
        view = self._view(environ)
        if view is None:
            return self.app(environ, start_response)
        request = normalize_request(self.app.request_class(environ))
        recorder._record_request(request)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:  # as moto's view answers it
            result = 400, {}, exc.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = self.app.response_class(response=content, status=status, headers=headers)
        if not moto_settings.DISABLE_GLOBAL_CORS:
            response.headers["Access-Control-Allow-Origin"] = "*"  # flask-cors, for a request without Origin
        return response(environ, start_response)

    def _view(self, environ: dict[str, Any]) -> Any:
        """The view of a plain SDK JSON call, or None for anything Flask should answer."""
        plain = (
            environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO") == "/"
            and "HTTP_X_AMZ_TARGET" in environ
            and not environ.get("QUERY_STRING")
            and "HTTP_ORIGIN" not in environ
        )
        if not plain:
            return None
        try:
            endpoint, arguments = self.app.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return None
        view = self.app.view_functions.get(endpoint)
        return view if isinstance(view, convert_to_flask_response) and not arguments else None


def _json_targets_dispatched_directly(patcher: Patcher) -> None:
    dispatcher = moto_server_app.DomainDispatcherApplication
    application = dispatcher.get_application
    fronts: dict[Any, DirectJsonTargets] = {}  # moto's Flask app (one per service) -> its front

    def fronted(self: Any, environ: dict[str, Any]) -> Any:
        app = application(self, environ)
        if app not in fronts:
            fronts[app] = DirectJsonTargets(app)
        return fronts[app]

    patcher.replace(dispatcher, "get_application", fronted)


def _method_names_remembered(patcher: Patcher) -> None:
    names = moto_responses.method_names_from_class  # type: ignore[attr-defined]
    patcher.replace(moto_responses, "method_names_from_class", functools.cache(names))


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
    dispatcher = moto_server_app.DomainDispatcherApplication
    find = dispatcher.get_backend_for_host
    known: dict[str | None, Any] = {}

    def remembered(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = find(self, host)
        return known[host]

    patcher.replace(dispatcher, "get_backend_for_host", remembered)


_QUERYING = threading.local()  # while a Query reads its table's items: the items it may match
_WRITES = "_local_account_writes"  # a table's last write, a number never given twice
_WRITE_NUMBERS = itertools.count(1)  # next() is atomic: two writes at once never share a number
# A table's items by the value of one attribute (an index's partition key), and the write they were read after.
_PARTITIONS: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, dict[Any, list[Any]]]]] = weakref.WeakKeyDictionary()
_PARTITIONS_LOCK = threading.Lock()


def _unsorted_items(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for hash_set in table.items.values() for item in hash_set.values()]
    return list(table.items.values())


def _partition_of_table(table: Any, hash_key: Any) -> list[Any]:
    """The items of the table's partition ``hash_key``, read from moto's own map of them."""
    found = table.items.get(hash_key)  # get: the map is a defaultdict, and a read must not add to it
    if found is None:
        return []
    return list(found.values()) if table.range_key_attr else [found]


def _partitions(table: Any, attribute: str) -> dict[Any, list[Any]]:
    """The table's items by their value of ``attribute``, read again after any write to the table. Items
    without the attribute (or with a value moto's Query takes as none) are in no partition, as in Query."""
    written = getattr(table, _WRITES, 0)
    with _PARTITIONS_LOCK:
        kept = _PARTITIONS.get(table, {}).get(attribute)
    if kept and kept[0] == written:
        return kept[1]
    by_value: dict[Any, list[Any]] = {}
    for item in _unsorted_items(table):
        value = item.attrs.get(attribute)
        if value:
            by_value.setdefault(value, []).append(item)
    with _PARTITIONS_LOCK:
        _PARTITIONS.setdefault(table, {})[attribute] = (written, by_value)
    return by_value


def _index_partition(table: Any, index_name: str, conditions: list[tuple[str, Any]] | None) -> list[Any] | None:
    """The items of an index's partition asked for, or None (every item) when the index's partition key is
    not one attribute asked for by one equality."""
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    hash_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"] if index else []
    if len(hash_keys) != 1 or not conditions or len(conditions) != 1 or conditions[0][0] != hash_keys[0]:
        return None
    return _partitions(table, hash_keys[0]).get(conditions[0][1], [])


def _wrote(table: Any) -> None:
    setattr(table, _WRITES, next(_WRITE_NUMBERS))


def _queries_read_their_partition_unsorted(patcher: Patcher) -> None:
    """A Query reads only the items of the partition it asks for, unsorted (it sorts the matches itself)."""
    table, backend = dynamodb_table.Table, dynamodb_models.DynamoDBBackend
    query, all_items = table.query, table.all_items
    put_item, delete_item, update_item = table.put_item, table.delete_item, backend.update_item
    arguments = inspect.signature(query)

    def items_of_the_query(self: Any) -> list[Any]:
        asked = getattr(_QUERYING, "items", None)
        return all_items(self) if asked is None else asked(self)

    def querying(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = arguments.bind(self, *args, **kwargs).arguments
        index, hash_key = given.get("index_name"), given.get("hash_key")

        def asked(table: Any) -> list[Any]:
            if index:
                found = _index_partition(table, index, given.get("hash_key_conditions"))
                return _unsorted_items(table) if found is None else found
            return _unsorted_items(table) if hash_key is None else _partition_of_table(table, hash_key)

        _QUERYING.items = asked
        try:
            return query(self, *args, **kwargs)
        finally:
            _QUERYING.items = None

    def putting(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return put_item(self, *args, **kwargs)
        finally:
            _wrote(self)

    def deleting(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return delete_item(self, *args, **kwargs)
        finally:
            _wrote(self)

    def updating(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        try:  # an update changes its item in place: the table's partitions are read again
            return update_item(self, table_name, *args, **kwargs)
        finally:
            if table_name in self.tables:
                _wrote(self.tables[table_name])

    patcher.replace(table, "all_items", items_of_the_query)
    patcher.replace(table, "query", querying)
    patcher.replace(table, "put_item", putting)
    patcher.replace(table, "delete_item", deleting)
    patcher.replace(backend, "update_item", updating)


# The test that holds each speed-up to be on moto's path: one case per speed-up, named by ``case_of``.
ON_PATH_TEST = "tests/local_account/patches/test_speedups.py::test_each_speedup_is_on_motos_path"


def case_of(name: str) -> str:
    """The case of the on-path test that holds the speed-up ``name``."""
    return name.replace(" ", "-")


def speedup(name: str, apply: Callable[[Patcher], None]) -> Patch:
    """A speed-up, held by its case of the on-path test."""
    return Patch(name, "speed", apply, f"{ON_PATH_TEST}[{case_of(name)}]")


# Each speed-up, in the order applied: none changes an answer (tests/local_account/patches/test_speedups.py).
SPEEDUPS = [
    speedup("a request's backend remembered per host", _backend_per_host_remembered),
    Patch(
        "SQS in time independent of the queue's depth",
        "speed",
        _sqs_independent_of_depth,
        "tests/local_account/patches/test_speedups.py::test_sqs_does_not_slow_down_as_the_queue_grows",
    ),
    speedup("expression trees copied by structure", _trees_copied_by_structure),
    speedup("tree walks decided per class", _walks_decided_per_class),
    speedup("clauses found by class", _clauses_found_by_class),
    speedup("clauses counted once", _clauses_counted_once),
    speedup("update expressions parsed once", _update_expressions_parsed_once),
    speedup("conditions parsed once", _conditions_parsed_once),
    speedup("alias spellings remembered", _alias_spellings_remembered),
    speedup("attribute values written directly", _attribute_values_written_directly),
    speedup("handler method names remembered", _method_names_remembered),
    speedup("JSON targets dispatched directly", _json_targets_dispatched_directly),
    speedup("queries read their partition unsorted", _queries_read_their_partition_unsorted),
]

# The switch of the whole group: 0 (or off, false, no) leaves every speed-up out; anything else, or unset, keeps them.
SWITCH = "CQRS_LOCAL_ACCOUNT_SPEEDUPS"


def switched_on() -> bool:
    """Whether the speed-ups are on (``CQRS_LOCAL_ACCOUNT_SPEEDUPS`` unset or not 0/off/false/no)."""
    return os.environ.get(SWITCH, "1").strip().lower() not in {"0", "off", "false", "no"}


def apply(patcher: Patcher | None = None) -> Patcher:
    """Apply every speed-up through ``patcher`` (a new one when none is given); return it, to undo."""
    patcher = patcher or Patcher()
    patcher.apply(SPEEDUPS)
    return patcher
