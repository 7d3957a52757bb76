"""The balance events from the operator's side: what the summary stream says was committed."""

from __future__ import annotations

from collections.abc import Iterable

from ledger_aggregator.balance_events import Change, committed_change

from .streams import RecordTail


def committed_changes(tail: RecordTail, accounts: Iterable[str]) -> list[Change]:
    """The committed changes of these accounts' summaries that the summary stream's tail holds, in order:
    what the Pipe turns into one event each."""
    tail.refresh()
    found = []
    for account in accounts:
        for record in tail.of_account(account):
            images = record["dynamodb"]
            change = committed_change(images.get("OldImage"), images.get("NewImage"))
            if change is not None:
                found.append(change)
    return found
