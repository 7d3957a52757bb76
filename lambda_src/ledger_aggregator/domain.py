"""Pure domain core: stream records to per-account deltas, and the fold.

Nothing here imports boto3 or Powertools. Money is :class:`decimal.Decimal`
from the wire format to the summary; no float is ever created.

Vocabulary
----------
*Contribution*
    What one valid details row adds to its account's summary.
*Change*
    The effect of one stream record: ``contribution(NEW) - contribution(OLD)``.
    It carries the record's ``eventID``, the identity used for exactly-once.
*Delta*
    The coalesced changes of one account within one batch: one summary write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

ZERO = Decimal(0)
ACCOUNT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_MAX_AMOUNT_DIGITS = 15
_MAX_AMOUNT_PLACES = 2


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
    """Additive money totals of an account (or of a change to it)."""

    credits: Decimal = ZERO
    debits: Decimal = ZERO
    count: int = 0

    @property
    def balance(self) -> Decimal:
        """Credits minus debits."""
        return self.credits - self.debits

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.credits + other.credits, self.debits + other.debits, self.count + other.count)

    def __sub__(self, other: Totals) -> Totals:
        return Totals(self.credits - other.credits, self.debits - other.debits, self.count - other.count)

    def is_zero(self) -> bool:
        """True when adding these totals changes nothing."""
        return self.count == 0 and self.credits == ZERO and self.debits == ZERO


_NOTHING = Totals()


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one valid details row contributes to its account's summary."""

    account_id: str
    totals: Totals
    occurred_at: str


@dataclass(frozen=True, slots=True)
class Change:
    """The effect of one stream record on one account.

    Attributes:
        record_id: the stream record's ``eventID``; unique per record, stable on redelivery.
        sequence: the record's ``SequenceNumber`` (checkpointing; not used for identity).
        account_id: the account the record belongs to.
        totals: ``contribution(NEW) - contribution(OLD)``.
        latest_at: the NEW image's transaction time, if the record has a valid NEW image.
    """

    record_id: str
    sequence: str
    account_id: str
    totals: Totals
    latest_at: str | None


@dataclass(frozen=True, slots=True)
class Delta:
    """The coalesced changes of one account: applied in one atomic write."""

    account_id: str
    changes: tuple[Change, ...]
    totals: Totals = field(init=False)
    latest_at: str | None = field(init=False)

    def __post_init__(self) -> None:
        total = Totals()
        latest: str | None = None
        for change in self.changes:
            total = total + change.totals
            latest = later_of(latest, change.latest_at)
        object.__setattr__(self, "totals", total)
        object.__setattr__(self, "latest_at", latest)

    @property
    def record_ids(self) -> tuple[str, ...]:
        """The identities of the records this delta covers, in stream order."""
        return tuple(change.record_id for change in self.changes)

    def without(self, applied: Iterable[str]) -> Delta | None:
        """This delta less the records already applied; None when nothing is left."""
        skip = set(applied)
        remaining = tuple(c for c in self.changes if c.record_id not in skip)
        return Delta(self.account_id, remaining) if remaining else None


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
    """An account summary as the fold of its rows defines it."""

    account_id: str
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
    if not _ISO_UTC.match(value):
        raise PoisonRecordError("occurredAt is not an ISO-8601 UTC time", "occurredAt")
    seconds, _, fraction = value[:-1].partition(".")
    return f"{seconds}.{fraction.ljust(6, '0')}Z"


def epoch_millis_to_time(millis: Decimal) -> str:
    """Render epoch milliseconds as a canonical time."""
    moment = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_amount(value: str) -> Decimal:
    """Parse a positive amount with at most 15 digits and 2 decimal places."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise PoisonRecordError("amount is not a decimal", "amount") from None
    if not amount.is_finite() or amount <= ZERO:
        raise PoisonRecordError("amount must be a positive finite decimal", "amount")
    parts = amount.as_tuple()
    exponent = int(parts.exponent)
    digits = len(parts.digits) + max(exponent, 0)
    if -exponent > _MAX_AMOUNT_PLACES or digits > _MAX_AMOUNT_DIGITS:
        raise PoisonRecordError("amount has more than 15 digits or 2 decimal places", "amount")
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


def contribution_of(image: Mapping[str, Any], key_account: str | None = None) -> Contribution:
    """What a details row (a DynamoDB image) contributes; raises PoisonRecordError if invalid.

    ``key_account`` is the record's already-validated key, which the image must repeat.
    """
    if type(image) is not dict:
        raise PoisonRecordError("image is not a map", "accountId")
    account_id = _attribute(image, "accountId", "S")
    if account_id is None or (account_id != key_account and not ACCOUNT_ID_PATTERN.match(account_id)):
        raise PoisonRecordError("accountId is missing or malformed", "accountId")
    kind = _attribute(image, "type", "S")
    if kind not in ("credit", "debit"):
        raise PoisonRecordError("type must be credit or debit", "type")
    raw_amount = _attribute(image, "amount", "N")
    if raw_amount is None:
        raise PoisonRecordError("amount is missing", "amount")
    amount = parse_amount(raw_amount)
    totals = Totals(credits=amount, count=1) if kind == "credit" else Totals(debits=amount, count=1)
    return Contribution(account_id, totals, _time_of(image))


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
    return account if type(account) is str and ACCOUNT_ID_PATTERN.match(account) else None


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


def change_of(record: Mapping[str, Any]) -> tuple[Change | None, PoisonRecordError | None]:
    """Turn one stream record into its change, and the problem if it is (partly) poison.

    An invalid image contributes nothing, exactly as the fold of the table treats
    an invalid row: a MODIFY from a valid to an invalid row subtracts the old
    contribution and reports the record as poison. A record without an
    identity or account gives no change at all.
    """
    record_id = record.get("eventID")
    stream = record.get("dynamodb")
    if type(record_id) is not str or not record_id or type(stream) is not dict:
        return None, PoisonRecordError("record has no eventID or dynamodb section", "eventID")
    sequence = str(stream.get("SequenceNumber", ""))
    account = _key_account(stream)
    if account is None:
        return None, PoisonRecordError("accountId is missing or malformed", "accountId")
    problems: list[PoisonRecordError] = []
    new = _image_contribution(stream, "NewImage", account, problems)
    old = _image_contribution(stream, "OldImage", account, problems)
    added = new.totals if new else _NOTHING
    totals = added if old is None else added - old.totals
    change = Change(record_id, sequence, account, totals, new.occurred_at if new else None)
    return change, (problems[0] if problems else None)


def parse_batch(records: Sequence[Mapping[str, Any]]) -> ParsedBatch:
    """Parse a batch of DynamoDB stream records, in order, into changes and poison."""
    changes: list[Change] = []
    poison: list[Poison] = []
    for record in records:
        change, problem = change_of(record)
        if change is not None:
            changes.append(change)
        if problem is not None:
            poison.append(_poison(record, problem))
    return ParsedBatch(tuple(changes), tuple(poison))


def _poison(record: Mapping[str, Any], problem: PoisonRecordError) -> Poison:
    stream = record.get("dynamodb")
    sequence = str(stream.get("SequenceNumber", "")) if isinstance(stream, Mapping) else ""
    return Poison(str(record.get("eventID", "")), sequence, problem.reason, problem.field, record)


def coalesce(changes: Iterable[Change]) -> list[Delta]:
    """Group changes by account, keeping stream order, into one delta per account.

    A record seen twice in the input (a duplicated delivery) is kept once.
    """
    by_account: dict[str, dict[str, Change]] = {}
    for change in changes:
        by_account.setdefault(change.account_id, {}).setdefault(change.record_id, change)
    return [Delta(account, tuple(group.values())) for account, group in by_account.items()]


def chunked(delta: Delta, size: int) -> Iterator[Delta]:
    """Split a delta into deltas of at most ``size`` records (transaction limits)."""
    for start in range(0, len(delta.changes), size):
        yield Delta(delta.account_id, delta.changes[start : start + size])


def fold(rows: Iterable[Mapping[str, Any]]) -> dict[str, Summary]:
    """The reference: summaries as the fold of the valid details rows (DynamoDB images)."""
    summaries: dict[str, Summary] = {}
    for row in rows:
        try:
            part = contribution_of(row)
        except PoisonRecordError:
            continue
        summary = summaries.setdefault(part.account_id, Summary(part.account_id))
        summary.add(part.totals, part.occurred_at)
    return summaries
