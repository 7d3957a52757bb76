"""An HTTP client for the ledger API, signing with SigV4 (execute-api) as AWS_IAM requires.

Like an AWS SDK client, it resolves credentials once and keeps its connections alive
(one per thread), so that a load of many requests measures the server, not the client.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from .keepalive import exchange

# The first wait before retrying a 429, doubled on each retry up to the Retry-After the answer gives.
FIRST_BACKOFF_SECONDS = 0.01


@dataclass
class Response:
    """Status, parsed JSON body (None if not JSON) and headers."""

    status: int
    body: Any
    headers: dict[str, str]
    text: str


def until_not_throttled(send: Callable[[], Response], retries: int) -> tuple[Response, int]:
    """Send until the answer is not a 429, at most ``retries`` more times, as a client honouring Retry-After
    does: before each retry it waits a random time (full jitter) below an exponential bound, capped at the
    Retry-After seconds, so that clients racing for one hot item spread out rather than collide again.
    Returns the last answer and the 429s seen."""
    answer, seen = send(), 0
    while answer.status == 429 and seen < retries:
        cap = float(answer.headers.get("Retry-After", "1"))
        time.sleep(random.uniform(0, min(cap, FIRST_BACKOFF_SECONDS * 2**seen)))
        seen += 1
        answer = send()
    return answer, seen


@dataclass
class Listed:
    """A listing followed to its last page: how many pages it took, and its transactions (and their ids) in order."""

    pages: int = 0
    ids: list[str] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)


class LedgerClient:
    """Calls one deployed stage."""

    def __init__(
        self,
        base_url: str,
        region: str,
        sign: bool = True,
        credentials: Any = None,
        token: str | None = None,
    ) -> None:
        """``credentials`` (botocore Credentials) sign the requests; by default, the AWS environment's.
        ``token`` (an ID token, for COGNITO) is sent in ``Authorization`` instead of a signature."""
        self.base_url = base_url.rstrip("/")
        self._region = region
        self._sign = sign and token is None
        self._credentials: Any = credentials
        self._token = token
        self._local = threading.local()

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        """Send a request; ``body`` is sent as JSON unless it is already a string."""
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self._token is not None:
            all_headers.setdefault("Authorization", self._token)
        url = self.base_url + path
        if self._sign:
            signed = AWSRequest(method=method, url=url, data=data or "", headers=all_headers)
            SigV4Auth(self._resolved_credentials(), "execute-api", self._region).add_auth(signed)
            all_headers = dict(signed.headers.items())
        target = urllib.parse.urlsplit(url)
        path = target.path + (f"?{target.query}" if target.query else "")
        payload = data.encode() if data else None
        answer = exchange(lambda fresh: self._connection(target, fresh), method, path, payload, all_headers)
        return _response(answer.status, answer.text, answer.headers)

    def _resolved_credentials(self) -> Any:
        if self._credentials is None:
            self._credentials = boto3.Session().get_credentials()
            if self._credentials is None:
                raise RuntimeError("no AWS credentials to sign the request with")
        return self._credentials

    def _connection(self, target: urllib.parse.SplitResult, fresh: bool) -> http.client.HTTPConnection:
        """This thread's connection to the API's host, opened when there is none (or ``fresh``)."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None or fresh:
            kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
            connection = kind(target.netloc, timeout=30)
            self._local.connection = connection
        return connection

    def post_transaction(self, account: str, body: Any) -> Response:
        """POST /accounts/{account}/transactions."""
        return self.request("POST", f"/accounts/{_segment(account)}/transactions", body)

    def post_transfer(self, account: str, body: Any, headers: dict[str, str] | None = None) -> Response:
        """POST /accounts/{account}/transfers: money out of ``account``."""
        return self.request("POST", f"/accounts/{_segment(account)}/transfers", body, headers)

    def put_limits(self, account: str, body: Any) -> Response:
        """PUT /accounts/{account}/limits (balance guard on): an overdraft limit, an operator's operation."""
        return self.request("PUT", f"/accounts/{_segment(account)}/limits", body)

    def post_hold(self, account: str, body: Any) -> Response:
        """POST /accounts/{account}/holds (holds on): reserve funds of ``account``."""
        return self.request("POST", f"/accounts/{_segment(account)}/holds", body)

    def capture(self, account: str, hold: str, body: Any) -> Response:
        """POST /accounts/{account}/holds/{hold}/captures: take part or all of what the hold still reserves."""
        return self.request("POST", f"/accounts/{_segment(account)}/holds/{_segment(hold)}/captures", body)

    def void(self, account: str, hold: str, body: Any) -> Response:
        """POST /accounts/{account}/holds/{hold}/void: release what the hold still reserves."""
        return self.request("POST", f"/accounts/{_segment(account)}/holds/{_segment(hold)}/void", body)

    def hold(self, account: str, hold: str) -> Response:
        """GET /accounts/{account}/holds/{hold}: its status, amount, captured, remaining and expiry."""
        return self.request("GET", f"/accounts/{_segment(account)}/holds/{_segment(hold)}")

    def balances(self, account: str, currency: str | None = None) -> Response:
        """GET /accounts/{account}/balances[?currency=...] (guard on): posted, held and available per currency."""
        query = f"?currency={_segment(currency)}" if currency else ""
        return self.request("GET", f"/accounts/{_segment(account)}/balances{query}")

    def summary(self, account: str, currency: str | None = None) -> Response:
        """GET /accounts/{account}/summary[?currency=...]: the account's balances, one per currency."""
        query = f"?currency={_segment(currency)}" if currency else ""
        return self.request("GET", f"/accounts/{_segment(account)}/summary{query}")

    def statement(self, account: str, query: str) -> Response:
        """GET /accounts/{account}/statement?query: a month's or days' closes (docs/history.md)."""
        return self.request("GET", f"/accounts/{_segment(account)}/statement?{query}")

    def transactions(self, account: str, query: str = "") -> Response:
        """GET /accounts/{account}/transactions[?query]."""
        return self.request("GET", f"/accounts/{_segment(account)}/transactions{'?' + query if query else ''}")

    def listing(self, account: str, query: str = "", most: int = 1000) -> Listed:
        """Every page of GET /accounts/{account}/transactions?query, following nextToken until it is null; raises
        on an answer other than 200, or after ``most`` pages."""
        listed, token = Listed(), ""
        while listed.pages < most:
            page = self.transactions(account, "&".join(filter(None, [query, token and f"nextToken={token}"])))
            if page.status != 200:
                raise RuntimeError(f"{query}: page {listed.pages + 1} answered {page.status} {page.text}")
            listed.pages += 1
            listed.transactions += page.body["transactions"]
            listed.ids += [t["transactionId"] for t in page.body["transactions"]]
            token = page.body["nextToken"] or ""
            if not token:
                return listed
        raise RuntimeError(f"{query}: more than {most} pages")


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _response(status: int, text: str, headers: dict[str, str]) -> Response:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        body = None
    return Response(status, body, headers, text)
