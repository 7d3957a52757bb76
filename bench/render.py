"""Writes the benchmark report: Markdown, PNG plots (matplotlib) and the cost model."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from harness.load import percentile
from ledger_aggregator.closer import WORKERS

if TYPE_CHECKING:
    from bench.events import EventFigures, EventRun
    from bench.guard import DebitLoad, GuardFigures
    from bench.history import Cost, HistoryFigures
    from bench.holds import HoldFigures
    from bench.listing import ListingFigures
    from bench.runs import Run

PRICES = Path(__file__).resolve().parent / "prices.json"
VOLUMES = (1_000_000, 10_000_000, 100_000_000)


@dataclass(frozen=True)
class Usage:
    """Billable quantities per transaction, as measured in one run."""

    api_requests: float
    write_units: float
    lambda_requests: float
    gb_seconds: float
    sqs_requests: float

    @classmethod
    def of(cls, run: Run) -> Usage:
        """Per-transaction usage of a run (one API request per transaction, by construction)."""
        n = run.transactions
        gb_ms = sum(ms * run.memory_mb.get(f, 0) / 1024 for f, ms in run.milliseconds.items())
        return cls(
            api_requests=1.0,
            write_units=sum(run.write_units.values()) / n,
            lambda_requests=sum(run.invocations.values()) / n,
            gb_seconds=gb_ms / 1000 / n,
            sqs_requests=sum(run.sqs_requests.values()) / n,
        )


def unit_prices() -> dict[str, float]:
    """USD per single unit, from the prices file."""
    data = json.loads(PRICES.read_text())
    return {name: p["usd"] / p["per"] for name, p in data["prices"].items()}


def monthly_cost(usage: Usage, transactions: int, prices: dict[str, float]) -> float:
    """The formula: transactions x sum over items of (quantity per transaction x unit price)."""
    per_transaction = (
        usage.api_requests * prices["api_request"]
        + usage.write_units * prices["write_request_unit"]
        + usage.lambda_requests * prices["lambda_request"]
        + usage.gb_seconds * prices["lambda_gb_second"]
        + usage.sqs_requests * prices["sqs_request"]
    )
    return transactions * per_transaction


def arrival_rate(samples: list[tuple[float, int, int]]) -> tuple[list[float], list[float]]:
    """Transactions accepted by the API per second, between consecutive samples."""
    times, rates = [], []
    for (t0, posted0, _), (t1, posted1, _) in itertools.pairwise(samples):
        if t1 > t0:
            times.append(t1)
            rates.append((posted1 - posted0) / (t1 - t0))
    return times, rates


def plot_lag(runs: list[Run], path: Path) -> None:
    """Per contender, a row of two small panels on one time axis: the transactions not yet in the summaries
    (and, apart, any counted twice: an over-count is not a negative lag), and the burst's arrival rate."""
    figure, axes = plt.subplots(len(runs), 2, figsize=(10, 1.9 * len(runs) + 0.8), sharex=True, squeeze=False)
    for (lag_axes, arrival_axes), run in zip(axes, runs, strict=True):
        times = [t for t, _, _ in run.samples]
        behind = [max(0, posted - reflected) for _, posted, reflected in run.samples]
        over = [max(0, reflected - posted) for _, posted, reflected in run.samples]
        lag_axes.plot(times, behind, label="not yet in the summaries")
        if any(over):
            lag_axes.plot(times, over, color="tab:red", label="over-counted (counted twice)")
        lag_axes.set_ylim(bottom=0)
        lag_axes.set_ylabel(run.name, fontsize="small")
        lag_axes.legend(fontsize="x-small", loc="upper right")
        arrival_axes.plot(*arrival_rate(run.samples), color="tab:grey")
        arrival_axes.set_ylim(bottom=0)
    axes[0][0].set_title("transactions behind the summaries (and over-counted)", fontsize="small")
    axes[0][1].set_title("transactions accepted by the API per second", fontsize="small")
    for column in axes[-1]:
        column.set_xlabel("seconds since the burst began")
    figure.suptitle("Summary lag during and after the burst, per contender")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_units(runs: list[Run], path: Path) -> None:
    """Write units per 1,000 transactions, by table, per contender."""
    figure, axes = plt.subplots(figsize=(8, 4.5))
    roles = ["details", "applied", "summary"]
    width = 0.25
    for index, role in enumerate(roles):
        values = [run.per_thousand(run.write_units.get(role, 0)) for run in runs]
        positions = [i + (index - 1) * width for i in range(len(runs))]
        axes.bar(positions, values, width, label=f"{role} table")
    axes.set_xticks(range(len(runs)), [run.name for run in runs])
    axes.set_ylabel("write units per 1,000 transactions")
    axes.set_title("DynamoDB write units against transactions")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(
    runs: list[Run],
    out: Path,
    guard: GuardFigures | None = None,
    events: EventFigures | None = None,
    listing: ListingFigures | None = None,
    *,
    history: HistoryFigures | None = None,
    holds: HoldFigures | None = None,
) -> Path:
    """Write reports/benchmark.md and its plots (with the balance guard's, the balance events', the filtered
    listing's, the history's and the holds' figures when measured); return the Markdown file."""
    out.mkdir(parents=True, exist_ok=True)
    plot_lag(runs, out / "summary-lag.png")
    plot_units(runs, out / "write-units.png")
    path = out / "benchmark.md"
    lines = _markdown(runs) + (["", *_guard_section(guard)] if guard else [])
    lines += ["", *_events_section(events)] if events else []
    lines += ["", *_listing_section(listing)] if listing else []
    lines += ["", *_history_section(history)] if history else []
    lines += ["", *_holds_section(holds)] if holds else []
    path.write_text("\n".join(lines) + "\n")
    return path


def _guard_section(guard: GuardFigures) -> list[str]:
    """The balance guard: the write path's units guard off and on, and guarded debits (the emulator's)."""
    lines = [
        "## The balance guard (docs/balance-guard.md)",
        "",
        "The same stack (pattern 1, no injected faults), guard off and then on. Write units per 1,000",
        "committed writes, as the local account meters them (an item write under 1 KB is 1 unit, 2 inside a",
        "transaction, as DynamoDB bills them); a 429 was retried until the write committed.",
        "",
        "| write | guard | details table | balances table | all | 429s retried |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for cost in guard.costs:
        units = cost.per_thousand()
        lines.append(
            f"| {cost.kind} | {'on' if cost.guard else 'off'} | {units.get('details', 0):,.0f} | "
            f"{units.get('balances', 0):,.0f} | {sum(units.values()):,.0f} | {cost.retried} |"
        )
    lines += [
        "",
        "Guarded debits of 0.01 posted through the signed API by 8 concurrent clients, each answer timed,",
        "a 429 not retried: **the local emulator's figures, not AWS's** (its writes are serialised, and a",
        "transaction that overlaps another on an item is cancelled, as DynamoDB cancels it).",
        "",
        "| accounts | debits committed a second | 429 (retryable) share | p50 (ms) | p99 (ms) | answers |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    return lines + _load_rows(guard.loads)


def _load_rows(loads: list[DebitLoad]) -> list[str]:
    """One table row per timed load: committed a second, the 429 share, p50, p99 and the answers."""
    rows = []
    for load in loads:
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(load.statuses.items()))
        rows.append(
            f"| {load.name} | {load.committed_per_second():.0f} | {load.retryable_share():.1%} | "
            f"{load.quantile(0.5):.1f} | {load.quantile(0.99):.1f} | {answers} |"
        )
    return rows


def _holds_section(holds: HoldFigures) -> list[str]:
    """Holds: write units per lifecycle against a guarded debit, and authorisations a second (the emulator's)."""
    lines = [
        "## Holds (docs/holds.md)",
        "",
        *_measured_apart(holds),
        "One stack with holds on (pattern 1, no injected faults). Write units per lifecycle, as the local account",
        "meters them (an item write under 1 KB is 1 unit, 2 inside a transaction, as DynamoDB bills them); the",
        "holds table's sparse index adds one write when a hold opens and one when it closes, which the local",
        "account does not meter. An expiry's release is the sweeper's code, run once the clock has passed.",
        "",
        "| lifecycle | writes (requests, releases) | details table | holds table | balances table | all "
        "| 429s retried |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for cost in holds.costs:
        units = cost.per_lifecycle()
        lines.append(
            f"| {cost.kind} | {cost.requests} | {units.get('details', 0):.1f} | {units.get('holds', 0):.1f} | "
            f"{units.get('balances', 0):.1f} | {sum(units.values()):.1f} | {cost.retried} |"
        )
    lines += [
        "",
        "Holds of 0.01 (authorisations) and guarded debits of 0.01 posted through the signed API by 8 concurrent",
        "clients in the same run, each answer timed, a 429 not retried: **the local emulator's figures, not",
        "AWS's**.",
        "",
        "| requests | committed a second | 429 (retryable) share | p50 (ms) | p99 (ms) | answers |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += _load_rows(holds.loads)
    ratios = [(layout, holds.ratio(layout)) for layout in {load.name.split(", ", 1)[1] for load in holds.loads}]
    lines += ["", *[f"Holds over guarded debits, {layout}: {ratio:.2f}x." for layout, ratio in sorted(ratios) if ratio]]
    return lines


def _listing_section(listing: ListingFigures) -> list[str]:
    """A filtered listing: the rows it reads against the rows it returns, and their read units."""
    lines = [
        "## A filtered listing's reads (docs/api.md, Listing)",
        "",
        f"One account of {listing.rows:,} credits posted through the signed API, 1 in 100 in USD, listed",
        "through the API in pages of 100 to the end. Pages are counted through the API (each one Query).",
        "Read units are computed from the rows each page read, by DynamoDB's documented rule (the index entries",
        "read, filtered out or not, rounded up to 4 KB per Query, halved for an eventually consistent read):",
        "the local account meters no reads.",
        "",
        "| listing | pages (Queries) | rows returned | rows read | read units | read units per row returned |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for one in listing.listings:
        lines.append(
            f"| {one.name} | {one.pages} | {one.returned:,} | {one.read:,} | {one.read_units:,.1f} | "
            f"{one.units_per_row_returned():.2f} |"
        )
    return lines


def _history_section(history: HistoryFigures) -> list[str]:
    """A month's statement from the closes against the client's fold of the listing; the closer's cost."""
    api, fold = history.answers
    lines = [
        "## History: a month's statement and the closer's cost (docs/history.md)",
        "",
        "Rows written straight into the details table (BatchWriteItem), booked on past days, folded by the stack.",
        "Read and write units follow DynamoDB's documented rules from the items each call read or wrote (whole",
        "items, rounded up to 4 KB per read call, halved when eventually consistent; 1 KB per item write): the",
        "local account meters no reads, and answers `ConsumedCapacity` with a constant per call. Times are the",
        "local account's on this machine, not AWS's.",
        "",
        *_measured_apart(history),
        f"**A month's statement**: one account of {history.rows:,} rows over {history.month}, closed by the closer;",
        f"the statement asked through the API ({len(api.milliseconds)} times), against the month listed through the",
        f"API (`from`, `to`, pages of 100) and folded on the client ({len(fold.milliseconds)} time(s)). DynamoDB",
        "calls are counted where the local account serves them.",
        "",
        "| answer | API requests | DynamoDB Queries | items read | read units | median (ms) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for one in (api, fold):
        lines.append(
            f"| {one.name} | {one.requests:,} | {one.cost.total_calls():,.0f} | {one.cost.items_read:,.0f} | "
            f"{one.cost.read_units:,.1f} | {one.median():,.1f} |"
        )
    lines.append(
        f"| the fold against the statement | {fold.requests / api.requests:,.0f}x | "
        f"{fold.cost.total_calls() / api.cost.total_calls():,.0f}x | "
        f"{fold.cost.items_read / api.cost.items_read:,.0f}x | {fold.cost.read_units / api.cost.read_units:,.1f}x | "
        f"{fold.median() / api.median():,.1f}x |"
    )
    month = history.month_close
    lines += [
        "",
        f"A page of the listing took {fold.median() / fold.requests:,.0f} ms here: the local account's Query (moto's)",
        f"reads and sorts every item of the partition it asks for ({history.rows:,} here) for each page, where",
        "DynamoDB's reads the page's. Compare the calls and units, which are DynamoDB's; the latencies are the",
        "local account's.",
        f"The client's fold itself took {_median(fold.fold_milliseconds):,.1f} ms of its answer. Closing that month "
        f"for the account (one key, its first close: {month.written} closes, the days and the month) took "
        f"{_calls(month.cost)}, {month.cost.items_read:,.0f} items read, {month.cost.read_units:,.1f} read units "
        f"and {month.cost.write_units:,.0f} write units, in {month.seconds:.1f} s.",
        "",
        f"**The closer's cost**: {history.accounts:,} accounts with one row on each of two consecutive days;",
        f"{_closed_keys(history)}, closed three times: through the first day (each key's",
        "first close), through the second (one more day: the daily run), through the second again (nothing to",
        "close: the hourly run). Per key, each run, and each run's time over all its keys:",
        "",
        "| run | through | closes written | calls per key | read units per key | write units per key | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in history.runs:
        each = run.cost.per(run.keys)
        lines.append(
            f"| {run.name} | {run.through} | {run.written:,} | {_calls(each, 2)} | {each.read_units:.2f} | "
            f"{each.write_units:.2f} | {run.seconds:,.1f} |"
        )
    if history.closed >= history.accounts:
        first = history.runs[0]
        lines += [
            "",
            f"Closing all {history.closed:,} keys took {first.seconds / 60:,.1f} min for their first close here,",
            f"{first.seconds / first.keys * 1000:,.0f} ms a key with the closer's {WORKERS} workers, the key scan on",
            f"top; the details table held {history.details_items:,} items. The local account's Query reads only",
            "the partition it asks for, as DynamoDB's does, so a key's time does not grow with the table here.",
        ]
    else:
        first, daily = history.runs[0], history.runs[1]
        lines += [
            "",
            "A key's calls and units do not depend on how many keys there are. Its time here does: the local",
            f"account's Query (moto's) reads every item of its table, {history.details_items:,} in the details table",
            "during these runs, where DynamoDB's time follows the items it reads. At the sample's pace, all",
            f"{history.accounts:,} keys would take {first.seconds / first.keys * history.accounts / 60:,.0f} min for",
            f"its first close and {daily.seconds / daily.keys * history.accounts / 60:,.0f} min for one more day",
            "here (more: the history table the closer queries grows as it writes), on top of the key scan.",
        ]
    scan = history.scan
    paced = (
        f"provisioned with {scan.read_capacity} read units, so the scan is paced to half of them, by the units the "
        "local account reports"
        if scan.read_capacity
        else "on demand, so the scan runs in parallel segments"
    )
    lines += [
        "",
        f"Every run starts with the key scan of the summary table: {scan.keys:,} keys (every key the table holds)",
        f"in {scan.cost.calls.get('Scan', 0):,.0f} pages, {scan.cost.read_units:,.1f} read units "
        f"({scan.cost.reported_units:,.1f} as the local account reports them), {scan.seconds:,.1f} s. The table is "
        f"{paced}.",
    ]
    return lines


def _measured_apart(figures: HistoryFigures | HoldFigures) -> list[str]:
    """A line saying the section was measured apart from the report's other figures, when it was."""
    if figures.measured_by == "make bench-report":
        return []
    return [f"Measured apart from the sections above, by `{figures.measured_by}`.", ""]


def _closed_keys(history: HistoryFigures) -> str:
    if history.closed >= history.accounts:
        return f"every one of their {history.closed:,} keys"
    return f"{history.closed:,} of their keys, spread over them"


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] if values else 0.0


def _calls(cost: Cost, places: int = 0) -> str:
    each = ", ".join(f"{count:,.{places}f} {operation}" for operation, count in cost.calls.items())
    return f"{cost.total_calls():,.{places}f} calls ({each})"


def _events_section(events: EventFigures) -> list[str]:
    """Balance events: one event per committed change, duplicates under faults, lag, and the added cost."""
    lines = [
        "## Balance events (docs/events.md)",
        "",
        "Pattern 2 with events on. A mixed load (credits, debits and transfers of two currencies over 20",
        "accounts) posted through the signed API by 8 clients, without faults and then with the emulator's",
        "faults (with the rule target's events delivered out of order); a consumer (a standard queue subscribed",
        "by a rule) follows the events, the highest revision winning; gaps: revisions still missing from its",
        "chains at the end. Lag: from the k-th 201 on an (account, currency) until the consumer queue holds an",
        "event whose `after.transactionCount` reaches k. **The local emulator's figures, not AWS's.**",
        "",
        "| faults | writes | committed changes | events per change | duplicates | gaps | consumer exact "
        "| lag p50 (ms) | lag p99 (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in events.runs:
        lines.append(
            f"| {run.faults or 'none'} | {run.writes} | {run.changes} | {run.events_per_change():.2f} | "
            f"{run.duplicates()} | {run.gaps} | {'yes' if run.consumer_exact else 'no'} | "
            f"{run.lag(0.5):.0f} | {run.lag(0.99):.0f} |"
        )
    quiet = next((run for run in events.runs if not run.faults), None)
    return lines + (_events_cost(quiet) if quiet else [])


def _events_cost(quiet: EventRun) -> list[str]:
    prices, usage = unit_prices(), quiet.per_write()
    per_write = (
        usage["events"] * (prices["pipe_request"] + prices["custom_event"])
        + usage["pipe_batches"] * (prices["lambda_request"] + prices["stream_read_request_unit"])
        + usage["gb_seconds"] * prices["lambda_gb_second"]
    )
    lines = [
        "",
        "The added cost, from the run without faults (`bench/prices.json`):",
        "",
        "    added per write = events x (P_pipe + P_event) + batches x (P_invoke + P_stream_read)",
        "                      + enrichment gb_seconds x P_gbs",
        "",
        f"with {usage['events']:.3f} events, {usage['pipe_batches']:.3f} Pipe batches (one enrichment",
        f"invocation and at least one stream read each) and {usage['gb_seconds']:.3g} GB-seconds per write. A Pipe's",
        "stream reads are billed, unlike a Lambda trigger's; its idle polls (a fixed cost per shard, not per",
        "write) and the free 2.5 million reads a month are left out. Delivery to a target in the same account",
        "is free; a consumer's own queue or API destination is its own cost.",
        "",
        "| writes a month | added by events |",
        "| --- | --- |",
    ]
    return lines + [f"| {volume:,} | ${volume * per_write:,.2f} |" for volume in VOLUMES]


def _markdown(runs: list[Run]) -> list[str]:
    by_name = {run.name: run for run in runs}
    specs = list(dict.fromkeys(run.faults for run in runs))
    lines = [
        "# Benchmark report: pattern 1, pattern 2 and the naive baseline",
        "",
        "Written by `make bench-report` (`bench/report.py`) in the local account. Each contender got the same",
        f"burst of {runs[0].transactions:,} transactions (credits of 1.00) posted through the API by",
        f"{runs[0].api_clients} concurrent clients (signed POSTs), under injected faults: "
        + " and ".join(f"`{spec}`" for spec in specs)
        + " (the row `faults` says which).",
        "A run ends when every summary is exact, when nothing has run for 20 s with the buffer queue",
        "empty, or after 10 minutes. The functions and mappings have the module's defaults.",
        "Times on this machine are noisy: read the counts and ratios, not the seconds.",
        "",
        "## Headline",
        "",
        *_headline(by_name),
        "",
        "## Per contender",
        "",
        *_header("", runs),
        *_rows(runs),
        "",
        "![Summary lag over time](summary-lag.png)",
        "",
        "![Write units against transactions](write-units.png)",
        "",
        *_api_section(runs),
        "",
        *_cost_section(runs),
    ]
    return lines


def _api_section(runs: list[Run]) -> list[str]:
    """The API's own throughput and latency during each burst: the local emulator's, not AWS's."""
    lines = [
        "## The API during the burst (local emulator, not AWS)",
        "",
        "Signed POSTs through the local API Gateway (SigV4 header, request validator, mapping template,",
        "DynamoDB, response template), on this 2-core machine, which also ran the functions and the",
        "emulator. AWS's own latency and throughput are not measured here.",
        "",
        *_header("", runs),
    ]

    def row(label: str, value: Any) -> str:
        return f"| {label} | " + " | ".join(value(run) for run in runs) + " |"

    def quantile(run: Run, share: float) -> str:
        return f"{percentile(run.api_latencies_ms, share):.1f}" if run.api_latencies_ms else "-"

    lines += [
        row("requests per second", lambda r: f"{r.transactions / r.burst_seconds:.0f}" if r.burst_seconds else "-"),
        row("latency p50 (ms)", lambda r: quantile(r, 0.5)),
        row("latency p99 (ms)", lambda r: quantile(r, 0.99)),
        row("burst duration (s)", lambda r: f"{r.burst_seconds:.1f}"),
    ]
    return lines


def _headline(by_name: dict[str, Run]) -> list[str]:
    naive, one, two = by_name.get("naive"), by_name.get("pattern 1"), by_name.get("pattern 2")
    lines = []
    if naive and one:
        wrong = naive.lost + naive.double_counted
        lines.append(
            f"* The naive baseline got {wrong:,} of {naive.transactions:,} transactions wrong "
            f"({naive.lost:,} lost for good, {naive.double_counted:,} double-counted). "
            + _sentence("; ".join(_wrong(r) for r in (one, two) if r))
            + "."
        )
        ratio = naive.write_units.get("summary", 0) / max(1, one.write_units.get("summary", 0))
        lines.append(f"* Summary write units: the naive baseline spent {ratio:.1f}x what pattern 1 spent.")
    if one and two:
        lines.append(
            f"* Peak stream iterator age: pattern 1 {one.peak_stream_age:.1f} s, pattern 2 {two.peak_stream_age:.1f} s "
            f"({one.peak_stream_age / max(two.peak_stream_age, 0.1):.0f}x lower): with the queue, the stream side "
            f"keeps up while the summary table is held back "
            f"(pattern 2's queue age peaked at {two.peak_queue_age:.1f} s)."
        )
        lines.append(
            f"* Function errors: pattern 1 {one.function_errors}, pattern 2 {two.function_errors} "
            f"(throttled summary writes: {one.throttled} and {two.throttled})."
        )
    lines += _time_to_exact(one, two, f"under contention (`{one.faults if one else ''}`)")
    one_c, two_c = by_name.get("pattern 1, crashes"), by_name.get("pattern 2, crashes")
    lines += _time_to_exact(one_c, two_c, f"with crashes (`{one_c.faults if one_c else ''}`)")
    lines += _redeliveries(two, two_c)
    lines += _capacity_floor(two)
    return lines


def _capacity_floor(two: Run | None) -> list[str]:
    over, floor = (two.over_floor(), two.capacity_floor()) if two else (None, None)
    if two is None or over is None or not floor or not two.committed_summary_writes:
        return []
    return [
        f"* Pattern 2 at its capacity floor: exact {over:.2f}x its floor, counted from the burst's start "
        f"({floor:.1f} s: the later of the burst's end and the time its {two.committed_summary_writes:,} committed "
        f"summary writes need at {two.summary_wcu:g} units a second); "
        f"{two.write_units.get('summary', 0) / two.committed_summary_writes:.2f} summary write units and "
        f"{two.refused_summary_writes / two.committed_summary_writes:.3f} refused conditional writes per committed "
        "summary write."
    ]


def _time_to_exact(one: Run | None, two: Run | None, condition: str) -> list[str]:
    if not (one and two and one.time_to_exact and two.time_to_exact):
        return []
    return [
        f"* Time until every summary was exact after the burst {condition}, pattern 2 against pattern 1: "
        f"{two.time_to_exact / one.time_to_exact:.2f}x ({two.time_to_exact:.1f} s against {one.time_to_exact:.1f} s)."
    ]


def _redeliveries(two: Run | None, crashed: Run | None) -> list[str]:
    lines = []
    if two and two.visibility_timeout:
        verdict = "no message" if two.longest_after_report < two.visibility_timeout else "SOME MESSAGE"
        lines.append(
            f"* Pattern 2 without crashes: {verdict} waited out the {two.visibility_timeout} s visibility timeout. "
            f"{two.redelivered_after_report:,} failed messages came back after the writer's backoff, the longest "
            f"after {two.longest_after_report:.1f} s; {two.redelivered_after_crash} came back after a failed "
            "invocation."
        )
    if crashed and crashed.visibility_timeout:
        drained = f"{crashed.drained:.1f} s" if crashed.drained is not None else "not within the run"
        lines.append(
            f"* Pattern 2 with crashes ({crashed.function_errors} failed invocations): "
            f"{crashed.redelivered_after_crash:,} messages of failed invocations came back when the "
            f"{crashed.visibility_timeout} s visibility timeout ended, the longest after "
            f"{crashed.longest_after_crash:.1f} s; {crashed.redelivered_after_report:,} failed messages came back "
            f"after the backoff, the longest after {crashed.longest_after_report:.1f} s; the buffer queue was empty "
            f"{drained} after the burst."
        )
    return lines


def _rows(runs: list[Run]) -> list[str]:
    def row(label: str, values: list[str]) -> str:
        return f"| {label} | " + " | ".join(values) + " |"

    def exact(run: Run) -> str:
        return f"{run.time_to_exact:.1f} s" if run.time_to_exact is not None else "not exact when the run ended"

    def floor(run: Run) -> str:
        over, seconds = run.over_floor(), run.capacity_floor()
        return f"{over:.2f}x (floor {seconds:.1f} s)" if over is not None and seconds else "-"

    def away(count: int, longest: float, run: Run) -> str:
        return f"{count:,} ({longest:.1f} s)" if run.visibility_timeout else "-"

    return [
        row("faults", [f"`{r.faults}`" for r in runs]),
        row("transactions missing from the summaries at the end", [f"{r.lost:,}" for r in runs]),
        row("... of which given up to the stream DLQ (replayable)", [f"{r.given_up:,}" for r in runs]),
        row("transactions double-counted", [f"{r.double_counted:,}" for r in runs]),
        row(
            "summary write units per 1,000 tx",
            [f"{r.per_thousand(r.write_units.get('summary', 0)):,.0f}" for r in runs],
        ),
        row("all write units per 1,000 tx", [f"{r.per_thousand(sum(r.write_units.values())):,.0f}" for r in runs]),
        row("time until every summary is exact", [exact(r) for r in runs]),
        row(
            "time until the buffer queue is empty (pattern 2)",
            [f"{r.drained:.1f} s" if r.drained is not None else "-" for r in runs],
        ),
        row("peak stream iterator age", [f"{r.peak_stream_age:.1f} s" for r in runs]),
        row("peak queue age (pattern 2)", [f"{r.peak_queue_age:.1f} s" if r.peak_queue_age else "-" for r in runs]),
        row("function errors (of which timeouts)", [f"{r.function_errors} ({r.timeouts})" for r in runs]),
        row("throttled summary writes", [f"{r.throttled:,}" for r in runs]),
        row("time until exact over the capacity floor", [floor(r) for r in runs]),
        row(
            "summary write units per committed summary write",
            [
                f"{r.write_units.get('summary', 0) / r.committed_summary_writes:.2f}"
                if r.committed_summary_writes
                else "-"
                for r in runs
            ],
        ),
        row(
            "refused conditional writes per committed summary write",
            [
                f"{r.refused_summary_writes / r.committed_summary_writes:.3f}" if r.committed_summary_writes else "-"
                for r in runs
            ],
        ),
        row("invocations", [f"{sum(r.invocations.values()):,}" for r in runs]),
        row("SQS requests", [f"{sum(r.sqs_requests.values()):,}" for r in runs]),
        row("buffer visibility timeout", [f"{r.visibility_timeout} s" if r.visibility_timeout else "-" for r in runs]),
        row(
            "redelivered after the writer's backoff (longest away)",
            [away(r.redelivered_after_report, r.longest_after_report, r) for r in runs],
        ),
        row(
            "redelivered after a failed invocation (longest away)",
            [away(r.redelivered_after_crash, r.longest_after_crash, r) for r in runs],
        ),
    ]


def _cost_section(runs: list[Run]) -> list[str]:
    data = json.loads(PRICES.read_text())
    prices = unit_prices()
    lines = [
        "## Cost model",
        "",
        f"Unit prices: `bench/prices.json` ({data['region']}, {data['date']}; {data['source']}).",
        "",
        "    monthly cost = T x ( api_requests x P_api + write_units x P_wru + lambda_requests x P_invoke",
        "                         + gb_seconds x P_gbs + sqs_requests x P_sqs )",
        "",
        "with the quantities per transaction measured in this run, every table priced on demand (the",
        "summary table's provisioned capacity is a fixed hourly cost on top, not per transaction), stream",
        "reads by Lambda free, and Lambda duration as measured here (the local runtime is slower than",
        "AWS's, so GB-seconds are an upper bound). Storage, logs and data transfer are left out.",
        "",
        *_header("per transaction", runs),
    ]
    usages = [Usage.of(r) for r in runs]
    for field_name in ("api_requests", "write_units", "lambda_requests", "gb_seconds", "sqs_requests"):
        values = [f"{getattr(u, field_name):.4g}" for u in usages]
        lines.append(f"| {field_name} | " + " | ".join(values) + " |")
    lines += [
        "",
        "| transactions a month | " + " | ".join(r.name for r in runs) + " |",
        "| --- | " + " | ".join("---" for _ in runs) + " |",
    ]
    for volume in VOLUMES:
        costs = [f"${monthly_cost(u, volume, prices):,.2f}" for u in usages]
        lines.append(f"| {volume:,} | " + " | ".join(costs) + " |")
    return lines


def _header(label: str, runs: list[Run]) -> list[str]:
    return [
        f"| {label} | " + " | ".join(r.name for r in runs) + " |",
        "| --- | " + " | ".join("---" for _ in runs) + " |",
    ]


def _wrong(run: Run) -> str:
    text = f"{run.name} double-counted {run.double_counted} and was missing {run.lost}"
    if run.given_up:
        text += f" ({run.given_up} records given up to the stream DLQ, where `dlq replay` recovers them)"
    return text


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
