"""The request templates, rendered by Velocity 1.7, against the API's contract checked by references of its own.

Hypothesis generates method requests (bodies of every JSON shape, ids, amounts, dates, descriptions with
characters of every Unicode plane and unpaired surrogates, claims, unknown fields) and each is judged twice:

* by the deployed template, rendered by Apache Velocity 1.7 (the local gateway's renderer);
* by the contract as documented: docs/openapi.yaml's schemas checked by python-jsonschema (with
  ECMA-262's ``$``, which no trailing newline satisfies), plus the rules the schema cannot say
  (docs/api.md): a known currency and its minor unit, a non-zero amount of at most 15 digits, a real
  instant no later than the request time plus 5 minutes, no unpaired surrogate, payee not payer, and
  with COGNITO the caller's claim holding the account.

The read templates' parameters (account, currency, limit, page token) are judged the same way, the
token by what docs/api.md says it holds (base64url of ``<recordedAt>|<transactionId>``, decoded by Python).

A request is accepted by one iff by the other; a refusal names a field the contract finds at fault; an
accepted request is rendered as valid JSON that carries every value exactly. ``CQRS_DIFFERENTIAL_REQUESTS``
sets the number of requests per template and authorization mode (default 10,000). The requests are the
same on every run (derandomized), so CI does not depend on luck; ``CQRS_DIFFERENTIAL_RANDOM=1`` draws new
ones, to look for divergences.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledger_aggregator.currencies import minor_units
from ledger_aggregator.formats import is_utc_time
from local_account.vtl import Request, render
from tests.support.templates import api_template

REQUESTS = int(os.environ.get("CQRS_DIFFERENTIAL_REQUESTS", "10000"))
EXPLORE = os.environ.get("CQRS_DIFFERENTIAL_RANDOM") == "1"  # new requests each run, to look for divergences
BATCH = 25  # requests per generated example
SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())
EPOCH = 1_767_225_600_000  # the request time: 2026-01-01T00:00:00Z
LIMIT = datetime.fromtimestamp(EPOCH / 1000, UTC) + timedelta(minutes=5)
CLAIM = "custom:accounts"
PAYER = "acc-1"
UNITS = minor_units()
SCHEMA_OF = {"create_transaction": "NewTransaction", "create_transfer": "NewTransfer"}
ID_FIELD = {"create_transaction": "transactionId", "create_transfer": "transferId"}
seen: dict[tuple[str, str], int] = {}


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    """JSON Schema's ``pattern`` is ECMA-262, whose ``$`` (no multiline flag) is the end of the text only."""
    if isinstance(instance, str) and not re.search(re.sub(r"\$$", r"\\Z", pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Contract = jsonschema.validators.extend(jsonschema.Draft4Validator, {"pattern": _ecma_pattern})


def _validator(name: str) -> Any:
    schema = {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}
    return Contract(schema)


VALIDATORS = {method: _validator(name) for method, name in SCHEMA_OF.items()}


def contract_faults(method: str, body: Any, account: str, claims: str | None) -> set[str]:
    """The fields the contract finds at fault; ``{"forbidden"}`` when the caller does not hold the account."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", account, re.ASCII):
        return {"accountId"}
    if claims is not None and account not in [one.strip() for one in claims.split(",")]:
        return {"forbidden"}
    faults: set[str] = set()
    for error in VALIDATORS[method].iter_errors(body):
        if error.validator == "required":
            faults.update(name for name in error.validator_value if name not in body)
        elif error.validator == "additionalProperties":
            faults.update(f"unknown:{_as_utf8(name)}" for name in body if name not in error.schema["properties"])
        elif error.path:
            faults.add(str(error.path[0]))
        else:
            faults.add("body")
    if isinstance(body, dict):
        faults |= _rules_beyond_the_schema(method, body, account)
    return faults


def _as_utf8(name: str) -> str:
    """A name as an answer can carry it: UTF-8 has no unpaired surrogate, and Java's encoder (behind
    ``$util.base64Encode``) writes ``?`` for each, so the 400 names such a field with ``?`` in their place."""
    return re.sub("[\ud800-\udfff]", "?", name)


def _rules_beyond_the_schema(method: str, body: dict[str, Any], account: str) -> set[str]:
    faults = set()
    currency, amount = body.get("currency"), body.get("amount")
    if isinstance(currency, str) and currency not in UNITS:
        faults.add("currency")
    if isinstance(amount, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", amount, re.ASCII):
        value = Decimal(amount)
        places = UNITS.get(currency, 4) if isinstance(currency, str) else 4
        if value == 0 or len(amount.partition(".")[2]) > places or len(amount.replace(".", "").lstrip("0")) > 15:
            faults.add("amount")
    when = body.get("occurredAt")
    if isinstance(when, str) and (not is_utc_time(when) or _instant(when) > LIMIT):
        faults.add("occurredAt")
    description = body.get("description")
    if isinstance(description, str) and re.search("[\ud800-\udfff]", description):
        faults.add("description")
    if method == "create_transfer" and body.get("toAccountId") == account:
        faults.add("toAccountId")
    return faults


def _instant(text: str) -> datetime:
    try:
        return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return LIMIT + timedelta(days=1)


# --- what is generated ------------------------------------------------------------------------------

# Every code point of every plane, unpaired surrogates (category Cs) and controls included: hypothesis's own
# text (which favours the characters that break things), and, for long text at the cost of one draw, code
# points made of random bytes (three to a point, spread over all 17 planes).
CHARS = st.characters(codec=None, exclude_categories=[])


def code_points(max_points: int) -> st.SearchStrategy[str]:
    """Text of up to ``max_points`` code points of any plane, drawn as one byte string."""
    return st.binary(max_size=3 * max_points).map(
        lambda raw: "".join(chr(int.from_bytes(raw[i : i + 3], "big") % 0x110000) for i in range(0, len(raw) - 2, 3))
    )


TEXT = st.text(CHARS, max_size=4) | code_points(12)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=4,
)
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
IDS = st.binary(min_size=1, max_size=64).map(lambda raw: "".join(ID_ALPHABET[byte % 64] for byte in raw))
BAD = TEXT | JSON_VALUE


ONE_IN_TWENTY = st.integers(0, 19)


@st.composite
def mostly(draw: st.DrawFn, good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = BAD) -> Any:
    """A well-formed value 19 times in 20 (hypothesis leans to 0, its simplest integer: that is the good side)."""
    return draw(bad if draw(ONE_IN_TWENTY) == 19 else good)


@st.composite
def amounts(draw: st.DrawFn, places: int) -> str:
    """Amounts near every rule's edge: digits, places, zero, leading zeros, exponents, signs, other digits."""
    edge = draw(st.integers(0, 9)) == 0  # one more digit than allowed, either side of the point
    whole = str(draw(st.integers(0, 10 ** (16 if edge else 9) - 1)))
    width = draw(st.integers(0, places + edge))
    fraction = str(draw(st.integers(0, 10**width - 1))).zfill(width) if width else ""
    text = whole + ("." + fraction if fraction else draw(st.sampled_from(["", "", "", "", "", "."])))
    odd = draw(st.integers(0, 49))
    prefix, suffix = ("-", "") if odd == 1 else ("0", "") if odd == 2 else ("", "e1") if odd == 3 else ("", "")
    text = prefix + text + suffix
    return text.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) if odd == 4 else text


@st.composite
def instants(draw: st.DrawFn) -> str:
    """Mostly real past instants; some just before or after the limit; some impossible or malformed."""
    year = draw(st.integers(0, 9999) | st.integers(1990, 2026))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 31) | st.integers(1, 28) | st.integers(1, 28))
    hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if draw(st.integers(0, 9)) == 0:
        text = f"{LIMIT + timedelta(seconds=draw(st.integers(-3, 3))):%Y-%m-%dT%H:%M:%S}"
    micro = draw(st.sampled_from(["", "", ".5", ".123456", ".1234567"]))
    return text + micro + draw(st.sampled_from(["Z"] * 12 + ["", "+00:00", "Z\n", "z"]))


LONG = st.tuples(st.integers(250, 260), st.sampled_from(["a", "é", "😀", "\ud800"])).map(lambda t: t[1] * t[0])
DESCRIPTIONS = st.text(CHARS, max_size=6) | code_points(40) | LONG


TYPES = st.sampled_from(["credit", "debit"])
PAYEES = st.sampled_from(["acc-2", "b"]) | IDS
CURRENCIES = st.sampled_from(sorted(UNITS))
UNKNOWN_CURRENCIES = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)
AMOUNTS = {places: amounts(places) for places in range(6)}
OPTIONAL = {"occurredAt": instants(), "description": DESCRIPTIONS}
# The share of requests with one value replaced by any JSON value: 1 in FAULTY per field.
FAULTY = 20


@st.composite
def bodies(draw: st.DrawFn, method: str) -> dict[str, Any]:
    """A JSON object (the deployed model refuses anything else before the template runs). One draw picks
    which field, if any, gets any JSON value instead of a well-formed one, so that most requests are
    accepted and a fault often stands alone; the well-formed values have edges of their own."""
    own = ID_FIELD[method]
    first = "type" if method == "create_transaction" else "toAccountId"
    names = [first, "currency", "amount", own, "occurredAt", "description"]
    # 0 (hypothesis's favourite) and most other draws spoil nothing; the top len(names) + 1 each spoil one thing.
    spoiled = FAULTY * len(names) - draw(st.integers(0, FAULTY * len(names)))
    present = draw(st.integers(0, 7))  # which of the three optional fields are sent
    body: dict[str, Any] = {first: draw(TYPES if method == "create_transaction" else PAYEES)}
    currency = draw(UNKNOWN_CURRENCIES if draw(st.integers(0, 19)) == 19 else CURRENCIES)
    body["currency"], body["amount"] = currency, draw(AMOUNTS[UNITS.get(currency, 2)])
    for bit, (name, values) in enumerate({own: IDS, **OPTIONAL}.items()):
        if present >> bit & 1:
            body[name] = draw(values)
    if 0 <= spoiled < len(names) and names[spoiled] in body:
        body[names[spoiled]] = draw(BAD)
    if method == "create_transfer" and spoiled == len(names):
        body["toAccountId"] = PAYER  # the payee is the payer
    extra = draw(st.integers(0, 29))
    if extra == 29:
        body[draw(TEXT)] = draw(JSON_VALUE)  # a field the API does not know
    elif extra == 28:
        del body[draw(st.sampled_from(sorted(body)))]  # a required field goes missing (or an optional one)
    return body


ACCOUNT_IDS = mostly(st.sampled_from([PAYER] * 9 + ["acc-2"]), IDS | TEXT)
CLAIMS = st.sampled_from([PAYER] * 9 + [f"acc-2, {PAYER}"] * 9 + ["acc-2", "", f"{PAYER}x"])


@st.composite
def requests(draw: st.DrawFn, method: str, cognito: bool) -> tuple[Any, str, str | None, str]:
    body = draw(bodies(method))
    account, claims = draw(ACCOUNT_IDS), draw(CLAIMS)
    text = json.dumps(body, ensure_ascii=draw(st.booleans()))  # both forms: escaped and raw UTF-8 characters
    return body, account, claims if cognito else None, text


# --- the template's verdict -------------------------------------------------------------------------


def template_verdict(rendered: Any) -> tuple[str | None, dict[str, Any]]:
    """The field the rendered request refuses (None when it writes), and the request itself."""
    sent = json.loads(rendered.body)
    inner = sent["TransactItems"][0]["Update"] if "TransactItems" in sent else sent
    for name in inner.get("ExpressionAttributeNames", {}):
        if name.startswith("#forbidden_"):
            return "forbidden", sent
        if name.startswith("#invalid_"):
            named = name.removeprefix("#invalid_")
            if named == "unknownField":
                encoded = rendered.request_override["header"]["ledgerUnknownField"]
                named = "unknown:" + base64.b64decode(encoded).decode("utf-8")
            return named, sent
    return None, sent


def agreed(method: str, cognito: bool, claims: str | None, given: Request, expected: set[str]) -> Any:
    """Render ``given`` with the deployed template and require the contract's verdict: the rendered request
    when both accept it, None when both refuse it (the template naming a field the contract finds at fault)."""
    context: dict[str, Any] = {"requestId": "r-1", "extendedRequestId": "Jg3Qb+xx/AMEbkA=", "requestTimeEpoch": EPOCH}
    if claims is not None:
        context["authorizer"] = {"claims": {CLAIM: claims}}
    named, sent = template_verdict(render(deployed(method, cognito), dataclasses.replace(given, context=context)))
    shown = (given.body, given.path, given.querystring, claims, named, expected)
    assert (named is None) == (not expected), shown
    assert named is None or named in expected, shown
    return sent if named is None else None


def written_values(sent: dict[str, Any]) -> list[dict[str, Any]]:
    """The attribute values of every write in the rendered request."""
    writes = [item["Update"] for item in sent["TransactItems"]] if "TransactItems" in sent else [sent]
    return [w["ExpressionAttributeValues"] for w in writes]


@functools.cache
def deployed(method: str, cognito: bool) -> str:
    return api_template(f"{method}.request.vtl", CLAIM if cognito else None)


def check(method: str, cognito: bool, request: tuple[Any, str, str | None, str]) -> None:
    body, account, claims, text = request
    sent = agreed(
        method,
        cognito,
        claims,
        Request(body=text, path={"accountId": account}),
        contract_faults(method, body, account, claims),
    )
    if sent is None:
        return
    for values in written_values(sent):
        assert values[":am"] == {"N": body["amount"]} and values[":cu"] == {"S": body["currency"]}
        if "description" in body:
            assert values[":de"] == {"S": body["description"]}
        if "occurredAt" in body:
            assert values[":oc"] == {"S": body["occurredAt"]}


def run_generated(requests: st.SearchStrategy[Any], check: Any, key: tuple[str, str]) -> None:
    """Check REQUESTS generated requests, BATCH to an example, and count them under ``key``."""

    @settings(
        max_examples=max(1, REQUESTS // BATCH),
        deadline=None,
        database=None,
        derandomize=not EXPLORE,  # the same requests on every run, so CI does not depend on luck
        phases=[Phase.generate],  # no shrinking: the failure names its request, and shrinking a batch takes minutes
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(st.lists(requests, min_size=BATCH, max_size=BATCH))
    def agree(batch: list[Any]) -> None:
        for request in batch:
            check(request)
        seen[key] = seen.get(key, 0) + len(batch)

    agree()
    assert seen[key] >= REQUESTS


@pytest.mark.parametrize("cognito", [False, True], ids=["AWS_IAM", "COGNITO"])
@pytest.mark.parametrize("method", ["create_transaction", "create_transfer"])
def test_the_template_and_the_contract_agree_on_every_generated_request(method: str, cognito: bool) -> None:
    key = (method, "COGNITO" if cognito else "AWS_IAM")
    run_generated(requests(method, cognito), lambda request: check(method, cognito, request), key)


# --- the read templates: path and query parameters --------------------------------------------------

PARAMETERS = {
    (path, p["name"]): p for path, item in SPEC["paths"].items() for p in item.get("get", {}).get("parameters", [])
}
READ_PATHS = {"get_summary": "/accounts/{accountId}/summary", "list_transactions": "/accounts/{accountId}/transactions"}
ACCOUNT_PATTERN = SPEC["components"]["parameters"]["accountId"]["schema"]["pattern"]
POSITION = re.compile(r"(0|[1-9][0-9]{0,19})\|((?:[A-Za-z0-9_-]{1,64}:)?[A-Za-z0-9_-]{1,64})(.*)", re.ASCII | re.DOTALL)
QUERY_FIELDS = ("from", "to", "order", "currency", "type")


def _matches(pattern: str, value: str) -> bool:
    return re.search(re.sub(r"\$$", r"\\Z", pattern), value) is not None


def binding_of(query: dict[str, str]) -> str:
    """What a page token carries of its query (docs/api.md): nothing for the plain listing, newest first."""
    values = {name: query.get(name, "") for name in QUERY_FIELDS}
    values["order"] = values["order"] or "newest"
    if values == {**dict.fromkeys(QUERY_FIELDS, ""), "order": "newest"}:
        return ""
    return "".join(f"|{values[name]}" for name in ("order", "from", "to", "currency", "type"))


def position_of(token: str, query: dict[str, str]) -> tuple[str, str] | None:
    """Where a page token says the page starts (base64url of ``<recordedAt>|<transactionId><binding>``),
    or None when it is not a token of ``query``: malformed, bound to another query, or out of its range."""
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        return None
    found = POSITION.fullmatch(text)
    if not found or found[3] != binding_of(query):
        return None
    at = int(found[1])
    if (query.get("from") and at < int(query["from"])) or (query.get("to") and at > int(query["to"])):
        return None
    return (found[1], found[2])


def read_faults(method: str, account: str, query: dict[str, str], claims: str | None) -> set[str]:
    """The parameters the contract finds at fault (docs/openapi.yaml's patterns, and docs/api.md's rules:
    a range not reversed, a currency of ISO 4217 with a minor unit, a token of this query)."""
    if not _matches(ACCOUNT_PATTERN, account):
        return {"accountId"}
    if claims is not None and account not in [one.strip() for one in claims.split(",")]:
        return {"forbidden"}
    path = READ_PATHS[method]
    faults = {name for name, value in query.items() if not _matches(PARAMETERS[path, name]["schema"]["pattern"], value)}
    if method == "get_summary":
        return faults
    low, high = query.get("from", ""), query.get("to", "")
    if not {"from", "to"} & faults and low and high and int(high) < int(low):
        faults.add("to")
    if "currency" not in faults and query.get("currency") and query["currency"] not in UNITS:
        faults.add("currency")
    token = query.get("nextToken", "")
    if "nextToken" not in faults and token and (faults or position_of(token, query) is None):
        faults.add("nextToken")  # a token is judged only against a valid query: nothing else is checked first
    return faults


def _token(position: tuple[int, str], binding: str) -> str:
    return base64.urlsafe_b64encode(f"{position[0]}|{position[1]}{binding}".encode()).decode()


MILLISECONDS = st.integers(0, 10**15 - 1) | st.integers(EPOCH - 10, EPOCH + 10)
POSITIONS = st.tuples(MILLISECONDS | st.integers(0, 10**20 - 1), IDS | st.tuples(IDS, IDS).map(":".join))
BAD_TOKENS = (
    TEXT | st.text(ID_ALPHABET + "=", max_size=12) | st.builds(lambda t: base64.b64encode(t.encode()).decode(), TEXT)
)
LIMITS = mostly(st.integers(1, 100).map(str) | st.just(""), st.integers(-5, 200).map(str) | TEXT | st.just("01"))
FILTERS = mostly(st.sampled_from(["", "EUR", "JPY", "XXX"]), TEXT | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=4))
RANGE_ENDS = mostly(MILLISECONDS.map(str) | st.just(""), TEXT | st.sampled_from(["-1", "01", "1.5", "1" * 16]))
LISTING = {
    "limit": LIMITS,
    "from": RANGE_ENDS,
    "to": RANGE_ENDS,
    "order": mostly(st.sampled_from(["", "newest", "oldest"]), TEXT | st.sampled_from(["asc", "Oldest"])),
    "currency": FILTERS,
    "type": mostly(st.sampled_from(["", "credit", "debit"]), TEXT | st.sampled_from(["transfer", "Debit"])),
}


# The bindings of other queries that a token may carry: some of the same length as a query drawn here.
OTHER_BINDINGS = st.sampled_from(
    [
        binding_of(other)
        for other in (
            {},
            {"order": "oldest"},
            {"currency": "EUR"},
            {"type": "credit"},
            {"from": str(EPOCH)},
            {"to": str(EPOCH), "currency": "JPY", "type": "debit"},
        )
    ]
)
OWN_BINDING = st.integers(0, 3)


@st.composite
def tokens(draw: st.DrawFn, query: dict[str, str]) -> str:
    """A page token: mostly one of this query, else one bound to another query, or a malformed one."""
    binding = binding_of(query) if draw(OWN_BINDING) else draw(OTHER_BINDINGS)
    if draw(ONE_IN_TWENTY) == 19:
        return str(draw(BAD_TOKENS))
    return _token(draw(POSITIONS), binding)


@st.composite
def read_requests(draw: st.DrawFn, method: str, cognito: bool) -> tuple[str, dict[str, str], str | None]:
    account, claims = draw(ACCOUNT_IDS), draw(CLAIMS)
    query: dict[str, str] = {}
    names = {"get_summary": {"currency": FILTERS}, "list_transactions": LISTING}
    for name, values in names[method].items():
        if draw(st.booleans()):
            query[name] = draw(values)
    if method == "list_transactions" and draw(st.booleans()):
        query["nextToken"] = draw(tokens(query))
    return account, query, claims if cognito else None


def check_read(method: str, cognito: bool, request: tuple[str, dict[str, str], str | None]) -> None:
    account, query, claims = request
    given = Request(path={"accountId": account}, querystring=query)
    sent = agreed(method, cognito, claims, given, read_faults(method, account, query, claims))
    if sent is None:
        return
    values = sent["ExpressionAttributeValues"]
    assert values[":a"] == {"S": account}
    if method == "get_summary":
        assert values.get(":c") == ({"S": query["currency"]} if query.get("currency") else None)
        return
    assert sent["Limit"] == int(query.get("limit") or 20)
    assert sent["ScanIndexForward"] is (query.get("order") == "oldest")
    low, high = query.get("from"), query.get("to")
    assert (values.get(":f"), values.get(":t")) == ({"N": low} if low else None, {"N": high} if high else None)
    condition = {(True, True): " AND recordedAt BETWEEN :f AND :t", (True, False): " AND recordedAt >= :f"}
    assert sent["KeyConditionExpression"] == "accountId = :a" + condition.get(
        (bool(low), bool(high)), " AND recordedAt <= :t" if high else ""
    )
    filters = {"#cu = :c": "currency", "#ty = :y": "type"}
    wanted = [test for test, name in filters.items() if query.get(name)]
    assert sent.get("FilterExpression") == (" AND ".join(wanted) if wanted else None)
    assert sent.get("ExpressionAttributeNames") == ({t[:3]: filters[t] for t in wanted} if wanted else None)
    assert (values.get(":c"), values.get(":y")) == tuple(
        {"S": query[name]} if query.get(name) else None for name in ("currency", "type")
    )
    start = sent.get("ExclusiveStartKey")
    position = position_of(query["nextToken"], query) if query.get("nextToken") else None
    assert (start is None) == (position is None)
    if position is not None:
        assert (start["recordedAt"]["N"], start["transactionId"]["S"]) == position


@pytest.mark.parametrize("cognito", [False, True], ids=["AWS_IAM", "COGNITO"])
@pytest.mark.parametrize("method", ["get_summary", "list_transactions"])
def test_the_read_templates_and_the_contract_agree_on_every_generated_request(method: str, cognito: bool) -> None:
    key = (method, "COGNITO" if cognito else "AWS_IAM")
    run_generated(read_requests(method, cognito), lambda request: check_read(method, cognito, request), key)
