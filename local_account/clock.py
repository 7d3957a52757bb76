"""The local account's clock: the machine's time plus an offset that a test moves forward.

On AWS every service reads one time. Here the services that the ledger's numbers depend on read this clock:

- the gateway's ``$context.requestTimeEpoch`` and ``$context.requestTime`` (a row's booking time);
- the ``Date`` header of every answer of moto's server (``ledger-ops``' ``ServerClock``, which seals days
  by DynamoDB's clock);
- ``time.time()`` inside every function (the scheduled closer seals days by it; a summary's revision starts
  at its creation time);
- the scheduler, which runs a schedule when this clock passes one of its times (``local_account.scheduler``).

So a test moves the account a day on with ``advance(86_400)`` instead of waiting for one. Time only goes
forward, as it does on AWS: a move backwards is refused. What moto stamps itself (a stream record's
``ApproximateCreationDateTime``, an SQS message's ``SentTimestamp``) stays on the machine's clock, as do
the signatures' and tokens' validity windows, which a client's own clock signs against; nothing in the
stack compares the two.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import formatdate


class Clock:
    """Epoch seconds: the machine's time plus an offset that only grows."""

    def __init__(self, machine: Callable[[], float] = time.time) -> None:
        self._machine = machine
        self._offset = 0.0
        self._lock = threading.Lock()
        self._moved: list[Callable[[float], None]] = []

    @property
    def offset(self) -> float:
        """Seconds this clock is ahead of the machine's."""
        return self._offset

    def now(self) -> float:
        """The account's time, in epoch seconds."""
        return self._machine() + self._offset

    def now_ms(self) -> int:
        """The account's time, in epoch milliseconds (``$context.requestTimeEpoch``)."""
        return int(self.now() * 1000)

    def http_date(self) -> str:
        """The account's time as an HTTP ``Date`` header (RFC 7231, to the second)."""
        return formatdate(self.now(), usegmt=True)

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward; the new time. ValueError for a negative move."""
        if seconds < 0:
            raise ValueError(f"the local account's clock only goes forward, not {seconds} s back")
        with self._lock:
            self._offset += seconds
            moved_to = self.now()
        for listener in list(self._moved):
            listener(moved_to)
        return moved_to

    def move_to(self, epoch_seconds: float) -> float:
        """Move the clock forward to ``epoch_seconds``; ValueError when that is in the clock's past."""
        return self.advance(epoch_seconds - self.now())

    def on_move(self, listener: Callable[[float], None]) -> None:
        """Call ``listener`` with the new time after each move (the scheduler runs what came due)."""
        self._moved.append(listener)
