"""The operator's clock, held to DynamoDB's.

A summary item's revision starts, when a write creates it, at the creation time in microseconds
(``ledger_aggregator.summary_item``): an operator's command that creates one (``rebuild`` of a deleted
summary, ``dlq replay``) must not do so with a clock that is off. One behind could start a revision below
those of the item it replaces, one ahead above those of the item that replaces it later; either way a
consumer could take the newer item's changes for the older's. The writers run on AWS, whose clocks are
kept right; an operator's machine may not be.

So the time is the local clock's only while it agrees with the ``Date`` header of DynamoDB's latest answer
(RFC 7231: the server's time, to the second) within ``TOLERANCE``; otherwise it is that header, moved on by
the time elapsed since, taken at the middle of its second (off by half a second at most). Every command
reads before it writes, so an answer has been heard by then; before any, the local clock is all there is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

TOLERANCE = 1.0  # seconds: the Date header's resolution


class ServerClock:
    """Epoch seconds: the local clock, or DynamoDB's when the two disagree by more than ``TOLERANCE``."""

    def __init__(
        self,
        client: Any,
        local: Callable[[], float] = time.time,
        elapsed: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local, self._elapsed = local, elapsed
        self._heard: tuple[float, float] | None = None  # (the Date header's seconds, the elapsed clock then)
        client.meta.events.register("after-call.dynamodb", self.hear)

    def hear(self, http_response: Any = None, **_: Any) -> None:
        """Remember the ``Date`` of a DynamoDB answer (botocore's after-call event)."""
        date = getattr(http_response, "headers", {}).get("Date")
        if date:
            self._heard = (parsedate_to_datetime(date).timestamp(), self._elapsed())

    def __call__(self) -> float:
        """The time now, in epoch seconds."""
        local = self._local()
        if self._heard is None:
            return local
        seconds, then = self._heard
        server = seconds + 0.5 + (self._elapsed() - then)
        return local if abs(local - server) <= TOLERANCE else server
