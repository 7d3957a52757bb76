"""Fault injection for the local account, scripted from one place.

    Faults.parse("throttle=100wcu,latency=5ms,crash=0.05,dup=0.2,reorder=0.3,overtake=0.3,seed=7")

throttle=<n>wcu  the Account Summary table accepts <n> write units per second (a token
                 bucket, no burst credit); a write beyond it is refused with
                 ProvisionedThroughputExceededException, inside a transaction as a
                 TransactionCanceledException with reason ProvisionedThroughputExceeded.
                 An item write costs 1 unit, 2 inside a transaction (items under 1 KB).
throttles=<n>    the first n writes to the summary table are refused as throttled, whatever the
                 budget: a test that needs throttling gets it, however slowly the load arrives.
latency=<n>ms    every write to the summary table waits this long first.
crash=<p>        each invocation crashes with probability p: half before the handler
                 runs, half after it ran (its writes done, its answer lost).
crashes=<n>      the first n invocations crash whatever p, before and after in turn: a test
                 that needs a crash gets one, however few and large the batches are.
dup=<p>          a stream batch that succeeded is delivered again with probability p, and
                 an SQS message that succeeded is sent again.
reorder=<p>      SQS batches are shuffled, and with probability p a message sent becomes
                 visible 1-3 s late, so that later ones overtake it (not counted as a receive).
overtake=<p>     an event an EventBridge rule matches reaches the rule's targets 1-3 s late with
                 probability p, so that events put after it overtake it: EventBridge retries a
                 failed delivery to a target with backoff, for up to 24 hours, and keeps no order.
empty=<p>        a DynamoDB Streams GetRecords answers an empty page with probability p, its
                 next iterator at the same place: AWS documents that GetRecords may return no
                 records while the shard holds more further on.
seed=<n>         the random choices are reproducible.

Off by default: ``Faults()`` injects nothing.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .meter import role

_PROBABILITY = r"(0(?:\.\d+)?|1(?:\.0+)?)"  # a fault's chance, 0 to 1
_COUNT = r"(\d+)"  # a whole number: forced faults, the seed


@dataclass
class Faults:
    """What to inject; every field off by default."""

    throttle_wcu: float | None = None
    forced_throttles: int = 0
    latency_ms: float = 0.0
    crash: float = 0.0
    forced_crashes: int = 0
    dup: float = 0.0
    reorder: float = 0.0
    overtake: float = 0.0
    empty: float = 0.0
    conflict: float = 0.0
    forced_conflicts: int = 0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    clock: Any = field(default=time.monotonic, repr=False)
    _tokens: float = 0.0
    _refilled: float = 0.0
    throttled: int = 0
    crashes: int = 0
    conflicts: int = 0
    overtaken: int = 0
    units_spent: float = 0.0

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)
        self._tokens = self.throttle_wcu or 0.0
        self._refilled = self.clock()

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Faults from ``throttle=2wcu,crash=0.1,...``; raise ValueError naming a bad part."""
        faults = cls()
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, value = part.partition("=")
            faults._set(name.strip(), value.strip())
        faults.__post_init__()
        return faults

    def _set(self, name: str, value: str) -> None:
        patterns = {
            "throttle": (r"(\d+(?:\.\d+)?)wcu", "throttle_wcu"),
            "latency": (r"(\d+(?:\.\d+)?)ms", "latency_ms"),
            "crash": (_PROBABILITY, "crash"),
            "dup": (_PROBABILITY, "dup"),
            "reorder": (_PROBABILITY, "reorder"),
            "overtake": (_PROBABILITY, "overtake"),
            "empty": (_PROBABILITY, "empty"),
            "conflict": (_PROBABILITY, "conflict"),
            "crashes": (_COUNT, "forced_crashes"),
            "conflicts": (_COUNT, "forced_conflicts"),
            "throttles": (_COUNT, "forced_throttles"),
            "seed": (_COUNT, "seed"),
        }
        if name not in patterns:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(patterns)}")
        pattern, attribute = patterns[name]
        match = re.fullmatch(pattern, value)
        if not match:
            raise ValueError(f"fault {name}={value!r} is not of the form {pattern}")
        number = float(match.group(1))
        setattr(self, attribute, int(number) if pattern == _COUNT else number)

    @property
    def active(self) -> bool:
        """True when anything is injected."""
        injected = (
            self.throttle_wcu,
            self.forced_throttles,
            self.latency_ms,
            self.crash,
            self.forced_crashes,
            self.dup,
            self.reorder,
            self.overtake,
            self.empty,
            self.conflict,
            self.forced_conflicts,
        )
        return any(injected)

    def chance(self, probability: float) -> bool:
        """A reproducible coin flip."""
        with self._lock:
            return probability > 0 and self._rng.random() < probability

    def pick(self, low: float, high: float) -> float:
        """A reproducible uniform draw."""
        with self._lock:
            return self._rng.uniform(low, high)

    def shuffle(self, items: list[Any]) -> None:
        """A reproducible in-place shuffle."""
        with self._lock:
            self._rng.shuffle(items)

    def spend(self, units: float) -> bool:
        """Take write units from the bucket; False (throttled) when there are not enough."""
        with self._lock:
            if self.throttled < self.forced_throttles:
                self.throttled += 1
                return False
        if not self.throttle_wcu:
            with self._lock:
                self.units_spent += units
            return True
        with self._lock:
            now = self.clock()
            self._tokens = min(self.throttle_wcu, self._tokens + (now - self._refilled) * self.throttle_wcu)
            self._refilled = now
            if self._tokens < units:
                self.throttled += 1
                return False
            self._tokens -= units
            self.units_spent += units
            return True

    def crash_point(self) -> str | None:
        """``before``, ``after`` or None for one invocation."""
        with self._lock:
            if self.crashes < self.forced_crashes:
                self.crashes += 1
                return "before" if self.crashes % 2 else "after"
        if not self.chance(self.crash):
            return None
        with self._lock:
            self.crashes += 1
            return "before" if self._rng.random() < 0.5 else "after"

    def overtaking_delay(self) -> float | None:
        """How late (seconds) an event a rule matched reaches its targets, or None for on time."""
        if not self.chance(self.overtake):
            return None
        with self._lock:
            self.overtaken += 1
            return self._rng.uniform(1, 3)

    def conflicting_item(self, items: int) -> int | None:
        """Which item of a transaction of ``items`` another transaction holds (TransactionConflict), or None."""
        with self._lock:  # decided and counted at once, as crash_point does: forced ones are never exceeded
            forced = self.conflicts < self.forced_conflicts
            if not forced and not (self.conflict > 0 and self._rng.random() < self.conflict):
                return None
            self.conflicts += 1
            return self._rng.randrange(items)


ACTIVE = Faults()
"""The faults the running local account injects (replaced by LocalAccount.start)."""


def is_summary_table(name: str) -> bool:
    """The table whose writes are throttled and delayed."""
    return role(name) == "summary"
