"""This machine's speed on a fixed Python microbenchmark, recorded beside every measured run.

Figures from ``make test`` and ``make bench-sandbox`` depend on the machine; each record carries the
seconds this loop took on it, so that runs on different machines can be compared (a machine twice as
slow takes twice as long here too). The loop is CPython's own work: no I/O, no library.
"""

from __future__ import annotations

import statistics
import time

STEPS = 10_000_000


def python_loop_seconds(rounds: int = 3) -> float:
    """Median seconds of a 10-million-step ``for`` loop adding integers, over ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for step in range(STEPS):
            total += step
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 2)


if __name__ == "__main__":
    print(f"python: {STEPS:,}-step loop in {python_loop_seconds()} s")
