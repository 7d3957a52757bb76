"""Who is calling: the checks API Gateway makes before a method runs, for the local gateway.

AWS_IAM (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
the ``Authorization`` header's Signature Version 4 signature is computed again from the request
(the signed headers, the path, the query, the body's hash) with the secret of its access key, and
must be the same; its credential scope must name this region and ``execute-api``; its time must be
within 15 minutes of the gateway's. An unknown access key, a wrong signature or a stale time is
refused with 403 (``INVALID_SIGNATURE``), a missing signature with 403 (``MISSING_AUTHENTICATION_TOKEN``).

COGNITO_USER_POOLS (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-integrate-with-cognito.html,
https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html):
the identity source holds an ID token whose RS256 signature verifies against the issuing pool's
JWKS, whose issuer is one of the authorizer's user pools, whose audience is an app client of that
pool, whose ``token_use`` is ``id`` and which has not expired. Anything else, a missing token
included, is refused with 401 (``UNAUTHORIZED``). The token's claims reach the templates as
``$context.authorizer.claims``, each as a string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from moto.iam.access_control import CreateAccessKeyFailure, IAMPolicy, IAMUserAccessKey
from moto.iam.models import iam_backends

from .iam import allowed

MAX_SKEW_SECONDS = 15 * 60
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:(?P<region>[a-z0-9-]+):\d{12}:userpool/(?P<pool>[\w-]+)$")


@dataclass(frozen=True, slots=True)
class Denied:
    """A refused caller: the gateway response type and its message."""

    kind: str
    message: str


INVALID = "The request signature we calculated does not match the signature you provided."


@dataclass(frozen=True, slots=True)
class Caller:
    """Who signed: the access key, its secret, its owner, and its identity policies (None: the account root)."""

    key: str
    secret: str
    arn: str
    policies: list[Any] | None

    def permits(self, invoke_arn: str) -> Denied | None:
        """None when the caller may invoke the method (the root may; a user needs an allowing policy).
        https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
        """
        if self.policies is None or allowed(self.policies, "execute-api:Invoke", invoke_arn):
            return None
        message = f"User: {self.arn} is not authorized to perform: execute-api:Invoke on resource: {invoke_arn}"
        return Denied("ACCESS_DENIED", message)


def caller_of(key: str, account_secrets: Mapping[str, str], account: str) -> Caller | None:
    """The account's own credentials are its root; any other key must be an IAM user's (in the local account)."""
    if key in account_secrets:
        return Caller(key, account_secrets[key], f"arn:aws:iam::{account}:root", None)
    if _key_status(key, account) != "Active":  # an inactive key signs nothing, as on AWS
        return None
    try:
        user = IAMUserAccessKey(account_id=account, partition="aws", access_key_id=key, headers={})
    except CreateAccessKeyFailure:
        return None
    # moto collects the user's inline, attached and group policies; IAMPolicy reads each one's document.
    documents = [IAMPolicy(p)._policy_json for p in user.collect_policies()]
    return Caller(key, user.create_credentials().secret_key, user.arn, documents)


def _key_status(key: str, account: str) -> str | None:
    """An IAM user's access key's status (``Active`` or ``Inactive``), None for no such key.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console
    """
    for user in iam_backends[account]["aws"].users.values():
        for access_key in user.access_keys:
            if access_key.access_key_id == key:
                return str(access_key.status)
    return None


UNAUTHORIZED = Denied("UNAUTHORIZED", "Unauthorized")


def access_key(authorization: str) -> str:
    """The access key id of a well-formed SigV4 Authorization header ("" otherwise)."""
    parts = _AUTHORIZATION.match(authorization)
    return parts["key"] if parts else ""


def verify_sigv4(
    request: AWSRequest, headers: Mapping[str, str], region: str, secrets: Mapping[str, str], now: float | None = None
) -> Denied | None:
    """None when the request's SigV4 signature is right; else why it is refused."""
    header = headers.get("authorization", "")
    if not header.startswith("AWS4-HMAC-SHA256 "):
        return Denied("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
    parts = _AUTHORIZATION.match(header)
    if parts is None:
        return Denied("INVALID_SIGNATURE", "Authorization header requires Credential, SignedHeaders and Signature.")
    secret = secrets.get(parts["key"])
    if secret is None:
        return Denied("INVALID_SIGNATURE", "The security token included in the request is invalid.")
    amz_date = headers.get("x-amz-date", "")
    problem = _scope_problem(parts, amz_date, region, time.time() if now is None else now)
    if problem:
        return Denied("INVALID_SIGNATURE", problem)
    expected = _signature(request, headers, parts, secret, region)
    return None if hmac.compare_digest(expected, parts["signature"]) else Denied("INVALID_SIGNATURE", INVALID)


def _scope_problem(parts: re.Match[str], amz_date: str, region: str, now: float) -> str | None:
    if parts["service"] != "execute-api":
        return "Credential should be scoped to correct service: 'execute-api'."
    if parts["region"] != region:
        return f"Credential should be scoped to a valid region, not '{parts['region']}'."
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return "Authorization requires a valid X-Amz-Date header."
    if parts["date"] != amz_date[:8]:
        return "Credential should be scoped to the date of X-Amz-Date."
    if abs(now - signed_at) > MAX_SKEW_SECONDS:
        return "Signature expired: the request's time is more than 15 minutes from the gateway's."
    return None


def _signature(request: AWSRequest, headers: Mapping[str, str], parts: re.Match[str], secret: str, region: str) -> str:
    """The signature botocore computes over exactly the headers the caller signed, at the caller's time,
    and over the body as received.

    botocore takes the payload hash from an ``x-amz-content-sha256`` header when there is one, so a body
    other than the one signed for, or ``UNSIGNED-PAYLOAD``, would verify. API Gateway hashes the body it
    received (aws/aws-sdk-java-v2#5581): the canonical request's last line is that hash, whatever a header says.
    """
    copy = AWSRequest(method=request.method, url=request.url, data=request.data)
    for name in parts["signed"].split(";"):
        copy.headers[name] = headers.get(name, "")
    copy.context["timestamp"] = headers.get("x-amz-date", "")
    credentials = Credentials(parts["key"], secret, headers.get("x-amz-security-token"))
    auth = SigV4Auth(credentials, "execute-api", region)
    canonical = auth.canonical_request(copy).rpartition("\n")[0] + "\n" + _payload_hash(request.data)
    return str(auth.signature(auth.string_to_sign(copy, canonical), copy))


def _payload_hash(data: Any) -> str:
    body = data if isinstance(data, bytes) else str(data or "").encode("utf-8", "surrogatepass")
    return hashlib.sha256(body).hexdigest()


class CognitoVerifier:
    """Verifies ID tokens for a Cognito user pool authorizer; JWKS and app clients come from the account."""

    def __init__(self, jwks_of: Callable[[str], dict[str, Any]], clients_of: Callable[[str], set[str]]) -> None:
        self._jwks_of = jwks_of
        self._clients_of = clients_of
        self._keys: dict[str, KeySet] = {}

    def claims(self, token: str, provider_arns: list[str], now: float | None = None) -> dict[str, str] | Denied:
        """The token's claims as strings, or 401."""
        pools = {m["pool"]: m["region"] for m in (_POOL_ARN.match(a) for a in provider_arns) if m}
        issuer_pool = _unverified_pool(token, pools)
        if not token or issuer_pool is None:
            return UNAUTHORIZED
        try:
            decoded = jwt.decode(token, self._key_set(issuer_pool), algorithms=["RS256"])
        except (JoseError, ValueError):
            return UNAUTHORIZED
        claims = decoded.claims
        moment = time.time() if now is None else now
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= moment or claims.get("token_use") != "id":
            return UNAUTHORIZED
        if claims.get("aud") not in self._clients_of(issuer_pool):
            return UNAUTHORIZED
        return {name: value if isinstance(value, str) else str(value) for name, value in claims.items()}

    def _key_set(self, pool: str) -> KeySet:
        if pool not in self._keys:
            self._keys[pool] = KeySet.import_key_set(self._jwks_of(pool))  # type: ignore[arg-type]
        return self._keys[pool]


def _unverified_pool(token: str, pools: Mapping[str, str]) -> str | None:
    """The pool that names itself the token's issuer, when it is one of the authorizer's.

    Read before verifying, only to choose the keys to verify with; nothing else in it is trusted yet.
    """
    issuer = _peek_issuer(token)
    for pool, region in pools.items():
        if issuer == f"https://cognito-idp.{region}.amazonaws.com/{pool}":
            return pool
    return None


def _peek_issuer(token: str) -> str | None:
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    issuer = data.get("iss") if isinstance(data, dict) else None
    return issuer if isinstance(issuer, str) else None
