"""The local gateway authorizes callers as API Gateway does: SigV4 signatures and Cognito ID tokens."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness.client import LedgerClient, Response
from local_account import moto_server
from local_account.apigateway import Gateway, serve
from tests.support.aws import client_of
from tests.support.gateway import get_item_method
from tests.support.tokens import claims_of, forged
from tests.support.tokens import tampered as tampered_token

REGION = "eu-west-1"
KEY, SECRET = "AKIDLOCAL", "local-secret"
TABLE = "auth-items"
ECHO = (
    '{"claims": "$!context.authorizer.claims[\'custom:accounts\']", '
    '"user": "$!context.authorizer.claims[\'cognito:username\']"}'
)


@dataclass
class Stage:
    base: str
    url: str
    pool: str
    other_pool: str
    client_id: str
    other_client_id: str
    cognito: Any

    def token(self, username: str, client_id: str | None = None, pool: str | None = None) -> str:
        answer = self.cognito.admin_initiate_auth(
            UserPoolId=pool or self.pool,
            ClientId=client_id or self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": "Secret-123456"},
        )
        return str(answer["AuthenticationResult"]["IdToken"])


def create_pool(cognito: Any, name: str, users: dict[str, str]) -> tuple[str, str]:
    pool = cognito.create_user_pool(
        PoolName=name, Schema=[{"Name": "accounts", "AttributeDataType": "String", "Mutable": True}]
    )["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName=f"{name}-app")["UserPoolClient"]["ClientId"]
    for username, accounts in users.items():
        attributes = [{"Name": "custom:accounts", "Value": accounts}]
        cognito.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=attributes)
        cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password="Secret-123456", Permanent=True)
    return pool, client


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    server, url = moto_server.start()
    make = client_of(url, REGION, KEY, SECRET)
    apigateway, cognito, dynamodb = make("apigateway"), make("cognito-idp"), make("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    pool, client_id = create_pool(cognito, "alice-pool", {"alice": "acc-1,acc-2"})
    other_pool, other_client = create_pool(cognito, "other-pool", {"mallory": "acc-1"})
    api = apigateway.create_rest_api(name="auth-api")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    pool_arn = f"arn:aws:cognito-idp:{REGION}:123456789012:userpool/{pool}"
    authorizer = apigateway.create_authorizer(
        restApiId=api,
        name="cognito",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool_arn],
        identitySource="method.request.header.Authorization",
    )["id"]
    request = f'{{"TableName": "{TABLE}", "Key": {{"id": {{"S": "x"}}}}}}'
    for part, kind in (("iam", "AWS_IAM"), ("cognito", "COGNITO_USER_POOLS")):
        resource = apigateway.create_resource(restApiId=api, parentId=root, pathPart=part)["id"]
        chosen = authorizer if kind == "COGNITO_USER_POOLS" else None
        get_item_method(apigateway, api, resource, request, ECHO, authorization=kind, authorizer=chosen)
    apigateway.create_deployment(restApiId=api, stageName="v1")
    port = moto_server.free_port()
    http = serve(Gateway(url, REGION, {KEY: SECRET}), port)
    base = f"http://127.0.0.1:{port}/{api}/v1"
    yield Stage(base, url, pool, other_pool, client_id, other_client, cognito)
    http.shutdown()
    server.stop()


def signed_get(stage: Stage, path: str, key: str = KEY, secret: str = SECRET, **tweak: Any) -> Response:
    url = stage.base + path
    request = AWSRequest(method="GET", url=tweak.get("signed_url", url))
    SigV4Auth(Credentials(key, secret), tweak.get("service", "execute-api"), REGION).add_auth(request)
    headers = dict(request.headers.items())
    headers.update(tweak.get("headers", {}))
    return LedgerClient(stage.base, REGION, sign=False).request("GET", path, headers=headers)


def test_a_request_signed_with_the_accounts_credentials_passes(stage: Stage) -> None:
    answer = signed_get(stage, "/iam")
    assert answer.status == 200, answer.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "not-the-secret"}, "does not match"),
        ({"key": "AKIDUNKNOWN"}, "security token included in the request is invalid"),
        ({"signed_url": "PATH:/cognito"}, "does not match"),  # signed for another path
        ({"service": "s3"}, "correct service"),
        ({"headers": {"X-Amz-Date": "20200101T000000Z"}}, "X-Amz-Date"),
    ],
)
def test_a_bad_signature_is_403_in_the_gateways_json(stage: Stage, change: dict[str, Any], message: str) -> None:
    if change.get("signed_url", "").startswith("PATH:"):
        change = {"signed_url": stage.base + change["signed_url"][5:]}
    answer = signed_get(stage, "/iam", **change)
    assert answer.status == 403, answer.text
    assert message in answer.body["message"]


def test_a_stale_signature_is_403(stage: Stage) -> None:
    old = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 16 * 60))
    url = stage.base + "/iam"
    request = AWSRequest(method="GET", url=url)
    request.context["timestamp"] = old
    auth = SigV4Auth(Credentials(KEY, SECRET), "execute-api", REGION)
    request.headers["X-Amz-Date"] = old
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    scope = f"{KEY}/{old[:8]}/{REGION}/execute-api/aws4_request"
    headers = {
        "X-Amz-Date": old,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-amz-date, Signature={signature}",
    }
    answer = LedgerClient(stage.base, REGION, sign=False).request("GET", "/iam", headers=headers)
    assert answer.status == 403 and "expired" in answer.body["message"], answer.text


def iam_user(stage: Stage, name: str, resource: str) -> tuple[str, str]:
    """An IAM user of the local account allowed to invoke ``resource`` (relative to the stage's ARN)."""
    iam = boto3.client(
        "iam", endpoint_url=stage.url, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET
    )
    iam.create_user(UserName=name)
    arn = f"arn:aws:execute-api:{REGION}:123456789012:{stage.base.rsplit('/', 2)[1]}/v1/{resource}"
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": arn}],
    }
    iam.put_user_policy(UserName=name, PolicyName="ledger", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_an_iam_user_may_invoke_what_its_policy_allows_and_nothing_else(stage: Stage) -> None:
    key, secret = iam_user(stage, "reader", "GET/iam")
    assert signed_get(stage, "/iam", key, secret).status == 200
    other_key, other_secret = iam_user(stage, "other", "GET/elsewhere")
    refused = signed_get(stage, "/iam", other_key, other_secret)
    assert refused.status == 403, refused.text
    assert "user/other is not authorized to perform: execute-api:Invoke" in refused.body["message"]
    wrong = signed_get(stage, "/iam", key, "not-" + secret)
    assert wrong.status == 403 and "does not match" in wrong.body["message"]


def test_an_unsigned_request_is_403_missing_authentication_token(stage: Stage) -> None:
    answer = LedgerClient(stage.base, REGION, sign=False).request("GET", "/iam")
    assert (answer.status, answer.body["message"]) == (403, "Missing Authentication Token")


def with_token(stage: Stage, token: str | None) -> LedgerClient:
    """A client that sends the ID token (or nothing) in Authorization, unsigned."""
    return LedgerClient(stage.base, REGION, sign=False, token=token)


def test_a_valid_id_token_passes_and_its_claims_reach_the_templates(stage: Stage) -> None:
    answer = with_token(stage, stage.token("alice")).request("GET", "/cognito")
    assert answer.status == 200, answer.text
    assert answer.body == {"claims": "acc-1,acc-2", "user": "alice"}


def tampered(token: str) -> str:
    return tampered_token(token, **{"custom:accounts": "acc-1,acc-2,acc-9"})


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda s: "", id="absent"),
        pytest.param(lambda s: "not-a-jwt", id="garbage"),
        pytest.param(lambda s: tampered(s.token("alice")), id="tampered"),
        pytest.param(lambda s: forged({**claims_of(s.token("alice")), "exp": int(time.time()) - 5}), id="expired"),
        pytest.param(lambda s: s.token("mallory", s.other_client_id, s.other_pool), id="wrong-pool"),
        pytest.param(lambda s: forged({**claims_of(s.token("alice")), "aud": s.other_client_id}), id="wrong-audience"),
        pytest.param(lambda s: forged({**claims_of(s.token("alice")), "token_use": "access"}), id="access-token"),
    ],
)
def test_a_token_that_does_not_verify_is_401_in_the_gateways_json(stage: Stage, make: Any) -> None:
    answer = with_token(stage, make(stage) or None).request("GET", "/cognito")
    assert (answer.status, answer.body["message"]) == (401, "Unauthorized"), answer.text


def test_the_forging_key_is_the_pools_so_the_refusals_above_are_for_their_claims(stage: Stage) -> None:
    """A token forged with unchanged claims passes: the refusals of forged tokens come from what they change."""
    answer = with_token(stage, forged(claims_of(stage.token("alice")))).request("GET", "/cognito")
    assert answer.status == 200, answer.text


def signed_with_body(stage: Stage, signed_body: str, sent_body: str, payload_hash: str | None = None) -> Response:
    """A GET carrying a body, signed for ``signed_body`` (with ``x-amz-content-sha256`` when given) and sent
    with ``sent_body``."""
    url = stage.base + "/iam"
    headers = {"Content-Type": "application/json"}
    if payload_hash is not None:
        headers["X-Amz-Content-SHA256"] = payload_hash
    request = AWSRequest(method="GET", url=url, data=signed_body, headers=headers)
    SigV4Auth(Credentials(KEY, SECRET), "execute-api", REGION).add_auth(request)
    return LedgerClient(stage.base, REGION, sign=False).request(
        "GET", "/iam", body=sent_body, headers=dict(request.headers.items())
    )


def test_the_signature_covers_the_body_as_received(stage: Stage) -> None:
    """Reviewed finding: a body other than the one an x-amz-content-sha256 header signed for, or
    UNSIGNED-PAYLOAD, was accepted; API Gateway hashes the received body (aws/aws-sdk-java-v2#5581)."""
    signed = '{"amount": "1.00"}'
    digest = hashlib.sha256(signed.encode()).hexdigest()
    assert signed_with_body(stage, signed, signed).status == 200
    assert signed_with_body(stage, signed, signed, payload_hash=digest).status == 200
    swapped = signed_with_body(stage, signed, '{"amount": "999999.00"}', payload_hash=digest)
    assert swapped.status == 403 and "does not match" in swapped.body["message"], swapped.text
    assert signed_with_body(stage, signed, '{"amount": "999999.00"}').status == 403
    unsigned = signed_with_body(stage, signed, signed, payload_hash="UNSIGNED-PAYLOAD")
    assert unsigned.status == 403 and "does not match" in unsigned.body["message"], unsigned.text


def test_an_inactive_access_key_is_refused(stage: Stage) -> None:
    key, secret = iam_user(stage, "rotated", "GET/iam")
    assert signed_get(stage, "/iam", key, secret).status == 200
    iam = boto3.client(
        "iam", endpoint_url=stage.url, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET
    )
    iam.update_access_key(UserName="rotated", AccessKeyId=key, Status="Inactive")
    refused = signed_get(stage, "/iam", key, secret)
    assert refused.status == 403 and "security token included in the request is invalid" in refused.body["message"]
    iam.update_access_key(UserName="rotated", AccessKeyId=key, Status="Active")
    assert signed_get(stage, "/iam", key, secret).status == 200


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curls_own_sigv4_signer_is_accepted_and_its_signature_covers_the_body(stage: Stage) -> None:
    """A second signer no one here wrote: curl's --aws-sigv4 (as README shows)."""

    def curl(*extra: str) -> tuple[int, str]:
        command = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--aws-sigv4", f"aws:amz:{REGION}:execute-api"]
        command += ["--user", f"{KEY}:{SECRET}", *extra, stage.base + "/iam"]
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True).stdout
        body, _, status = out.rpartition("\n")
        return int(status), body

    assert curl()[0] == 200
    assert curl("-X", "GET", "-H", "Content-Type: application/json", "--data", '{"amount": "1.00"}')[0] == 200
    digest = hashlib.sha256(b'{"amount": "1.00"}').hexdigest()
    status, body = curl("-X", "GET", "-H", f"x-amz-content-sha256: {digest}", "--data", '{"amount": "999999.00"}')
    assert status == 403 and "does not match" in body, body
