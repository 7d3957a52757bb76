"""What the local account's services were asked to do: the benchmark's cost model reads it.

DynamoDB writes are counted in write units per table role (an item write under 1 KB
is 1 unit, 2 inside a transaction, as DynamoDB bills them); SQS requests that carry
messages are counted per action. Empty receives are not counted: the local pollers
poll without waiting, where Lambda's pollers long-poll.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

ROLES = {"-account-details": "details", "-account-summary": "summary", "-applied": "applied"}


def role(table: str) -> str:
    """The part a table plays in the stack, from its name."""
    return next((r for suffix, r in ROLES.items() if table.endswith(suffix)), "other")


@dataclass
class Meter:
    """Counters, safe to update from moto's request threads."""

    write_units: Counter[str] = field(default_factory=Counter)
    sqs_requests: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wrote(self, table: str, units: int) -> None:
        """Count write units admitted on a table."""
        with self._lock:
            self.write_units[role(table)] += units

    def asked(self, action: str) -> None:
        """Count one SQS request."""
        with self._lock:
            self.sqs_requests[action] += 1

    def reset(self) -> None:
        """Start counting afresh."""
        with self._lock:
            self.write_units.clear()
            self.sqs_requests.clear()


METER = Meter()
"""The running local account's meter."""
