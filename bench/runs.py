"""What one contender of the benchmark report did with the burst: measured by bench/report.py, drawn by
bench/render.py (a module of its own, so that neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Run:
    """What one contender did with the burst."""

    name: str
    transactions: int
    faults: str = ""
    burst_seconds: float = 0.0
    time_to_exact: float | None = None
    lost: int = 0
    double_counted: int = 0
    given_up: int = 0
    write_units: dict[str, int] = field(default_factory=dict)
    sqs_requests: dict[str, int] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)
    milliseconds: dict[str, int] = field(default_factory=dict)
    memory_mb: dict[str, int] = field(default_factory=dict)
    peak_stream_age: float = 0.0
    peak_queue_age: float = 0.0
    function_errors: int = 0
    timeouts: int = 0
    throttled: int = 0
    drained: float | None = None  # pattern 2: seconds after the burst until the buffer queue held nothing
    committed_summary_writes: int = 0  # summary item writes that took effect
    committed_summary_units: int = 0  # their write units (2 in a transaction)
    refused_summary_writes: int = 0  # refused on their condition (charged: counted in write_units)
    summary_wcu: float | None = None  # the injected capacity
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # seconds, posted, reflected
    api_latencies_ms: list[float] = field(default_factory=list)  # every POST of the burst
    api_clients: int = 0
    visibility_timeout: int | None = None  # the buffer queue's (pattern 2)
    redelivered_after_report: int = 0  # failed messages the writer deferred, received again
    longest_after_report: float = 0.0  # the longest such a message stayed away, in seconds
    redelivered_after_crash: int = 0  # messages of an invocation that failed whole, received again
    longest_after_crash: float = 0.0

    def per_thousand(self, count: float) -> float:
        """A count scaled to 1,000 transactions."""
        return 1000 * count / self.transactions

    def capacity_floor(self) -> float | None:
        """Seconds from the burst's start before which no run can be exact: the later of the burst's end
        (the last transaction arrives then) and the time the summary writes that took effect need at the
        table's capacity."""
        if not self.summary_wcu:
            return None
        return max(self.burst_seconds, self.committed_summary_units / self.summary_wcu)

    def over_floor(self) -> float | None:
        """Time from the burst's start until exact, over the capacity floor (1.00 is the best possible)."""
        floor = self.capacity_floor()
        if not floor or self.time_to_exact is None:
            return None
        return (self.burst_seconds + self.time_to_exact) / floor
