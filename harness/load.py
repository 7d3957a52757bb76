"""Load for the benchmarks: signed POSTs from concurrent clients, and the percentiles of what they measured."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.client import LedgerClient


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank value below which ``share`` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def post_concurrently(
    client: LedgerClient,
    posts: Sequence[tuple[str, dict[str, Any]]],
    clients: int,
    posted: Callable[[str, float], None] | None = None,
) -> tuple[float, list[float]]:
    """POST each ``(account, body)`` from ``clients`` threads; every answer must be 201.

    Returns the requests per second over the whole load and each POST's milliseconds;
    ``posted(account, milliseconds)`` is called after each, under one lock.
    """
    latencies: list[float] = []
    lock = threading.Lock()

    def post(item: tuple[str, dict[str, Any]]) -> None:
        account, body = item
        started = time.perf_counter()
        answer = client.post_transaction(account, body)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status != 201:
            raise RuntimeError(f"POST {account} {json.dumps(body)}: {answer.status} {answer.text}")
        with lock:
            latencies.append(elapsed)
            if posted:
                posted(account, elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(post, posts))
    return len(posts) / (time.perf_counter() - started), latencies
