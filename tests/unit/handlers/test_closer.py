"""The scheduled closer's handler on moto: it closes up to the day its clock has sealed, writes nothing twice,
stops for time without a gap, and fails, naming every problem, when a close cannot be made."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from ledger_aggregator import composition
from ledger_aggregator.adapters.history import DynamoHistory, HistoryTables
from ledger_aggregator.composition import CloserDeps
from ledger_aggregator.config import CloserSettings
from ledger_aggregator.history import DAY_MS, day_start_ms
from tests.support.aws import DETAILS, DETAILS_INDEX, HISTORY, SUMMARY, put_summary
from tests.support.fakes import FakeContext
from tests.support.history import booked_row

FIRST = date(2026, 3, 29)  # three days that cross March's end
SEAL_SECONDS = 89
SETTINGS = CloserSettings(DETAILS, DETAILS_INDEX, SUMMARY, HISTORY, SEAL_SECONDS)


@dataclass
class DrainingContext(FakeContext):
    """A context whose time runs out after ``calls`` reads of it."""

    calls: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls -= 1
        return self.millis_left if self.calls >= 0 else 0


def run(
    client: Any, now_ms: int, context: FakeContext | None = None, seed: int = 0, event: Any = None
) -> dict[str, Any]:
    from ledger_aggregator.handlers import closer

    store = DynamoHistory(client, HistoryTables(DETAILS, DETAILS_INDEX, SUMMARY, HISTORY))
    deps = CloserDeps(SETTINGS, store, now_ms=lambda: now_ms, shuffle=random.Random(seed).shuffle)
    given = {"source": "schedule"} if event is None else event
    result: dict[str, Any] = closer.make_handler(deps)(given, context or FakeContext())
    return result


def seed(client: Any, accounts: list[str]) -> None:
    """Two rows a day for three days per account, and the account's summary (whose keys the closer scans)."""
    for account in accounts:
        for offset in range(3):
            for n, kind in enumerate(("credit", "debit")):
                at = day_start_ms(FIRST + timedelta(days=offset)) + 1_000 * (n + 1)
                row = booked_row(account, "EUR", kind, "1.50", at_ms=at, number=offset * 2 + n)
                client.put_item(TableName=DETAILS, Item=row)
        put_summary(client, account, "4.50", "4.50", 6)


def closes(client: Any, account: str) -> list[str]:
    answer = client.query(
        TableName=HISTORY,
        KeyConditionExpression="accountId = :a",
        ExpressionAttributeValues={":a": {"S": account}},
    )
    return [i["period"]["S"] for i in answer["Items"] if not i["period"]["S"].endswith("#")]


def test_a_run_closes_up_to_the_day_its_clock_has_sealed_and_the_next_writes_nothing(ledger_tables: Any) -> None:
    seed(ledger_tables, ["acc-1"])
    end_of_30th = day_start_ms(FIRST + timedelta(days=2))
    # A moment short of the seal the 30th stays open; at the seal it closes.
    assert run(ledger_tables, end_of_30th + SEAL_SECONDS * 1000 - 1)["through"] == "2026-03-29"
    assert closes(ledger_tables, "acc-1") == ["EUR#2026-03-29"]
    assert run(ledger_tables, end_of_30th + SEAL_SECONDS * 1000)["written"] == 1
    answer = run(ledger_tables, end_of_30th + DAY_MS + SEAL_SECONDS * 1000)
    assert (answer["through"], answer["written"]) == ("2026-03-31", 2), "the 31st and March"
    assert closes(ledger_tables, "acc-1") == ["EUR#2026-03", "EUR#2026-03-29", "EUR#2026-03-30", "EUR#2026-03-31"]
    again = run(ledger_tables, end_of_30th + DAY_MS + SEAL_SECONDS * 1000)
    assert (again["written"], again["refused"], again["failed"]) == (0, 0, 0)


def test_a_run_out_of_time_stops_and_the_next_goes_on_without_a_gap(ledger_tables: Any) -> None:
    seed(ledger_tables, [f"acc-{n}" for n in range(6)])
    now = day_start_ms(FIRST + timedelta(days=3)) + SEAL_SECONDS * 1000
    stopped = run(ledger_tables, now, DrainingContext(millis_left=240_000, calls=3))
    assert stopped["stopped"] > 0 and stopped["keys"] == 6
    finished = run(ledger_tables, now)
    assert finished["stopped"] == 0 and finished["written"] == 4 * stopped["stopped"]
    assert all(len(closes(ledger_tables, f"acc-{n}")) == 4 for n in range(6))


def test_runs_that_each_stop_for_time_close_every_key_in_the_end(ledger_tables: Any) -> None:
    """Reviewed: the keys came in the summary scan's order every run, so runs that each had time for a few
    keys closed the same few again (one Query each) and never reached the rest."""
    seed(ledger_tables, [f"acc-{n}" for n in range(8)])
    now = day_start_ms(FIRST + timedelta(days=3)) + SEAL_SECONDS * 1000
    for attempt in range(30):
        run(ledger_tables, now, DrainingContext(millis_left=240_000, calls=6), seed=attempt)
    assert all(len(closes(ledger_tables, f"acc-{n}")) == 4 for n in range(8))


def test_a_close_that_differs_fails_the_run_naming_it_and_the_other_keys_are_closed(ledger_tables: Any) -> None:
    from ledger_aggregator.handlers.closer import CloserRunFailed

    seed(ledger_tables, ["acc-1", "acc-2"])
    now = day_start_ms(FIRST + timedelta(days=1)) + SEAL_SECONDS * 1000
    run(ledger_tables, now)
    # A row written straight into a closed day (never through the API): its close no longer holds.
    late = booked_row("acc-1", "EUR", "credit", "7", at_ms=day_start_ms(FIRST) + 5_000, number=99)
    ledger_tables.put_item(TableName=DETAILS, Item=late)
    with pytest.raises(
        CloserRunFailed, match=r"^closing through 2026-03-30: 1 problem\(s\): acc-1/EUR 2026-03-29: the rows booked"
    ):
        run(ledger_tables, now + DAY_MS)
    assert closes(ledger_tables, "acc-2")[-1] == "EUR#2026-03-30", "the other key went on"
    assert closes(ledger_tables, "acc-1")[-1] == "EUR#2026-03-29", "the key with the problem did not"


@pytest.mark.parametrize(
    "event",
    [{"source": "schedule", "through": "2026-03-29"}, {"key1": "value1"}, ["schedule"], {"source": 1}],
    ids=["a-through-date", "the-console-test-event", "a-list", "a-source-not-a-string"],
)
def test_an_input_the_closer_does_not_read_is_refused_and_nothing_is_written(ledger_tables: Any, event: Any) -> None:
    """The closer closes through its clock's sealed day and reads only a ``source`` label: an input that
    asks for more (a ``through`` date, say) fails the run, naming what it does not read, rather than
    closing something other than what was asked."""
    from ledger_aggregator.handlers.closer import CloserInputRefused

    seed(ledger_tables, ["acc-1"])
    with pytest.raises(CloserInputRefused, match="ledger-ops close"):
        run(ledger_tables, day_start_ms(FIRST + timedelta(days=5)), event=event)
    assert closes(ledger_tables, "acc-1") == []
    run(ledger_tables, day_start_ms(FIRST + timedelta(days=5)), event={})
    assert closes(ledger_tables, "acc-1")[:4] == ["EUR#2026-03", "EUR#2026-03-29", "EUR#2026-03-30", "EUR#2026-03-31"]


def test_the_closers_settings_come_from_its_environment() -> None:
    deps = composition.closer_from_environment()
    assert deps.settings == CloserSettings(
        "ledger-test-details", "byRecordedAt", "ledger-test-summary", "ledger-test-history", 89
    )
