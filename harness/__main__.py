"""The local account from the command line.

python -m harness demo [--pattern 1|2] [--faults SPEC]   set up, show the ledger working, tear down
python -m harness up   [--pattern 1|2] [--faults SPEC]   set up and stay up until Ctrl-C or SIGTERM

SPEC injects faults, e.g. throttle=100wcu,crash=0.05,dup=0.2 (see local_account/fault_plan.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from botocore.credentials import Credentials

from ledger_aggregator.domain import Totals
from local_account.account import LocalAccount
from local_account.fault_plan import Faults

from .client import LedgerClient
from .running import announcement
from .stack import ROOT, UNGUARDED, UNLOGGED, UNPROTECTED, Stack, account_policy

RUN_DIR = ROOT / ".sandbox"


class DemoFailed(Exception):
    """A step did not give what it should."""


def step(text: str) -> Callable[[str], None]:
    """Print a step as it starts, and its result when it ends."""
    started = time.monotonic()
    print(f"==> {text}", flush=True)

    def done(result: str) -> None:
        print(f"    {result} ({time.monotonic() - started:.1f} s)", flush=True)

    return done


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["demo", "up"])
    parser.add_argument("--pattern", type=int, choices=[1, 2], default=2)
    parser.add_argument("--name-prefix", default=None, help="resource name prefix (default: the command's name)")
    parser.add_argument("--faults", default="", help="faults to inject, e.g. throttle=100wcu,crash=0.05,dup=0.2")
    args = parser.parse_args(argv)
    try:
        args.injected = Faults.parse(args.faults)
    except ValueError as error:
        parser.error(str(error))
    return args


def state_dir() -> tuple[Path, Path]:
    """This run's state folder, and where its outputs go (.sandbox/outputs.json unless another run owns it)."""
    own = RUN_DIR / str(os.getpid())
    own.mkdir(parents=True, exist_ok=True)
    owner = RUN_DIR / "owner.pid"
    if owner.exists() and _alive(int(owner.read_text() or 0)):
        return own, own / "outputs.json"
    owner.write_text(str(os.getpid()))
    return own, RUN_DIR / "outputs.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return pid > 0


def set_up(pattern: int, prefix: str, folder: Path, injected: Faults) -> tuple[LocalAccount, Stack, dict[str, Any]]:
    """Start the local account and apply the stack into it, with its state in ``folder``."""
    done = step("starting the local account (moto, Lambda runtime, event source mappings, API Gateway)")
    account = LocalAccount(folder / "logs", injected=injected).start()
    if injected.active:
        print(f"    injecting faults: {injected}", flush=True)
    done(f"AWS endpoint {account.endpoint}, API Gateway {account.gateway_url}")
    zip_path = ROOT / "dist" / "lambda.zip"
    if not zip_path.exists():
        raise DemoFailed("dist/lambda.zip is missing: run `make package`")
    done = step(f"terraform init and apply, pattern {pattern}")
    buffer = {**UNGUARDED, "retired": pattern == 1}  # a new pattern-1 stack has no buffer to drain
    variables = {
        "name_prefix": prefix,
        "lambda_zip": str(zip_path),
        "tables": UNPROTECTED,
        "api": UNLOGGED,
        "buffer": buffer,
    }
    stack = Stack(folder, variables)
    stack.init()
    outputs = stack.apply(pattern)
    done(f"applied; API {account.api_base(outputs)}")
    return account, stack, outputs


def tear_down(account: LocalAccount, stack: Stack) -> None:
    """Destroy the stack and stop the account."""
    done = step("terraform destroy and stopping the local account")
    try:
        stack.destroy()
    finally:
        account.stop()
    done("done")


def demo(pattern: int, prefix: str, injected: Faults) -> int:
    """Show the ledger working end to end; non-zero if any step does not give what it should."""
    folder, _ = state_dir()
    account, stack, outputs = set_up(pattern, prefix, folder, injected)
    try:
        client = LedgerClient(account.api_base(outputs), account.region)
        expected = post_transactions(client)
        wait_for_summaries(client, expected)
        show_access(account, outputs)
        print("==> demo passed", flush=True)
        return 0
    except DemoFailed as failure:
        print(f"!!! demo failed: {failure}", file=sys.stderr, flush=True)
        return 1
    finally:
        tear_down(account, stack)


POSTS = [
    (
        "alice",
        {
            "transactionId": "salary-11",
            "type": "credit",
            "amount": "2500.00",
            "currency": "EUR",
            "description": "November's pay",
        },
    ),
    (
        "alice",
        {
            "transactionId": "rent-11",
            "type": "debit",
            "amount": "950.50",
            "currency": "EUR",
            "description": "rent, it's due",
        },
    ),
    ("alice", {"type": "debit", "amount": "12.99", "currency": "USD", "description": 'coffee "beans"'}),
    (
        "bob",
        {
            "transactionId": "gift-1",
            "type": "credit",
            "amount": "10000",
            "currency": "JPY",
            "occurredAt": "2026-11-20T10:00:00Z",
        },
    ),
    ("bob", {"type": "debit", "amount": "0.01", "currency": "EUR"}),
    ("carol", {"transactionId": "refund-7", "type": "credit", "amount": "999999999999.999", "currency": "KWD"}),
]
TRANSFER_FROM = "alice"
TRANSFER = {"transferId": "dinner-11", "toAccountId": "bob", "amount": "40.00", "currency": "EUR"}
Expected = dict[str, dict[str, Totals]]


def post_transactions(client: LedgerClient) -> Expected:
    """Post the demo's transactions and a transfer, a duplicate and bad ones; return the expected totals."""
    expected: Expected = {}
    for account, body in POSTS:
        answer = client.post_transaction(account, body)
        print(f"    POST {account} {json.dumps(body)} -> {answer.status} {json.dumps(answer.body)}", flush=True)
        if answer.status != 201:
            raise DemoFailed(f"expected 201, got {answer.status}")
        add(expected, account, body["currency"], body["type"], body["amount"])
    answer = client.post_transfer(TRANSFER_FROM, TRANSFER)
    transfer = f"POST {TRANSFER_FROM}/transfers {json.dumps(TRANSFER)}"
    print(f"    {transfer} -> {answer.status} {json.dumps(answer.body)}", flush=True)
    if answer.status != 201:
        raise DemoFailed(f"a transfer: expected 201, got {answer.status}")
    add(expected, TRANSFER_FROM, TRANSFER["currency"], "debit", TRANSFER["amount"])
    add(expected, TRANSFER["toAccountId"], TRANSFER["currency"], "credit", TRANSFER["amount"])
    check(client.post_transaction("alice", POSTS[0][1]), 409, "transactionId", "the same transactionId again")
    check(client.post_transfer(TRANSFER_FROM, TRANSFER), 409, "transferId", "the same transfer again")
    yen = {"type": "credit", "amount": "1.5", "currency": "JPY"}
    check(client.post_transaction("bob", yen), 400, "amount", "1.5 yen (JPY has no minor unit)")
    later = {"type": "credit", "amount": "1", "currency": "EUR", "occurredAt": "9999-12-31T23:59:59Z"}
    check(client.post_transaction("bob", later), 400, "occurredAt", "a transaction in the far future")
    bad_path = {"type": "credit", "amount": "1", "currency": "EUR"}
    check(client.post_transaction("bad account", bad_path), 400, "accountId", "a bad path")
    return expected


def add(expected: Expected, account: str, currency: str, kind: str, amount: str) -> None:
    """Fold one posted entry into the expected totals of (account, currency)."""
    value = Decimal(amount)
    entry = Totals(credits=value, count=1) if kind == "credit" else Totals(debits=value, count=1)
    balances = expected.setdefault(account, {})
    balances[currency] = balances.get(currency, Totals()) + entry


def check(answer: Any, status: int, field: str, what: str) -> None:
    """Print and verify an answer that must be refused."""
    print(f"    {what} -> {answer.status} {json.dumps(answer.body)}", flush=True)
    if answer.status != status or not isinstance(answer.body, dict) or answer.body.get("field") != field:
        raise DemoFailed(f"{what}: expected {status} naming {field}")


def served(body: dict[str, Any]) -> dict[str, Totals]:
    """The balances a summary answer holds, per currency; fails the demo if a balance is not credits - debits."""
    found = {}
    for b in body.get("balances", []):
        totals = Totals(Decimal(b["credits"]), Decimal(b["debits"]), int(b["transactionCount"]))
        if Decimal(b["balance"]) != totals.balance:
            raise DemoFailed(f"{body['accountId']}/{b['currency']}: balance {b['balance']} is not credits - debits")
        found[b["currency"]] = totals
    return found


def wait_for_summaries(client: LedgerClient, expected: Expected) -> None:
    """Poll the summaries (bounded) until each account's balances equal what was posted, per currency."""
    done = step("waiting for the summaries to settle (stream -> aggregator -> summary)")
    deadline = time.monotonic() + 90
    pending = dict(expected)
    while pending and time.monotonic() < deadline:
        for account, balances in list(pending.items()):
            answer = client.summary(account)
            if answer.status == 200 and served(answer.body) == balances:
                print(f"    GET {account}/summary -> {json.dumps(answer.body)}", flush=True)
                del pending[account]
        time.sleep(0.5)
    if pending:
        raise DemoFailed(f"summaries not exact after 90 s: {sorted(pending)}")
    done("every balance equals what was posted, per currency")


def show_access(account: LocalAccount, outputs: dict[str, Any]) -> None:
    """An IAM user holding alice's account only (its policy rendered by modules/account_access) reads
    alice's summary, and is refused bob's, and a transfer out of bob's."""
    done = step("an IAM user allowed alice's account only (modules/account_access), signing its own requests")
    iam = boto3.client("iam", region_name=account.region)
    user = f"alice-app-{os.getpid() % 10000}"
    iam.create_user(UserName=user)
    grants = [{"accounts": ["alice"], "operations": ["read", "post", "transfer"]}]
    policy = account_policy(outputs["api_access"], grants)
    iam.put_user_policy(UserName=user, PolicyName="ledger-accounts", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    app = LedgerClient(
        account.api_base(outputs), account.region, credentials=Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    )
    own = app.summary("alice")
    print(f"    {user}: GET alice/summary -> {own.status}", flush=True)
    if own.status != 200:
        raise DemoFailed(f"{user} reading alice's summary: expected 200, got {own.status}")
    for what, answer in (
        ("GET bob/summary", app.summary("bob")),
        ("POST bob/transfers", app.post_transfer("bob", {**TRANSFER, "transferId": "t-2", "toAccountId": "alice"})),
    ):
        print(f"    {user}: {what} -> {answer.status} {json.dumps(answer.body)}", flush=True)
        if answer.status != 403:
            raise DemoFailed(f"{user}: {what}: expected 403, got {answer.status}")
    done("alice's account answered, bob's refused with 403")


def up(pattern: int, prefix: str, injected: Faults) -> int:
    """Stay up for manual use until Ctrl-C or SIGTERM, then tear down."""
    folder, outputs_path = state_dir()
    account, stack, outputs = set_up(pattern, prefix, folder, injected)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        description = {
            "apiBaseUrl": account.api_base(outputs),
            "awsEndpointUrl": account.endpoint,
            "region": account.region,
            "pattern": pattern,
            "pid": os.getpid(),  # SIGTERM to it destroys the stack and stops
            "terraform": outputs,
        }
        outputs_path.write_text(json.dumps(description, indent=2))
        print(announcement(outputs_path), flush=True)
        print(
            f"    export AWS_ENDPOINT_URL={account.endpoint} AWS_REGION={account.region} "
            "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local",
            flush=True,
        )
        print(
            f"    curl --aws-sigv4 aws:amz:{account.region}:execute-api --user local:local "
            f"{account.api_base(outputs)}/accounts/alice/summary",
            flush=True,
        )
        print("    Ctrl-C to destroy and stop", flush=True)
        stopping.wait()
        return 0
    finally:
        outputs_path.unlink(missing_ok=True)
        owner = RUN_DIR / "owner.pid"
        if owner.exists() and owner.read_text() == str(os.getpid()):
            owner.unlink()
        tear_down(account, stack)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse(argv)
    prefix = args.name_prefix or f"{args.command}-{os.getpid() % 10000}"
    if args.command == "demo":
        return demo(args.pattern, prefix, args.injected)
    return up(args.pattern, prefix, args.injected)


if __name__ == "__main__":
    sys.exit(main())
