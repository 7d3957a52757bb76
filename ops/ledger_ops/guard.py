"""The balance guard's items: seeding them for the guard's epoch, and checking them.

With the guard on, the API writes every row with the guard's epoch (``guardEpoch``, a stage variable that
Terraform replaces each time the guard is switched on or off) and, in the same transaction, adds its amount to
the balance item of its ``(account, currency)``, but only to an item of that epoch. A balance item holds
``available`` (the rows it has counted: credits - debits, a hold's capture a debit), ``headroom``
(``available`` + ``overdraftLimit``, what a debit may take), ``seeded`` (true once every row of its key is
counted) and ``epoch``. With holds on (docs/holds.md) it also holds ``held`` (what the open holds reserve:
holds - captures - releases), ``free`` (``available - held``) and ``openHolds``, and ``headroom`` is ``free +
overdraftLimit``: every one of them a fold of the rows, seeded as ``available`` is.

The rows a new epoch's items have not counted are those without its epoch: written before the guard, while it
was off, or in an earlier epoch. None can appear once the epoch's deployment serves (and the requests in flight
before it have ended), so their fold per key is fixed: ``guard init`` seeds each item with it, once.
An item of an earlier epoch (its rows since then uncounted, its limit still the operator's) is carried into
this one: its ``available`` set to the seed, its limit kept. Then the stage is marked initialised for the
epoch (``guardInitialised``), from which a first credit creates its item seeded, and the items created in
between are seeded too. Every write is conditional on what was read, so two runs at once, or guarded writes
meanwhile, never count a row twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from ledger_aggregator.domain import ZERO, Key, hold_problems, holds_opened, open_holds, valid_rows
from ledger_aggregator.items import BALANCE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROW_EPOCH = "guardEpoch"  # the attribute the guarded templates write on every row: the epoch it was counted in
# The stage variables of the guard (modules/api/stage.tf): Terraform sets the first two with the guard on;
# guard init sets the third, which Terraform leaves alone. The fourth names the holds table with holds on.
STAGE_TABLE, STAGE_EPOCH, STAGE_INITIALISED = "balancesTable", "guardEpoch", "guardInitialised"
STAGE_HOLDS = "holdsTable"
# The balance item's attribute names by their placeholders (balance_item.json, which Terraform renders into
# the API's templates and the API role's policy too).
NAMES = {f"#{placeholder}": name for placeholder, name in BALANCE_NAMES.items()}


@dataclass(frozen=True, slots=True)
class GuardState:
    """What the API's stage says of the guard: the balances table and the epoch (None: the guard is off),
    the epoch guard init last marked initialised, when the stage last changed and when this was read, both by
    API Gateway's clock (None: not said), and the holds table (None: holds are off)."""

    balances: str | None
    epoch: str | None
    initialised_epoch: str | None
    changed_at: datetime | None = None
    read_at: datetime | None = None
    holds_table: str | None = None

    @property
    def on(self) -> bool:
        """Whether the stage serves the guarded templates."""
        return bool(self.balances and self.epoch)

    @property
    def holds(self) -> bool:
        """Whether the stage serves holds (their templates keep ``held``, ``free`` and ``openHolds``)."""
        return self.on and bool(self.holds_table)

    @property
    def initialised(self) -> bool:
        """Whether guard init has seeded this epoch (a first credit then creates its item seeded)."""
        return self.on and self.initialised_epoch == self.epoch


def guard_state(
    variables: Mapping[str, str], changed_at: datetime | None = None, read_at: datetime | None = None
) -> GuardState:
    """The guard's state from a stage's variables."""
    return GuardState(
        variables.get(STAGE_TABLE) or None,
        variables.get(STAGE_EPOCH) or None,
        variables.get(STAGE_INITIALISED) or None,
        changed_at,
        read_at,
        variables.get(STAGE_HOLDS) or None,
    )


class Stage(Protocol):
    """The API's stage, as guard init reads and marks it."""

    def read(self) -> GuardState:
        """The guard's state as the stage holds it now."""
        ...

    def mark_initialised(self, epoch: str) -> None:
        """Record that every balance item of ``epoch`` is seeded (a stage variable: it takes effect at once)."""
        ...


@dataclass(frozen=True, slots=True)
class BalanceItem:
    """A balance item as stored."""

    key: Key
    available: Decimal
    headroom: Decimal
    overdraft_limit: Decimal
    seeded: bool
    epoch: str | None
    held: Decimal = ZERO
    free: Decimal = ZERO
    open_holds: int = 0
    stored: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the item as read


def balance_item(item: Mapping[str, Any]) -> BalanceItem:
    """Read a balance item (DynamoDB JSON); a missing number is 0, a missing ``seeded`` is false."""

    def number(name: str) -> Decimal:
        return Decimal(item[name]["N"]) if name in item else ZERO

    key = (item[NAMES["#ac"]]["S"], item[NAMES["#cu"]]["S"])
    seeded = bool(item.get(NAMES["#sd"], {}).get("BOOL", False))
    epoch = item.get(NAMES["#ep"], {}).get("S")
    limit = number(NAMES["#ol"])
    available, headroom = number(NAMES["#av"]), number(NAMES["#hr"])
    held, free, open_holds = number(NAMES["#hd"]), number(NAMES["#fr"]), int(number(NAMES["#oh"]))
    return BalanceItem(key, available, headroom, limit, seeded, epoch, held, free, open_holds, item)


def counted_in(row: Mapping[str, Any], epoch: str | None) -> bool:
    """Whether the guard counted this row into a balance item of ``epoch`` when it was written."""
    return epoch is not None and row.get(ROW_EPOCH, {}).get("S") == epoch


@dataclass(frozen=True, slots=True)
class Seed:
    """What some rows of one ``(account, currency)`` add to its balance item: ``available`` (credits - debits,
    captures among the debits), ``held`` (holds - captures - releases) and the holds they open (a hold +1; its
    final capture or its release -1)."""

    available: Decimal = ZERO
    held: Decimal = ZERO
    open_holds: int = 0

    def __add__(self, other: Seed) -> Seed:
        return Seed(self.available + other.available, self.held + other.held, self.open_holds + other.open_holds)

    @property
    def free(self) -> Decimal:
        """What the open holds leave of ``available``."""
        return self.available - self.held

    def headroom(self, holds: bool) -> Decimal:
        """What a debit may take before any overdraft limit: ``free`` with holds on, else ``available``."""
        return self.free if holds else self.available


def net_by_key(rows: Iterable[Mapping[str, Any]]) -> dict[Key, Seed]:
    """The seed per ``(account, currency)`` of the valid rows, as the summaries fold them (domain.fold): a
    row that is poison there adds nothing here either."""
    found: dict[Key, Seed] = {}
    for row, part in valid_rows(rows):
        key = (part.account_id, part.currency)
        found[key] = found.get(key, Seed()) + Seed(part.totals.balance, part.totals.held, holds_opened(row))
    return found


def seeds(rows: Iterable[Mapping[str, Any]], epoch: str) -> dict[Key, Seed]:
    """What ``guard init`` seeds each balance item of ``epoch`` with: the fold of its rows outside the epoch."""
    return net_by_key(row for row in rows if not counted_in(row, epoch))


@dataclass(frozen=True, slots=True)
class BalanceDifference:
    """A balance item that is not what its rows make it."""

    key: Key
    problems: tuple[str, ...]

    def describe(self) -> str:
        """One line for a person."""
        return f"{'/'.join(self.key)}: balance item: {'; '.join(self.problems)}"


def balance_problems(
    expected: Seed, stored: BalanceItem | None, has_rows: bool, epoch: str, *, holds: bool = False
) -> tuple[str, ...]:
    """What is wrong with one balance item against the fold of the rows it should have counted (``holds``:
    whether the stage serves holds, which keep ``held``, ``free`` and ``openHolds`` too)."""
    if stored is None:
        return ("no balance item, but rows: run ledger-ops guard init",) if has_rows else ()
    if stored.epoch != epoch:
        return (f"of an earlier epoch of the guard ({stored.epoch or 'none'}, not {epoch}): run ledger-ops guard init",)
    counted = "its rows" if stored.seeded else "its rows of this epoch (not seeded yet: run ledger-ops guard init)"
    found = []
    if stored.available != expected.available:
        found.append(f"available {stored.available} is not the fold of {counted}, {expected.available}")
    if holds:
        found += _holds_problems(expected, stored, counted)
    base = Seed(stored.available, stored.held).headroom(holds)
    if stored.headroom != base + stored.overdraft_limit:
        named = "available - held" if holds else "available"
        found.append(f"headroom {stored.headroom} is not {named} + overdraftLimit ({base + stored.overdraft_limit})")
    return tuple(found)


def _holds_problems(expected: Seed, stored: BalanceItem, counted: str) -> list[str]:
    found = []
    if stored.held != expected.held:
        found.append(f"held {stored.held} is not what the open holds of {counted} reserve, {expected.held}")
    if stored.open_holds != expected.open_holds:
        found.append(f"openHolds {stored.open_holds} is not the holds {counted} leave open, {expected.open_holds}")
    free = stored.available - stored.held
    if stored.free != free:
        found.append(f"free {stored.free} is not available - held ({free})")
    return found


def balance_differences(
    rows: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]], epoch: str, *, holds: bool = False
) -> list[BalanceDifference]:
    """Every balance item that differs from the fold of its rows in the guard's ``epoch``: all of them once
    seeded, those of the epoch before (``holds``: the stage serves holds). Run it once the API is quiet: a
    write between the two scans shows as a difference."""
    listed = list(rows)
    every, in_epoch = net_by_key(listed), net_by_key(row for row in listed if counted_in(row, epoch))
    stored = {b.key: b for b in map(balance_item, items)}
    found = []
    for key in sorted(set(every) | set(stored)):
        item = stored.get(key)
        expected = every.get(key, Seed()) if item is None or item.seeded else in_epoch.get(key, Seed())
        wrong = balance_problems(expected, item, key in every, epoch, holds=holds)
        if wrong:
            found.append(BalanceDifference(key, wrong))
    return found


@dataclass(frozen=True, slots=True)
class Seeded:
    """What ``guard init`` did: items seeded (created, or their uncounted rows added), items carried from an
    earlier epoch (limit kept), and items it found seeded already."""

    seeded: int = 0
    carried: int = 0
    already: int = 0

    def __add__(self, other: Seeded) -> Seeded:
        return Seeded(self.seeded + other.seeded, self.carried + other.carried, self.already + other.already)


def _names(*placeholders: str) -> dict[str, str]:
    """The ExpressionAttributeNames of an expression that uses these placeholders (and no other)."""
    return {placeholder: NAMES[placeholder] for placeholder in placeholders}


def _number(value: Decimal) -> dict[str, str]:
    return {"N": str(value)}


_HOLDS = ("#hd", "#fr", "#oh")  # what the balance item keeps of holds, with holds on


def _holds_part(seed: Seed, holds: bool, operator: str) -> tuple[str, dict[str, Any]]:
    """The holds attributes' part of an update's SET (``operator`` " = ") or ADD (" "), with its values; none
    without holds."""
    if not holds:
        return "", {}
    values = {":hd": _number(seed.held), ":fr": _number(seed.free), ":oh": _number(Decimal(seed.open_holds))}
    return "".join(f", {p}{operator}:{p[1:]}" for p in _HOLDS), values


def _create(seed: Seed, epoch: str, holds: bool) -> dict[str, Any]:
    """No item yet: create it seeded, with no limit."""
    part, more = _holds_part(seed, holds, " = ")
    return {
        "UpdateExpression": "SET #av = :s, #hr = :h, #sd = :true, #ep = :e" + part,
        "ConditionExpression": "attribute_not_exists(#ac)",
        "ExpressionAttributeNames": _names("#ac", "#av", "#hr", "#sd", "#ep", *(_HOLDS if holds else ())),
        "ExpressionAttributeValues": {
            ":s": _number(seed.available),
            ":h": _number(seed.headroom(holds)),
            ":true": {"BOOL": True},
            ":e": {"S": epoch},
            **more,
        },
    }


def _add(seed: Seed, epoch: str, holds: bool) -> dict[str, Any]:
    """An unseeded item of this epoch (its rows of the epoch counted): add the seed, once."""
    part, more = _holds_part(seed, holds, " ")
    return {
        "UpdateExpression": "ADD #av :s, #hr :h" + part + " SET #sd = :true",
        "ConditionExpression": "#ep = :e AND #sd = :false",
        "ExpressionAttributeNames": _names("#av", "#hr", "#sd", "#ep", *(_HOLDS if holds else ())),
        "ExpressionAttributeValues": {
            ":s": _number(seed.available),
            ":h": _number(seed.headroom(holds)),
            ":true": {"BOOL": True},
            ":false": {"BOOL": False},
            ":e": {"S": epoch},
            **more,
        },
    }


def _carry(seed: Seed, epoch: str, item: BalanceItem, holds: bool) -> dict[str, Any]:
    """An item of an earlier epoch: the seed replaces what it counted, its limit is kept; conditional on the
    item being as read (no write of this epoch can change it, but another guard init could). Without holds,
    what an epoch with holds kept of them is removed: no template of this epoch keeps it."""
    part, more = _holds_part(seed, holds, " = ")
    conditions = ["attribute_exists(#ac)"]
    values: dict[str, Any] = {
        ":s": _number(seed.available),
        ":h": _number(seed.headroom(holds) + item.overdraft_limit),
        ":true": {"BOOL": True},
        ":e": {"S": epoch},
        **more,
    }
    if item.epoch is None:
        conditions.append("attribute_not_exists(#ep)")
    else:
        conditions.append("#ep = :old")
        values[":old"] = {"S": item.epoch}
    for placeholder in ("#ol", "#av", "#hd", "#oh"):  # what it counted, as read: a late write of its epoch
        was = item.stored.get(NAMES[placeholder])
        if was is None:
            conditions.append(f"attribute_not_exists({placeholder})")
        else:
            conditions.append(f"{placeholder} = :was{placeholder[1:]}")
            values[f":was{placeholder[1:]}"] = was
    removed = "" if holds else " REMOVE " + ", ".join(_HOLDS)
    return {
        "UpdateExpression": "SET #av = :s, #hr = :h, #sd = :true, #ep = :e" + part + removed,
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": _names("#ac", "#av", "#hr", "#sd", "#ep", "#ol", *_HOLDS),
        "ExpressionAttributeValues": values,
    }


def seeding(
    seed: Seed, epoch: str, item: BalanceItem | None, *, holds: bool = False
) -> tuple[str, dict[str, Any] | None]:
    """What seeding one key takes, given its item as read: (what it counts as, the update or None); ``holds``:
    whether the stage serves holds, whose attributes are seeded too."""
    if item is None:
        return "seeded", _create(seed, epoch, holds)
    if item.epoch != epoch:
        return "carried", _carry(seed, epoch, item, holds)
    if item.seeded:
        return "already", None
    return "seeded", _add(seed, epoch, holds)


# An item that changes between its read and its update, or that a guarded write's transaction holds, is read
# again, at most this many times; after a transaction's conflict, after a pause that doubles from PAUSE_SECONDS
# up to a second (DynamoDB refuses a single write to an item a transaction holds: TransactionConflictException,
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling).
ATTEMPTS = 8
PAUSE_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class BalanceTable:
    """The guard's balances table, as guard init writes it (``pause``: how it waits after a conflict)."""

    client: DynamoDBClient
    name: str
    pause: Callable[[float], None] = field(default=time.sleep)
    holds: bool = False  # whether the stage serves holds: their attributes are seeded too

    def read(self, key: Key) -> BalanceItem | None:
        """The key's item as it is now (a strongly consistent read)."""
        found = self.client.get_item(TableName=self.name, Key=self._key(key), ConsistentRead=True).get("Item")
        return balance_item(found) if found else None

    def seed(self, key: Key, seed: Seed, epoch: str, item: BalanceItem | None) -> Seeded:
        """Seed one key. An item that changed since it was read, or that a transaction held, is read again: of
        this epoch, it is seeded as it now is (another guard init, or a credit, went first); still of the
        earlier epoch it was read in, it is carried again; of any other, the guard was switched while this
        ran, and an item must never be carried back from a newer epoch: EpochChangedError."""
        for attempt in range(ATTEMPTS):
            kind, update = seeding(seed, epoch, item, holds=self.holds)
            if update is None:
                return Seeded(already=1)
            try:
                self.client.update_item(TableName=self.name, Key=self._key(key), **update)
                return Seeded(**{kind: 1})
            except self.client.exceptions.TransactionConflictException:
                self.pause(min(PAUSE_SECONDS * 2**attempt, 1.0))
            except self.client.exceptions.ConditionalCheckFailedException:
                pass
            planned, item = item, self.read(key)
            if item is not None and item.epoch not in (epoch, planned.epoch if planned else epoch):
                raise EpochChangedError(
                    f"{'/'.join(key)}'s balance item is now of epoch {item.epoch}, not {epoch}: the guard was "
                    "switched while guard init ran"
                )
            if planned and item and epoch != planned.epoch == item.epoch and _counted(item) != _counted(planned):
                raise LateWriteError(
                    f"{'/'.join(key)}'s balance item of epoch {item.epoch} counted a write after the rows were read "
                    "(a request or a holds sweep of that epoch, late): run guard init again"
                )
        raise RuntimeError(f"{'/'.join(key)}: its balance item kept changing while it was seeded; run guard init again")

    @staticmethod
    def _key(key: Key) -> dict[str, Any]:
        return {NAMES["#ac"]: {"S": key[0]}, NAMES["#cu"]: {"S": key[1]}}


def seed_balances(
    client: DynamoDBClient,
    balances: str,
    rows: Iterable[Mapping[str, Any]],
    items: Iterable[Mapping[str, Any]],
    epoch: str,
    *,
    stragglers: bool = False,
    holds: bool = False,
) -> Seeded:
    """Seed every balance item of ``epoch`` that is not: the keys with rows outside the epoch, and those whose
    item is unseeded or of an earlier epoch (the items as read when the stage still served ``epoch``: none can
    be of a newer one). ``stragglers``: only this epoch's unseeded items, created by first credits since;
    ``holds``: the stage serves holds. Safe while guarded writes go on, and to run twice; EpochChangedError
    when the guard was switched."""
    before = seeds(rows, epoch)
    stored = {b.key: b for b in map(balance_item, items)}
    unseeded = {key for key, b in stored.items() if b.epoch == epoch and not b.seeded}
    pending = unseeded if stragglers else set(before) | unseeded | {k for k, b in stored.items() if b.epoch != epoch}
    table, done = BalanceTable(client, balances, holds=holds), Seeded()
    for key in sorted(pending):
        done += table.seed(key, before.get(key, Seed()), epoch, stored.get(key))
    return done


class GuardOffError(RuntimeError):
    """The stage serves no guarded templates: there is nothing to seed."""


def _counted(item: BalanceItem) -> tuple[Decimal, Decimal, int]:
    return item.available, item.held, item.open_holds


class LateWriteError(RuntimeError):
    """A write of the epoch before landed on an item after guard init read the rows: its seed would miss it."""


class InconsistentHoldsError(RuntimeError):
    """Some hold rows say what no sequence of the API's requests can write (domain.hold_problems): seeding
    from them would reserve, or free, funds that no hold stands for."""


class OpenHoldsError(RuntimeError):
    """The stage serves no holds, yet the rows leave holds open (made before a switch-off took effect): an epoch
    seeded without them would let the funds they reserve be spent, and a capture after holds came back would
    take the balance below its floor."""


class EpochChangedError(RuntimeError):
    """The guard's epoch changed while guard init ran (an apply switched the guard): what it seeded is of an
    epoch the API no longer serves."""


@dataclass(frozen=True, slots=True)
class Initialised:
    """What ``guard init`` did for one epoch: before marking it initialised, and the items created since."""

    epoch: str
    balances: str
    first: Seeded
    stragglers: Seeded


SETTLE_SECONDS = 60.0  # API Gateway's integration timeout is 29 s at most; the rest is for the stage's update


def settle_wait(state: GuardState, settle: float, now: datetime) -> float:
    """How long to wait before reading the rows: until the stage has served this epoch for ``settle`` seconds,
    so that no request served before it (unguarded, or of another epoch) can still write a row. Measured by
    API Gateway's clock (when it said when it answered), never the operator's against AWS's; without the
    stage's last change, the whole ``settle``."""
    if state.changed_at is None:
        return settle
    served = ((state.read_at or now) - state.changed_at).total_seconds()
    return max(0.0, settle - served)


@dataclass(frozen=True, slots=True)
class Reads:
    """How guard init reads: the details rows, a table's items, the time, and how it waits (with a note)."""

    rows: Callable[[], Iterable[Mapping[str, Any]]]
    items: Callable[[str], Iterable[Mapping[str, Any]]]
    now: Callable[[], datetime]
    wait: Callable[[float], None]


def _serving(stage: Stage, epoch: str) -> GuardState:
    state = stage.read()
    if state.epoch != epoch:
        raise EpochChangedError(f"the guard's epoch changed from {epoch} to {state.epoch or 'none (off)'}")
    return state


def _read_while_serving(stage: Stage, reads: Reads, table: str, epoch: str) -> list[Mapping[str, Any]]:
    """A table's items, read while the stage serves ``epoch`` and checked after: the stage moves only to new
    epochs, so none of them can be of an epoch newer than this one."""
    items = list(reads.items(table))
    _serving(stage, epoch)
    return items


def _listed(found: Mapping[Key, list[str]]) -> str:
    return "; ".join(f"{'/'.join(key)}: {', '.join(entries)}" for key, entries in sorted(found.items()))


def initialise(client: DynamoDBClient, stage: Stage, reads: Reads, settle: float = SETTLE_SECONDS) -> Initialised:
    """``guard init``: seed every balance item of the stage's epoch, mark the epoch initialised on the stage,
    then seed the items that first credits created in between. Refuses (GuardOffError, EpochChangedError,
    InconsistentHoldsError, OpenHoldsError: before it writes anything; LateWriteError: at the item) rather than
    seed an epoch the API does not serve, carry an item back from a newer one, seed from hold rows no request
    could write, seed an epoch without holds while holds are open, or carry an item that counted a write the
    rows read lack."""
    state = stage.read()
    if not state.on or state.epoch is None or state.balances is None:
        raise GuardOffError("this stack's API serves no balance guard (set guard = {} and apply first)")
    epoch, balances = state.epoch, state.balances
    reads.wait(settle_wait(state, settle, reads.now()))
    _serving(stage, epoch)
    rows = list(reads.rows())
    wrong = hold_problems(rows)
    if wrong:
        raise InconsistentHoldsError(f"hold rows no request could write, fix them first: {_listed(wrong)}")
    left_open = {} if state.holds else open_holds(rows)
    if left_open:
        raise OpenHoldsError(
            f"the stage serves no holds, yet holds are open: {_listed(left_open)}. Switch holds back on"
            " (guard.holds), void them or let them expire and be released, then switch holds off again; nothing"
            " was seeded"
        )
    items = _read_while_serving(stage, reads, balances, epoch)
    first = seed_balances(client, balances, rows, items, epoch, holds=state.holds)
    _serving(stage, epoch)
    stage.mark_initialised(epoch)
    # No row outside the epoch appears once it serves: the same rows seed the items credits created meanwhile.
    items = _read_while_serving(stage, reads, balances, epoch)
    stragglers = seed_balances(client, balances, rows, items, epoch, stragglers=True, holds=state.holds)
    return Initialised(epoch, balances, first, stragglers)
