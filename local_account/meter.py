"""What the local account's services were asked to do: the benchmark's cost model reads it.

DynamoDB writes are counted in write units per table role (an item write under 1 KB
is 1 unit, 2 inside a transaction, as DynamoDB bills them), and the writes refused by
their condition per table role (they were charged: they are counted in the units too); SQS requests that carry
messages are counted per action. Empty receives are not counted: the local pollers
poll without waiting, where Lambda's pollers long-poll.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

# The tables module's name suffixes (modules/tables/main.tf), and the part each table plays: the one place
# the local account knows them (tests/static/test_names.py holds them to the module).
ROLES = {
    "-account-details": "details",
    "-account-summary": "summary",
    "-applied": "applied",
    "-account-balances": "balances",
    "-account-history": "history",
    "-holds": "holds",
}


def role(table: str) -> str:
    """The part a table plays in the stack, from its name."""
    return next((r for suffix, r in ROLES.items() if table.endswith(suffix)), "other")


@dataclass
class Meter:
    """Counters, safe to update from moto's request threads."""

    write_units: Counter[str] = field(default_factory=Counter)
    sqs_requests: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    committed_units: Counter[str] = field(default_factory=Counter)
    committed_writes: Counter[str] = field(default_factory=Counter)
    last_committed: dict[str, float] = field(default_factory=dict)  # time.monotonic() of the latest, per role
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wrote(self, table: str, units: int) -> None:
        """Count write units admitted on a table."""
        with self._lock:
            self.write_units[role(table)] += units

    def committed(self, table: str, units: int) -> None:
        """Count the write units of an item write that took effect."""
        with self._lock:
            self.committed_units[role(table)] += units
            self.committed_writes[role(table)] += 1
            self.last_committed[role(table)] = time.monotonic()

    def refused_write(self, table: str) -> None:
        """Count one item write refused by its condition (alone or inside a cancelled transaction)."""
        with self._lock:
            self.refused[role(table)] += 1

    def asked(self, action: str) -> None:
        """Count one SQS request."""
        with self._lock:
            self.sqs_requests[action] += 1

    def reset(self) -> None:
        """Start counting afresh."""
        with self._lock:
            self.write_units.clear()
            self.sqs_requests.clear()
            self.refused.clear()
            self.committed_units.clear()
            self.committed_writes.clear()
            self.last_committed.clear()


METER = Meter()
"""The running local account's meter."""
