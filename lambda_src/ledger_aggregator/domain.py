"""Pure domain core: stream records to per-(account, currency) deltas, and the fold.

Nothing here imports boto3 or Powertools. Money is :class:`decimal.Decimal`
from the wire format to the summary; no float is ever created, and amounts of
two currencies are never added: every total belongs to one ``(account, currency)``
key, the key of one summary item.

Vocabulary
----------
*Key*
    ``(accountId, currency)``: one summary item.
*Contribution*
    What one valid details row adds to its key's summary.
*Change*
    The effect of one stream record on one key: ``contribution(NEW) - contribution(OLD)``.
    It carries the record's ``eventID``, the identity used for exactly-once. A MODIFY that
    changes a row's currency has two changes: the new currency gains the row, and the old
    one loses it (the *moved-out* change, with a marker id of its own).
*Delta*
    The coalesced changes of one key within one batch: one summary write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .currencies import minor_units
from .formats import is_account_id, is_utc_time

Key = tuple[str, str]
ZERO = Decimal(0)
MAX_AMOUNT_DIGITS = 15


class PoisonRecordError(ValueError):
    """A stream record, image or message that can never be processed.

    Attributes:
        reason: a short, stable, human readable cause (e.g. ``amount is not a decimal``).
        field: the attribute at fault, when there is one.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass(frozen=True, slots=True)
class Totals:
    """Additive money totals of an account (or of a change to it).

    ``credits`` and ``debits`` are posted (a hold's capture is a debit); ``held`` is what holds reserve and
    have not yet given up (holds - captures - releases); ``count`` is the number of rows.
    """

    credits: Decimal = ZERO
    debits: Decimal = ZERO
    count: int = 0
    held: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        """Credits minus debits: the posted balance."""
        return self.credits - self.debits

    @property
    def posted(self) -> Totals:
        """These totals without what they hold: the credits, debits and rows."""
        return Totals(self.credits, self.debits, self.count)

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.credits + other.credits, self.debits + other.debits, self.count + other.count, self.held + other.held
        )

    def __sub__(self, other: Totals) -> Totals:
        return Totals(
            self.credits - other.credits, self.debits - other.debits, self.count - other.count, self.held - other.held
        )

    def is_zero(self) -> bool:
        """True when adding these totals changes nothing."""
        return self.count == 0 and self.credits == ZERO and self.debits == ZERO and self.held == ZERO


_NOTHING = Totals()


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one valid details row contributes to its key's summary."""

    account_id: str
    currency: str
    totals: Totals
    occurred_at: str


@dataclass(frozen=True, slots=True)
class Change:
    """The effect of one stream record on one ``(account, currency)`` key.

    Attributes:
        record_id: the stream record's ``eventID``; unique per record, stable on redelivery.
        sequence: the record's ``SequenceNumber`` (checkpointing; not used for identity).
        account_id: the account the record belongs to.
        currency: the currency whose totals change.
        totals: ``contribution(NEW) - contribution(OLD)`` in this currency.
        latest_at: the NEW image's transaction time, if the record has a valid NEW image in this currency.
        moved_out: True for the change that takes a row out of its old currency (a MODIFY
            that changed the currency); it is applied exactly once under its own marker id.
    """

    record_id: str
    sequence: str
    account_id: str
    currency: str
    totals: Totals
    latest_at: str | None
    moved_out: bool = False

    @property
    def key(self) -> Key:
        """The summary item this change belongs to."""
        return self.account_id, self.currency

    @property
    def marker_id(self) -> str:
        """The applied-marker id: the record's ``eventID``, suffixed for a moved-out change."""
        return f"{self.record_id}@{self.currency}" if self.moved_out else self.record_id


@dataclass(frozen=True, slots=True)
class Delta:
    """The coalesced changes of one ``(account, currency)`` key: applied in one atomic write."""

    account_id: str
    currency: str
    changes: tuple[Change, ...]
    totals: Totals = field(init=False)
    latest_at: str | None = field(init=False)

    def __post_init__(self) -> None:
        total = Totals()
        latest: str | None = None
        for change in self.changes:
            if change.key != self.key:
                raise ValueError(f"a change of {change.key} cannot join the delta of {self.key}")
            total = total + change.totals
            latest = later_of(latest, change.latest_at)
        object.__setattr__(self, "totals", total)
        object.__setattr__(self, "latest_at", latest)

    @property
    def key(self) -> Key:
        """The summary item this delta is written to."""
        return self.account_id, self.currency

    @property
    def record_ids(self) -> tuple[str, ...]:
        """The identities of the records this delta covers, in stream order."""
        return tuple(change.record_id for change in self.changes)

    def without(self, applied: Iterable[str]) -> Delta | None:
        """This delta less the changes whose marker ids are already applied; None when nothing is left."""
        skip = set(applied)
        remaining = tuple(c for c in self.changes if c.marker_id not in skip)
        return Delta(self.account_id, self.currency, remaining) if remaining else None


@dataclass(frozen=True, slots=True)
class Poison:
    """A record that cannot be (fully) processed, with why."""

    record_id: str
    sequence: str
    reason: str
    field: str | None
    record: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """The result of parsing one batch of stream records."""

    changes: tuple[Change, ...]
    poison: tuple[Poison, ...]


@dataclass(slots=True)
class Summary:
    """The summary of one ``(account, currency)`` key as the fold of its rows defines it."""

    account_id: str
    currency: str
    totals: Totals = field(default_factory=Totals)
    last_transaction_at: str | None = None

    def add(self, totals: Totals, latest_at: str | None) -> None:
        """Fold one change in."""
        self.totals = self.totals + totals
        self.last_transaction_at = later_of(self.last_transaction_at, latest_at)


def later_of(a: str | None, b: str | None) -> str | None:
    """The later of two canonical timestamps (they sort as strings)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


def canonical_time(value: str) -> str:
    """Normalise an ISO-8601 UTC time (``...Z``) to fixed-width microseconds."""
    if not is_utc_time(value):
        raise PoisonRecordError("occurredAt is not an ISO-8601 UTC time", "occurredAt")
    seconds, _, fraction = value[:-1].partition(".")
    return f"{seconds}.{fraction.ljust(6, '0')}Z"


def epoch_millis_to_time(millis: Decimal) -> str:
    """Render epoch milliseconds as a canonical time."""
    moment = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def currency_places(code: str | None) -> int:
    """The decimal places an amount in ``code`` may have; PoisonRecordError for an unknown code."""
    places = minor_units().get(code) if type(code) is str else None
    if places is None:
        raise PoisonRecordError("currency is not an active ISO 4217 code", "currency")
    return places


def parse_amount(value: str, places: int = 2, digits: int = MAX_AMOUNT_DIGITS) -> Decimal:
    """Parse a positive amount with at most 15 digits (or ``digits``) and ``places`` decimal places."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise PoisonRecordError("amount is not a decimal", "amount") from None
    if not amount.is_finite() or amount <= ZERO:
        raise PoisonRecordError("amount must be a positive finite decimal", "amount")
    parts = amount.as_tuple()
    exponent = int(parts.exponent)
    written = len(parts.digits) + max(exponent, 0)
    if -exponent > places or written > digits:
        raise PoisonRecordError(f"amount has more than {digits} digits or {places} decimal places", "amount")
    return amount


def _attribute(image: Mapping[str, Any], name: str, kind: str) -> str | None:
    # Events are parsed JSON: plain dicts and strs (exact type checks are much faster than ABCs).
    value = image.get(name)
    if value is None:
        return None
    text = value.get(kind) if type(value) is dict else None
    if type(text) is not str:
        raise PoisonRecordError(f"{name} is not of DynamoDB type {kind}", name)
    return text


# What one row of each type adds (docs/holds.md): a hold reserves its amount, a capture posts a debit out of
# what its hold reserves, a release gives up what remains of its hold (a void's, or an expiry's).
_TOTALS_OF = {
    "credit": lambda amount: Totals(credits=amount, count=1),
    "debit": lambda amount: Totals(debits=amount, count=1),
    "hold": lambda amount: Totals(held=amount, count=1),
    "capture": lambda amount: Totals(debits=amount, held=-amount, count=1),
    "release": lambda amount: Totals(held=-amount, count=1),
}
ROW_TYPES = tuple(_TOTALS_OF)
_HOLD_KINDS = ("hold", "capture", "release")


@dataclass(slots=True)
class _HoldTrail:
    """What the rows of one hold say: its amount (None: no hold row), currencies, captures and releases."""

    amount: Decimal | None = None
    currencies: set[str] = field(default_factory=set)
    taken: Decimal = ZERO
    closings: int = 0


def hold_problems(rows: Iterable[Mapping[str, Any]]) -> dict[Key, list[str]]:
    """Per ``(account, currency)``, what its hold rows say that no sequence of the API's requests can write: a
    capture or release whose hold has no row, or is in another currency; more taken than the hold reserved; a
    hold closed twice (a final capture, a release), closed with something left, or open with nothing left.
    Such rows (written around the API) would fold to a ``held`` or an open count no hold stands for: guard init
    refuses to seed from them, and reconcile names them."""
    found: dict[Key, list[str]] = {}
    for (account, hold_id), trail in sorted(_hold_trails(rows).items()):
        problem = _trail_problem(trail)
        if problem:
            for currency in sorted(trail.currencies):
                found.setdefault((account, currency), []).append(f"hold {hold_id}: {problem}")
    return found


def open_holds(rows: Iterable[Mapping[str, Any]]) -> dict[Key, list[str]]:
    """Per ``(account, currency)``, the ids of the holds its rows leave open (a hold's row, and no final capture
    or release of it): the funds they reserve. Guard init refuses to seed an epoch without holds while any is
    open, since nothing there would keep those funds from being spent."""
    found: dict[Key, list[str]] = {}
    for (account, hold_id), trail in sorted(_hold_trails(rows).items()):
        if trail.amount is not None and trail.closings == 0:
            for currency in sorted(trail.currencies):
                found.setdefault((account, currency), []).append(hold_id)
    return found


def _hold_trails(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], _HoldTrail]:
    """What each hold's rows say, per (account, hold id): its amount, what was taken, its closings."""
    trails: dict[tuple[str, str], _HoldTrail] = {}
    for row, part in valid_rows(rows):
        kind = row["type"]["S"]
        if kind not in _HOLD_KINDS:
            continue
        trail = trails.setdefault((part.account_id, row["holdId"]["S"]), _HoldTrail())
        trail.currencies.add(part.currency)
        if kind == "hold":
            trail.amount = part.totals.held
        else:  # a capture or a release takes its amount from what the hold reserved
            trail.taken -= part.totals.held
            trail.closings -= holds_opened(row)
    return trails


def _trail_problem(trail: _HoldTrail) -> str | None:
    if trail.amount is None:
        return "a capture or release without the hold's row"
    left = trail.amount - trail.taken
    checks = (
        (len(trail.currencies) > 1, f"rows in {len(trail.currencies)} currencies"),
        (left < ZERO, f"captures and release take {trail.taken}, more than its {trail.amount}"),
        (trail.closings > 1, "closed twice (a final capture or a release, twice)"),
        (trail.closings == 1 and left != ZERO, f"closed with {left} left"),
        (trail.closings == 0 and left == ZERO, "open with nothing left"),
    )
    return next((problem for wrong, problem in checks if wrong), None)


def holds_opened(image: Mapping[str, Any]) -> int:
    """How a valid row changes the number of its balance's open holds: a hold opens one (+1); its final capture
    (``final: true``) or its release closes it (-1); any other row, 0."""
    kind = image.get("type", {}).get("S")
    if kind == "capture":
        return -1 if image.get("final", {}).get("BOOL") is True else 0
    return {"hold": 1, "release": -1}.get(kind, 0)


def contribution_of(image: Mapping[str, Any], key_account: str | None = None) -> Contribution:
    """What a details row (a DynamoDB image) contributes; raises PoisonRecordError if invalid.

    ``key_account`` is the record's already-validated key, which the image must repeat.
    """
    if type(image) is not dict:
        raise PoisonRecordError("image is not a map", "accountId")
    account_id = _attribute(image, "accountId", "S")
    if account_id is None or (account_id != key_account and not is_account_id(account_id)):
        raise PoisonRecordError("accountId is missing or malformed", "accountId")
    kind = _attribute(image, "type", "S")
    if kind not in _TOTALS_OF:
        raise PoisonRecordError(f"type must be {', '.join(ROW_TYPES[:-1])} or {ROW_TYPES[-1]}", "type")
    currency = _attribute(image, "currency", "S")
    places = currency_places(currency)
    raw_amount = _attribute(image, "amount", "N")
    if raw_amount is None:
        raise PoisonRecordError("amount is missing", "amount")
    amount = parse_amount(raw_amount, places)
    if kind in _HOLD_KINDS:
        _check_hold_row(image, kind)
    return Contribution(account_id, str(currency), _TOTALS_OF[kind](amount), _time_of(image))


def _check_hold_row(image: Mapping[str, Any], kind: str) -> None:
    """A hold's row, its capture and its release name their hold; a capture says whether it is final."""
    if not _attribute(image, "holdId", "S"):
        raise PoisonRecordError(f"a {kind} row has no holdId", "holdId")
    if kind == "capture" and type(image.get("final", {}).get("BOOL")) is not bool:
        raise PoisonRecordError("a capture row's final is not a boolean", "final")


def _time_of(image: Mapping[str, Any]) -> str:
    occurred = _attribute(image, "occurredAt", "S")
    if occurred is not None:
        return canonical_time(occurred)
    recorded = _attribute(image, "recordedAt", "N")
    if recorded is None:
        raise PoisonRecordError("neither occurredAt nor recordedAt is present", "occurredAt")
    try:
        return epoch_millis_to_time(Decimal(recorded))
    except (InvalidOperation, ValueError, OverflowError):
        raise PoisonRecordError("recordedAt is not epoch milliseconds", "recordedAt") from None


def _key_account(stream: Mapping[str, Any]) -> str | None:
    try:
        account = stream["Keys"]["accountId"]["S"]
    except (KeyError, TypeError):
        return None
    return account if is_account_id(account) else None


def _image_contribution(
    stream: Mapping[str, Any], name: str, account: str, problems: list[PoisonRecordError]
) -> Contribution | None:
    image = stream.get(name)
    if image is None:
        return None
    try:
        return contribution_of(image, account)
    except PoisonRecordError as error:
        problems.append(PoisonRecordError(f"{name}: {error.reason}", error.field))
        return None


def changes_of(record: Mapping[str, Any]) -> tuple[tuple[Change, ...], PoisonRecordError | None]:
    """Turn one stream record into its changes (one per currency it touches), and the problem if it is (partly) poison.

    An invalid image contributes nothing, exactly as the fold of the table treats
    an invalid row: a MODIFY from a valid to an invalid row subtracts the old
    contribution and reports the record as poison. A record without an
    identity or account, or without a valid image, gives no change at all.
    """
    record_id = record.get("eventID")
    stream = record.get("dynamodb")
    if type(record_id) is not str or not record_id or type(stream) is not dict:
        return (), PoisonRecordError("record has no eventID or dynamodb section", "eventID")
    sequence = str(stream.get("SequenceNumber", ""))
    account = _key_account(stream)
    if account is None:
        return (), PoisonRecordError("accountId is missing or malformed", "accountId")
    problems: list[PoisonRecordError] = []
    new = _image_contribution(stream, "NewImage", account, problems)
    old = _image_contribution(stream, "OldImage", account, problems)
    problem = problems[0] if problems else None
    if new is None and old is None:
        return (), problem
    latest = new.occurred_at if new else None
    if new is not None and old is not None and new.currency != old.currency:
        moved_in = Change(record_id, sequence, account, new.currency, new.totals, latest)
        moved_out = Change(record_id, sequence, account, old.currency, _NOTHING - old.totals, None, moved_out=True)
        return (moved_in, moved_out), problem
    currency = new.currency if new else old.currency  # type: ignore[union-attr]
    totals = (new.totals if new else _NOTHING) - (old.totals if old else _NOTHING)
    return (Change(record_id, sequence, account, currency, totals, latest),), problem


def parse_batch(records: Sequence[Mapping[str, Any]]) -> ParsedBatch:
    """Parse a batch of DynamoDB stream records, in order, into changes and poison."""
    changes: list[Change] = []
    poison: list[Poison] = []
    for record in records:
        found, problem = changes_of(record)
        changes.extend(found)
        if problem is not None:
            poison.append(_poison(record, problem))
    return ParsedBatch(tuple(changes), tuple(poison))


def _poison(record: Mapping[str, Any], problem: PoisonRecordError) -> Poison:
    stream = record.get("dynamodb")
    sequence = str(stream.get("SequenceNumber", "")) if isinstance(stream, Mapping) else ""
    return Poison(str(record.get("eventID", "")), sequence, problem.reason, problem.field, record)


def coalesce(changes: Iterable[Change]) -> list[Delta]:
    """Group changes by ``(account, currency)``, keeping stream order, into one delta per key.

    A change seen twice in the input (a duplicated delivery) is kept once.
    """
    by_key: dict[Key, dict[str, Change]] = {}
    for change in changes:
        by_key.setdefault(change.key, {}).setdefault(change.marker_id, change)
    return [Delta(account, currency, tuple(group.values())) for (account, currency), group in by_key.items()]


def chunked(delta: Delta, size: int) -> Iterator[Delta]:
    """Split a delta into deltas of at most ``size`` records (transaction limits)."""
    for start in range(0, len(delta.changes), size):
        yield Delta(delta.account_id, delta.currency, delta.changes[start : start + size])


def valid_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Mapping[str, Any], Contribution]]:
    """Each valid details row with its contribution; a poison row is left out, as every fold leaves it."""
    for row in rows:
        try:
            yield row, contribution_of(row)
        except PoisonRecordError:
            continue


def fold(rows: Iterable[Mapping[str, Any]]) -> dict[Key, Summary]:
    """The reference: summaries per ``(account, currency)`` as the fold of the valid details rows."""
    summaries: dict[Key, Summary] = {}
    for _, part in valid_rows(rows):
        key = (part.account_id, part.currency)
        summary = summaries.setdefault(key, Summary(*key))
        summary.add(part.totals, part.occurred_at)
    return summaries


def standalone_net(rows: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Per currency, the standalone credits less the standalone debits: what all balances must sum to.

    A transfer's two legs (rows carrying ``transferId``) add up to zero, so they are left out.
    """
    net: dict[str, Decimal] = {}
    for _, part in valid_rows(row for row in rows if "transferId" not in row):
        net[part.currency] = net.get(part.currency, ZERO) + part.totals.balance
    return net
