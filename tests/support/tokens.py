"""Cognito ID tokens as a caller could bend them: read, tampered with, or forged with the local account's key."""

from __future__ import annotations

import base64
import json
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's claims, read without verifying it."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def tampered(token: str, **changes: Any) -> str:
    """The token with its claims changed and its signature kept (which no longer matches)."""
    head, _, signature = token.split(".")
    body = base64.urlsafe_b64encode(json.dumps({**claims_of(token), **changes}).encode()).decode().rstrip("=")
    return f"{head}.{body}.{signature}"


def forged(claims: dict[str, Any]) -> str:
    """A token signed with the local account's Cognito key (moto's), as if its pool had issued it."""
    key = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    return str(jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, key))
