"""An HTTP client for the ledger API, signing with SigV4 (execute-api) as AWS_IAM requires."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


@dataclass
class Response:
    """Status, parsed JSON body (None if not JSON) and headers."""

    status: int
    body: Any
    headers: dict[str, str]
    text: str


class LedgerClient:
    """Calls one deployed stage."""

    def __init__(self, base_url: str, region: str, sign: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self._region = region
        self._sign = sign

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        """Send a request; ``body`` is sent as JSON unless it is already a string."""
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        url = self.base_url + path
        if self._sign:
            signed = AWSRequest(method=method, url=url, data=data or "", headers=all_headers)
            credentials = boto3.Session().get_credentials()
            if credentials is None:
                raise RuntimeError("no AWS credentials to sign the request with")
            SigV4Auth(credentials, "execute-api", self._region).add_auth(signed)
            all_headers = dict(signed.headers.items())
        raw = urllib.request.Request(url, data=data.encode() if data else None, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(raw, timeout=30) as answer:
                return _response(answer.status, answer.read().decode(), dict(answer.headers.items()))
        except urllib.error.HTTPError as error:
            return _response(error.code, error.read().decode(), dict(error.headers.items()))

    def post_transaction(self, account: str, body: Any) -> Response:
        """POST /accounts/{account}/transactions."""
        return self.request("POST", f"/accounts/{_segment(account)}/transactions", body)

    def summary(self, account: str) -> Response:
        """GET /accounts/{account}/summary."""
        return self.request("GET", f"/accounts/{_segment(account)}/summary")

    def transactions(self, account: str, query: str = "") -> Response:
        """GET /accounts/{account}/transactions[?query]."""
        return self.request("GET", f"/accounts/{_segment(account)}/transactions{'?' + query if query else ''}")


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _response(status: int, text: str, headers: dict[str, str]) -> Response:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        body = None
    return Response(status, body, headers, text)
