"""Balance events off, on, off and on again, on a stack of its own (pattern 1) publishing to a bus it keeps.

docs/events.md lists what an operator may do to the feed and what a consumer does after each. The stack
publishes to a bus given by name (`events.bus_name`), so the consumer's rule outlives the feed.

- Every apply succeeds and none touches a table: the summary and history tables keep their ARNs and
  their streams, which stay on whatever `events` says (AWS cannot stop, start or update a pipe whose
  source stream is disabled, and a re-enabled stream is a new one).
- A change made while events were off is published when they come back on: the new Pipe reads the same
  stream from its trim horizon. The consumer ends equal to the summary, with no revision missing, and
  what it had already received comes again as duplicates.
- So are the day closes `ledger-ops close` wrote while events were off: the new day-close Pipe reads the
  history stream from its trim horizon, and publishes them again after the next off and on.
- `ledger-ops events resync` is refused while events are off; on again, it gives a consumer that never
  saw the account a baseline equal to the summary, under the id of the change that made it, and one that
  did a duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.client import LedgerClient
from harness.probes import eventually
from harness.stack import Stack
from tests.integration.conftest import Deployment, Environment, settled_in_table
from tests.integration.test_events import (
    Consumer,
    close_days,
    day_close_ids,
    day_closes_subscribed,
    subscribed,
    summaries,
    until_caught_up,
)
from tests.integration.test_ops import ops


@pytest.fixture
def lifecycle(environment: Environment, tmp_path: Path) -> Iterator[tuple[Stack, Deployment, str]]:
    """A second stack in the same account, events on, publishing to a bus the test creates; destroyed after."""
    events = environment.client("events")
    bus = f"lc-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=bus)
    variables = {
        **environment.stack.variables,
        "name_prefix": f"lc-{uuid.uuid4().hex[:8]}",
        "events": {"bus_name": bus},
    }
    variables["buffer"] = {**variables["buffer"], "retired": True}
    stack = Stack(tmp_path / "lifecycle", variables)
    try:
        outputs = stack.apply(1)
        api = LedgerClient(environment.api_base(outputs), environment.region)
        yield stack, Deployment(1, outputs, api, environment, None), bus
    finally:
        try:
            stack.destroy()
        finally:
            events.delete_event_bus(Name=bus)


def events_on(stack: Stack, deployed: Deployment, setting: dict[str, Any] | None) -> None:
    """Apply with ``events`` set so; the tables and their streams must stay as they were."""
    before = {name: deployed.outputs[name] for name in ("summary_table", "history_table")}
    stack.variables["events"] = setting
    deployed.outputs = stack.apply(1)
    after = {name: deployed.outputs[name] for name in ("summary_table", "history_table")}
    assert after == before, "no table replaced, the summary and history streams kept"
    assert (deployed.outputs.get("events") is None) == (setting is None)


def credit(deployed: Deployment, account: str, txid: str, amount: str) -> None:
    body = {"transactionId": txid, "type": "credit", "amount": amount, "currency": "EUR"}
    assert deployed.api.post_transaction(account, body).status == 201


def test_events_off_on_off_on_applies_and_a_consumer_catches_up_on_what_was_written_meanwhile(
    lifecycle: tuple[Stack, Deployment, str], tmp_path: Path
) -> None:
    stack, deployed, bus = lifecycle
    setting = {"bus_name": bus}
    account, closing = deployed.account("lifecycle"), deployed.account("lifecycle-closes")
    with (
        subscribed(deployed, bus, [account]) as consumer,
        day_closes_subscribed(deployed, bus, [closing]) as closes,
    ):
        credit(deployed, account, "t1", "10.00")
        until_caught_up(consumer, [account])

        events_on(stack, deployed, None)
        refused = ops(deployed, tmp_path, "events", "resync")
        assert refused.returncode == 2 and "refused: this stack has no balance events" in refused.stderr
        credit(deployed, account, "t2", "20.00")  # no Pipe: not published now
        eventually(lambda: settled_in_table(deployed, [account]))
        two_days_ago = datetime.now(UTC).date() - timedelta(days=2)
        close_days(deployed, tmp_path, closing, [(two_days_ago, "credit", "4.00", 0)])  # no Pipe either
        days = day_close_ids(deployed, closing)
        assert days and closes.ids() == []

        events_on(stack, deployed, setting)  # the new Pipes read the streams from their trim horizons
        until_caught_up(consumer, [account], timeout=180)
        assert consumer.applied[(account, "EUR")]["after"]["balance"] == "30.00"
        assert consumer.duplicates >= 1, "the change received before events went off came again"
        eventually(lambda: closes.ids() == days, timeout=180)

        events_on(stack, deployed, None)
        replayed = consumer.duplicates
        events_on(stack, deployed, setting)  # the account's two changes are published once more
        eventually(lambda: replayed_again(consumer, replayed + 2), timeout=180)
        eventually(lambda: closes.ids() == sorted(days * 2), timeout=180)  # and the day closes too
        assert_resync_gives_a_baseline(deployed, bus, account, consumer, tmp_path)


def assert_resync_gives_a_baseline(
    deployed: Deployment, bus: str, account: str, consumer: Consumer, tmp_path: Path
) -> None:
    """A consumer that never saw the account takes the resync event as its baseline; one that did, a duplicate."""
    with subscribed(deployed, bus, [account], resyncing=True) as newcomer:
        done = ops(deployed, tmp_path, "events", "resync", "--account", account)
        assert done.returncode == 0 and "1 event(s) published" in done.stdout, done.stdout + done.stderr
        until_caught_up(newcomer, [account])
    item = summaries(deployed, [account])[(account, "EUR")]
    ((key, revision), baseline), *others = newcomer.distinct.items()
    assert others == [], "the resync event alone"
    assert (baseline["resync"], baseline["eventId"]) == (True, f"{account}:EUR:{item['revision']['N']}")
    assert (key, revision, baseline["after"]["balance"]) == ((account, "EUR"), int(item["revision"]["N"]), "30.00")
    assert newcomer.follower.missing() == {}, "a baseline: nothing below it is missing"
    eventually(lambda: received_resync(consumer, baseline["eventId"]))
    assert all(not detail["resync"] for detail in consumer.distinct.values()), "to it, a duplicate"


def received_resync(consumer: Consumer, event_id: str) -> bool:
    consumer.drain()
    return consumer.resyncs == [event_id]


def replayed_again(consumer: Consumer, duplicates: int) -> bool:
    consumer.drain()
    return consumer.duplicates >= duplicates
