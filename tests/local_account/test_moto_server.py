"""moto's server in the local account (local_account/moto_server.py): the retry log and Terraform's retries."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from local_account import moto_server


def test_an_sdks_retry_is_logged_with_its_attempt_and_answer(tmp_path: Any) -> None:
    """A create answered "already exists" on its second attempt shows in the log as that attempt; a first
    attempt answered 2xx writes nothing (moto_server.with_retry_log)."""
    log = tmp_path / "retries.log"
    server, url = moto_server.start(retry_log=log)
    try:
        body = json.dumps(
            {
                "TableName": "r-table",
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            }
        ).encode()
        statuses = []
        for attempt in (1, 2):
            headers = {**moto_server.dynamodb_headers("CreateTable"), "amz-sdk-request": f"attempt={attempt}; max=3"}
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
    finally:
        server.stop()
    assert statuses == [200, 400]
    (line,) = [line for line in log.read_text().splitlines() if " attempt " in line]  # (a busy server notes more)
    assert line.split()[1:6] == ["attempt", "2", "DynamoDB_20120810.CreateTable", "->", "400"], line


def test_the_retry_log_notes_each_new_deepest_queue_of_waiting_requests_once(tmp_path: Any) -> None:
    log = moto_server.RetryLog(tmp_path / "retries.log")
    for depth in (1, 3, 2, 3, 5, 4):
        log.warning("Task queue depth is %d", depth)  # as waitress's task dispatcher calls it
    noted = [line.split()[1] for line in log.path.read_text().splitlines()]
    assert noted == ["1", "3", "5"]


def create_table_attempts(url: str, agent: str, invocation: str, attempts: int = 2) -> list[int]:
    """Send CreateTable ``attempts`` times as one SDK call would (one invocation id, attempts numbered)."""
    body = json.dumps(
        {
            "TableName": f"t-{invocation}",
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
    ).encode()
    statuses = []
    for attempt in range(1, attempts + 1):
        headers = {
            **moto_server.dynamodb_headers("CreateTable"),
            "User-Agent": agent,
            "amz-sdk-invocation-id": invocation,
            "amz-sdk-request": f"attempt={attempt}; max=25",
        }
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=30) as a:
                statuses.append(a.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def test_terraforms_attempt_after_a_2xx_answer_gets_that_answer_again_and_nothing_else_does(tmp_path: Any) -> None:
    """A later attempt of a call already answered 2xx means the answer was lost (moto_server.TerraformAnswers):
    the provider gets it again instead of "already exists"; any other client is answered as AWS would."""
    server, url = moto_server.start(retry_log=tmp_path / "retries.log")
    try:
        terraform = create_table_attempts(url, "APN/1.0 HashiCorp/1.0 Terraform/1.11.4", "11111111-a")
        other = create_table_attempts(url, "Boto3/1.43.11", "22222222-b")
    finally:
        server.stop()
    assert (terraform, other) == ([200, 200], [200, 400])
    assert "replayed the 2xx answer of invocation 11111111-a" in (tmp_path / "retries.log").read_text()
