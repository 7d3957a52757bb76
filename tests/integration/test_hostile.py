r"""A hostile client through the signed API: every answer about money is honest.

Each test tries a reproduction of a reviewed finding and holds the contract: no 2xx and no 409 for a
write that did not happen, no write without a 2xx, a 409 only for a true repetition, and amounts
answered with their currency's minor unit. (The Cognito reproductions, a customer minting money with
its own token, are in test_access, which applies the stack with COGNITO.)

- A payee's own `invoice-77` and another payer's transfer `invoice-77` do not block a transfer
  `invoice-77`; the same transfer again is 409, and with another amount, payee or currency, or a
  transaction reusing its id, 422.
- Amounts are answered with their currency's minor unit; an unknown field is named whole
  (`co"lo\ur`), and a body that is not an object is 400.
- A statement of a date that does not exist, or of a range reversed, in two months or malformed, is 400
  naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from harness.client import Response
from harness.probes import eventually
from tests.integration.conftest import Deployment, settled

pytestmark = pytest.mark.second_stack  # its pattern-2 runs go on the second stack (docs/testing.md)

EUR = {"currency": "EUR"}


def honest(deployed: Deployment, accounts: list[str], send: Callable[[], Response]) -> Response:
    """Send a request and hold its answer to what it did: rows were added exactly when it answered 2xx."""
    before = {a: len(deployed.rows(a)) for a in accounts}
    answer = send()
    after = {a: len(deployed.rows(a)) for a in accounts}
    if 200 <= answer.status < 300:
        assert after != before, f"{answer.status} for a write that did not happen: {answer.body}"
    else:
        assert after == before, f"{answer.status} {answer.body}, yet rows were written"
    return answer


def test_a_payees_own_ids_never_block_a_payment_or_leak(deployed: Deployment) -> None:
    """Reviewed finding: B holding a transaction invoice-77 made A's transfer invoice-77 answer 409 while
    nothing moved, and told A that the id existed in an account it cannot read."""
    payer, payee, other_payer = (deployed.account(n) for n in ("payer", "payee", "other-payer"))
    accounts = [payer, payee, other_payer]
    own = {"transactionId": "invoice-77", "type": "credit", "amount": "7.00", **EUR}
    assert honest(deployed, accounts, lambda: deployed.api.post_transaction(payee, own)).status == 201
    earlier = {"transferId": "invoice-77", "toAccountId": payee, "amount": "1.00", **EUR}
    assert honest(deployed, accounts, lambda: deployed.api.post_transfer(other_payer, earlier)).status == 201
    transfer = {"transferId": "invoice-77", "toAccountId": payee, "amount": "40.50", **EUR}
    paid = honest(deployed, accounts, lambda: deployed.api.post_transfer(payer, transfer))
    assert (paid.status, paid.body["transferId"]) == (201, "invoice-77"), paid.body
    listed = deployed.api.transactions(payer).body["transactions"]
    assert [(t["transactionId"], t["type"], t["amount"]) for t in listed] == [("invoice-77", "debit", "40.50")]
    eventually(lambda: settled(deployed, accounts))
    assert (deployed.summary(payee) or {})["EUR"].count == 3  # its own credit and two transfers in


def test_a_repetition_is_409_and_a_reused_id_is_422_and_neither_writes(deployed: Deployment) -> None:
    payer, payee = deployed.account("rep-payer"), deployed.account("rep-payee")
    accounts = [payer, payee]
    transfer = {"transferId": "rent-11", "toAccountId": payee, "amount": "40.00", **EUR, "description": "rent"}
    assert honest(deployed, accounts, lambda: deployed.api.post_transfer(payer, transfer)).status == 201
    again = honest(deployed, accounts, lambda: deployed.api.post_transfer(payer, transfer))
    assert (again.status, again.body["error"], again.body["field"]) == (409, "conflict", "transferId")
    changes: list[dict[str, str]] = [
        {"amount": "41.00"},
        {"toAccountId": deployed.account("elsewhere")},
        {"currency": "USD"},
    ]
    for change in changes:
        reused = honest(
            deployed, [*accounts, *change.values()], partial(deployed.api.post_transfer, payer, {**transfer, **change})
        )
        assert (reused.status, reused.body["error"]) == (422, "idempotency_key_reused"), reused.body
    same_id = {"transactionId": "rent-11", "type": "debit", "amount": "40.00", **EUR}
    clash = honest(deployed, accounts, lambda: deployed.api.post_transaction(payer, same_id))
    assert (clash.status, clash.body["error"], clash.body["field"]) == (422, "idempotency_key_reused", "transactionId")
    credit = {"transactionId": "t-1", "type": "credit", "amount": "5.10", **EUR}
    assert honest(deployed, accounts, lambda: deployed.api.post_transaction(payee, credit)).status == 201
    assert honest(deployed, accounts, lambda: deployed.api.post_transaction(payee, credit)).status == 409
    other = honest(deployed, accounts, lambda: deployed.api.post_transaction(payee, {**credit, "amount": "5.11"}))
    assert (other.status, other.body["error"]) == (422, "idempotency_key_reused")
    eventually(lambda: settled(deployed, accounts))


def test_amounts_are_answered_with_their_currencys_minor_unit(deployed: Deployment) -> None:
    account = deployed.account("minor-units")
    sent = [("120.50", "EUR"), ("40", "EUR"), ("5000", "JPY"), ("1.1", "KWD")]
    for amount, currency in sent:
        body = {"type": "credit", "amount": amount, "currency": currency}
        assert honest(deployed, [account], lambda b=body: deployed.api.post_transaction(account, b)).status == 201  # type: ignore[misc]
    listed = {(t["amount"], t["currency"]) for t in deployed.api.transactions(account).body["transactions"]}
    assert listed == {("120.50", "EUR"), ("40.00", "EUR"), ("5000", "JPY"), ("1.100", "KWD")}
    eventually(lambda: settled(deployed, [account]))
    balances = {b["currency"]: b for b in deployed.api.summary(account).body["balances"]}
    assert [
        balances[c][k] for c, k in (("EUR", "balance"), ("EUR", "debits"), ("JPY", "credits"), ("KWD", "balance"))
    ] == [
        "160.50",
        "0.00",
        "5000",
        "1.100",
    ]


def test_an_unknown_field_is_named_whole_and_nothing_is_written(deployed: Deployment) -> None:
    """Reviewed finding: the field co"lo\\ur was named "co\\"."""
    account = deployed.account("unknown-field")
    for field in ('co"lo\\ur', "colour", "type,amount"):
        body: dict[str, Any] = {"type": "credit", "amount": "1.00", **EUR, field: "x"}
        answer = honest(deployed, [account], lambda b=body: deployed.api.post_transaction(account, b))  # type: ignore[misc]
        assert (answer.status, answer.body["error"], answer.body["field"]) == (400, "invalid_body", field)
    not_an_object = honest(deployed, [account], lambda: deployed.api.post_transaction(account, "[1, 2]"))
    assert (not_an_object.status, not_an_object.body["field"]) == (400, "body")


def test_a_listing_refuses_a_bad_range_filter_order_or_a_token_of_another_query(deployed: Deployment) -> None:
    """docs/api.md, Listing: a range reversed, too wide for its digits or not in milliseconds, a filter or an
    order of unknown value, and a page token replayed with another query are each 400 naming the parameter."""
    account = deployed.account("listing")
    for i in range(3):
        body = {"transactionId": f"l{i}", "type": "debit", "amount": "1.00", **EUR}
        assert deployed.api.post_transaction(account, body).status == 201
    token = eventually(lambda: deployed.api.transactions(account, "type=debit&limit=1").body["nextToken"])
    refused = {
        "from=1767225600001&to=1767225600000": "to",
        f"from={'9' * 16}": "from",
        "from=-1": "from",
        "to=2026-01-01T00%3A00%3A00Z": "to",
        "currency=XAU": "currency",
        "currency=ABC": "currency",
        "type=transfer": "type",
        "order=asc": "order",
        f"type=credit&nextToken={token}": "nextToken",
        f"nextToken={token}": "nextToken",
        f"type=debit&order=oldest&nextToken={token}": "nextToken",
    }
    for query, field in refused.items():
        answer = deployed.api.transactions(account, query)
        assert (answer.status, answer.body.get("field")) == (400, field), (query, answer.text)
    assert deployed.api.transactions(account, f"type=debit&nextToken={token}").status == 200


def test_a_statement_refuses_dates_that_do_not_exist_and_ranges_it_cannot_answer(deployed: Deployment) -> None:
    """docs/history.md: a day or month that does not exist, a range reversed, in two months or malformed,
    both a month and days, and a currency of no ISO 4217 code are each 400 naming the parameter; days not
    closed are 404 naming the last closed day."""
    account = deployed.account("statement")
    refused = {
        "currency=EUR&from=2026-02-29&to=2026-02-29": "from",
        "currency=EUR&from=2100-02-29&to=2100-02-29": "from",
        "currency=EUR&from=2026-06-31&to=2026-06-30": "from",
        "currency=EUR&month=2026-13": "month",
        "currency=EUR&month=2026-11&from=2026-11-01&to=2026-11-02": "month",
        "currency=EUR&from=2026-11-05&to=2026-11-04": "to",
        "currency=EUR&from=2026-11-30&to=2026-12-01": "to",
        "currency=EUR&from=2026-11-01": "to",
        "currency=EUR&from=20261101&to=20261102": "from",
        "currency=XAU&month=2026-11": "currency",
        "month=2026-11": "currency",
        "currency=EUR": "month",
    }
    for query, field in refused.items():
        answer = deployed.api.statement(account, query)
        assert (answer.status, answer.body.get("field")) == (400, field), (query, answer.text)
    leap = deployed.api.statement(account, "currency=EUR&from=2028-02-29&to=2028-02-29")
    assert (leap.status, leap.body["error"], leap.body["closedThrough"]) == (404, "not_closed", None), leap.text
