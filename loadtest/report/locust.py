"""Read a locust run: final stats with response-time histograms (JSON) and the CSV history.

Files (written by the runner into the results directory):
  locust.json                `--json-file`: per endpoint, counts, histograms, requests per second
  locust_stats_history.csv   `--csv --csv-full-history`: users and current percentiles per second
  locust_stats.csv, locust_failures.csv, locust.html   for people; not read here
"""

import csv
import json
import math
from pathlib import Path

import numpy as np

from loadtest.locust import slo

from . import series as series_lib
from .model import ClientSeries, RequestStats, ThresholdResult, ToolResult

STATS_FILE = "locust.json"
HISTORY_FILE = "locust_stats_history.csv"


def to_request_stats(summary: slo.Summary, seconds: float) -> RequestStats:
    return RequestStats(
        requests=summary.requests,
        failures=summary.failures,
        p50_ms=summary.p50_ms,
        p95_ms=summary.p95_ms,
        p99_ms=summary.p99_ms,
        max_ms=summary.max_ms,
        seconds=seconds,
    )


def read_history(path: Path) -> list[dict]:
    """The "Aggregated" rows of the history: one per second, with the users and the
    percentiles of about the last 10 s (locust's "current" response times)."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"]


def number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan  # "N/A" before the first request


def percentile(text: str) -> float:
    """A history percentile; locust writes 0 (or N/A) when the window had no request."""
    value = number(text)
    return value if value > 0 else math.nan


def read(results: Path, env: dict) -> ToolResult:
    """Everything the report needs from a locust run's files; `env` holds the run's settings."""
    entries = json.loads((results / STATS_FILE).read_text())
    history = read_history(results / HISTORY_FILE)
    seconds_seen = sorted(
        int(second) for entry in entries for second in entry.get("num_reqs_per_sec", {})
    )
    start = min([seconds_seen[0]] if seconds_seen else [], default=0)
    if history:
        start = min(start or math.inf, int(history[0]["Timestamp"]))
    end = max(
        [seconds_seen[-1] + 1] if seconds_seen else [],
        default=start + 1,
    )
    if history:
        end = max(end, int(history[-1]["Timestamp"]) + 1)
    length = max(1.0, float(end - start))

    summaries = slo.summarise(entries)
    stats = {subject: to_request_stats(s, length) for subject, s in summaries.items()}
    totals = stats.pop("total", RequestStats(0, 0, None, None, None, None, length))
    populations = {p: stats[p] for p in slo.POPULATIONS if p in stats}
    endpoints = {k: v for k, v in stats.items() if k not in slo.POPULATIONS}
    thresholds = [
        ThresholdResult(t.subject, t.rule, t.value, t.ok)
        for t in slo.evaluate(summaries, slo.Slo.from_env(env), env)
    ]
    return ToolResult(
        tool="locust",
        totals=totals,
        populations=populations,
        endpoints=endpoints,
        phases={},
        thresholds=thresholds,
        series=client_series(entries, history, start, length),
    )


def client_series(entries, history, start: int, length: float) -> ClientSeries:
    step = series_lib.choose_step(length)
    count = series_lib.bucket_count(length, step)

    def per_bucket(counts: dict) -> np.ndarray:
        offsets = [int(second) - start for second in counts]
        return np.asarray(series_lib.rate_per_bucket(offsets, list(counts.values()), step, length))

    requests, failures = {}, np.zeros(count)
    for entry in entries:
        population = slo.population_of(entry["method"], entry["name"]) or "other"
        rates = per_bucket(entry.get("num_reqs_per_sec", {}))
        requests[population] = requests.get(population, np.zeros(count)) + rates
        failures += per_bucket(entry.get("num_fail_per_sec", {}))

    offsets = [int(row["Timestamp"]) - start for row in history]

    def history_column(column: str, parse=percentile, empty=math.nan) -> list[float]:
        values = [parse(row[column]) for row in history]
        return series_lib.max_per_bucket(offsets, values, step, length, empty)

    return ClientSeries(
        start=float(start),
        step=step,
        times=[i * step for i in range(count)],
        requests={name: [float(x) for x in rates] for name, rates in requests.items()},
        p50_ms=history_column("50%"),
        p95_ms=history_column("95%"),
        p99_ms=history_column("99%"),
        errors={"failed": [float(x) for x in failures]} if failures.any() else {},
        active=history_column("User Count", number, 0.0),
    )
