"""Least privilege, read from the modules' IAM policy documents."""

from __future__ import annotations

import re
from pathlib import Path

MODULES = Path(__file__).resolve().parents[2] / "modules"
# A policy statement is a `statement { ... }` block, or the `content { ... }` of a dynamic "statement".
OPENING = re.compile(r"(?:^|\n)\s*(?:statement|content)\s*\{")
LIST = r"{key}\s*=\s*\[(?P<items>[^\]]*)\]"


def blocks(text: str) -> list[str]:
    """Bodies of the statement blocks, braces matched."""
    found = []
    for match in OPENING.finditer(text):
        depth, start = 1, match.end()
        end = start
        while depth and end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        found.append(text[start : end - 1])
    return found


def statements() -> list[tuple[str, str]]:
    found = []
    for path in sorted(MODULES.rglob("*.tf")):
        found += [(path.relative_to(MODULES).as_posix(), body) for body in blocks(path.read_text())]
    return [(f, body) for f, body in found if "actions" in body]


def items(body: str, key: str) -> list[str]:
    match = re.search(LIST.format(key=key), body, re.S)
    return re.findall(r'"([^"]*)"', match.group("items")) if match else []


def test_the_modules_have_policy_statements_to_check() -> None:
    assert len(statements()) >= 15


def test_no_action_is_a_wildcard() -> None:
    allowing = [(f, body) for f, body in statements() if not re.search(r'effect\s*=\s*"Deny"', body)]
    wild = [(f, a) for f, body in allowing for a in items(body, "actions") if "*" in a]
    assert wild == []


def test_every_queue_refuses_plain_http_and_every_sender_but_the_listed_ones() -> None:
    policy = (MODULES / "queue_policy" / "main.tf").read_text()
    denies = [body for body in blocks(policy) if 'effect  = "Deny"' in body or 'effect = "Deny"' in body]
    assert len(denies) == 2
    assert any('"aws:SecureTransport"' in d and '"false"' in d for d in denies)
    assert any('"sqs:SendMessage"' in d and '"ArnNotLike"' in d and '"aws:PrincipalArn"' in d for d in denies)
    queues = {
        f"{path.parent.name}/{name}": body
        for path in MODULES.glob("*/main.tf")
        for name, body in re.findall(r'resource "aws_sqs_queue" "(\w+)" \{(.*?)\n\}', path.read_text(), re.S)
    }
    # The closer's and the sweeper's dead-letter queues are the schedule module's, one each.
    expected = ["buffer/buffer", "buffer/dlq", "events/bus_dlq", "events/dlq", "schedule/dlq", "stream/dlq"]
    assert sorted(queues) == expected
    assert all(re.search(r"\n\s*policy\s+=\s+module\.", body) for body in queues.values()), "each has its policy"


def test_a_service_may_send_to_a_queue_only_on_behalf_of_its_one_source() -> None:
    policy = (MODULES / "queue_policy" / "main.tf").read_text()
    (allow,) = [body for body in blocks(policy) if '"ServiceSender"' in body]
    assert items(allow, "actions") == ["sqs:SendMessage"] and 'type        = "Service"' in allow
    assert '"ArnEquals"' in allow and '"aws:SourceArn"' in allow
    events = (MODULES / "events" / "main.tf").read_text()
    assert 'service_sender = { service = "events.amazonaws.com", source_arn = local.created_bus_arn }' in events


def test_a_wildcard_resource_only_where_aws_offers_nothing_narrower_and_says_so() -> None:
    for file, body in statements():
        if "*" not in items(body, "resources"):
            continue
        if "a key policy's resource is the key itself" in body:  # "*" in a key policy is that key
            assert all(a.startswith("kms:") for a in items(body, "actions")), file
            continue
        assert set(items(body, "actions")) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, file
        assert "no resource-level permissions" in body, file


def test_the_api_may_only_create_list_and_read() -> None:
    api = [body for f, body in statements() if f == "api/iam.tf" and "sts:AssumeRole" not in body]
    actions = sorted(a for body in api for a in items(body, "actions"))
    assert actions == [
        "dynamodb:GetItem",  # a hold (GET .../holds/{holdId})
        "dynamodb:Query",  # the balances (GET .../balances)
        "dynamodb:Query",  # the listing's index
        "dynamodb:Query",  # the summaries
        "dynamodb:Query",  # the closes (statements)
        "dynamodb:UpdateItem",
        # The balance guard's items, whether it is on or off (tests/terraform/guard_api): inside a transaction,
        # and an overdraft limit's own update (one statement block, two statements).
        "dynamodb:UpdateItem",
        # The holds' items, whether holds are on or off: inside a transaction only.
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ]


def test_transfers_add_no_action_beyond_item_updates_on_the_details_table() -> None:
    # DynamoDB authorizes each item of a TransactWriteItems as its own action; there is no IAM action
    # for the transaction itself, so the transfer route needs only what creating a transaction needs.
    api = [body for f, body in statements() if f == "api/iam.tf" and "sts:AssumeRole" not in body]
    writes = [body for body in api if "dynamodb:UpdateItem" in items(body, "actions")]
    assert [items(body, "actions") for body in writes] == [["dynamodb:UpdateItem"]] * 3
    assert [items(body, "resources") for body in writes] == [[], [], []]  # expressions, not strings: checked next
    assert re.search(r"resources\s*=\s*\[var\.tables\.details\.arn\]", writes[0])
    # The holds' items (on or off): their table only, their own attributes, inside a transaction only.
    holds = writes[2]
    assert re.search(r"resources\s*=\s*\[var\.tables\.holds\.arn\]", holds)
    assert '"dynamodb:Attributes"' in holds and 'values   = ["TransactWriteItems"]' in holds
    # The balance guard's (on or off): its table only, limited to the balance item's attributes; counting
    # only inside a money write's TransactWriteItems, a limit only outside any (tests/terraform/guard_api).
    balances = writes[1]
    iam = (MODULES / "api" / "iam.tf").read_text()
    assert re.search(r"for_each\s*=\s*local\.balance_writes$", iam, re.M), "granted with the guard on or off"
    assert re.search(r"resources\s*=\s*\[var\.tables\.balances\.arn\]", balances)
    assert '"dynamodb:Attributes"' in balances and '"dynamodb:EnclosingOperation"' in balances
    guard = (MODULES / "api" / "guard.tf").read_text()
    inside = r'CountInBalanceItemsInsideTransactions\s*=\s*\{ test = "StringEquals", values = \["TransactWriteItems"\]'
    assert re.search(inside, guard)
    assert re.search(r'SetOverdraftLimits\s*=\s*\{ test = "Null", values = \["true"\] \}', guard)
    transfer = (MODULES / "api" / "main.tf").read_text()
    assert 'action      = "TransactWriteItems"' in transfer


def test_the_writer_may_only_consume_and_defer_its_queue_park_refusals_and_update_summaries() -> None:
    writer = [a for f, body in statements() if f == "buffer/iam.tf" for a in items(body, "actions")]
    assert sorted(writer) == sorted(
        [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueAttributes",  # its DLQ's, for the removal guard
            "sqs:ChangeMessageVisibility",
            "sqs:SendMessage",
            "dynamodb:UpdateItem",
            "dynamodb:BatchGetItem",  # the summaries' lastTransactionAt, before it writes
            "dynamodb:PutItem",
            "dynamodb:BatchGetItem",
            "lambda:GetFunctionConfiguration",  # the stream function's, for the removal guard
        ]
    )
    sending = [body for f, body in statements() if f == "buffer/iam.tf" and "sqs:SendMessage" in body]
    assert [re.search(r"resources\s*=\s*\[([^\]]*)\]", b).group(1).strip() for b in sending] == [  # type: ignore[union-attr]
        "var.poison_dlq.arn"
    ], "the writer may send only to the DLQ it parks what it refuses in (the stream DLQ)"
    reading = [body for f, body in statements() if f == "buffer/iam.tf" and "lambda:" in body]
    assert [re.search(r"resources\s*=\s*\[([^\]]*)\]", b).group(1).strip() for b in reading] == [  # type: ignore[union-attr]
        "var.stream_function.arn"
    ], "the guard reads the stream function's configuration, and no other function's"


def test_the_deploying_guide_documents_every_root_variable_and_output() -> None:
    root = MODULES.parent
    readme = (root / "docs" / "deploying.md").read_text()
    names = re.findall(r'^(?:variable|output) "([a-z_]+)"', (root / "variables.tf").read_text(), re.M)
    names += re.findall(r'^output "([a-z_]+)"', (root / "outputs.tf").read_text(), re.M)
    assert len(names) > 20
    assert [n for n in names if f"`{n}`" not in readme] == []
