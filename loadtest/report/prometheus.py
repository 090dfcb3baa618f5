"""Server-side measurements of the run's window, from Prometheus `query_range`.

The API's metrics contract (services/api/api/metrics.py) under the scrape job API_JOB ("api"),
one series per replica (`instance`). Rates use a window of four scrape intervals, like
Grafana's $__rate_interval, so short runs still get two samples per window.
"""

import math
import re
from dataclasses import dataclass

import requests

TIMEOUT = 10  # seconds per HTTP call to Prometheus


@dataclass(frozen=True)
class Panel:
    """One server-side plot: a PromQL expression ({sel} and {window} are filled in)."""

    key: str
    title: str
    unit: str
    expr: str


PANELS = (
    Panel(
        "saturation",
        "Saturation: in-flight / worker_connections",
        "%",
        "100 * sum by (instance) (api_inflight_requests{{{sel}}})"
        " / sum by (instance) (api_worker_connections{{{sel}}})",
    ),
    Panel(
        "open_connections",
        "Open client connections",
        "connections",
        "sum by (instance) (api_open_connections{{{sel}}})",
    ),
    Panel(
        "listen_backlog",
        "Listen backlog (kernel accept queue)",
        "connections",
        "max by (instance) (api_listen_backlog{{{sel}}})",
    ),
    Panel(
        "pool_wait_p95",
        "DB pool wait p95",
        "ms",
        "1000 * histogram_quantile(0.95,"
        " sum by (instance, le) (rate(api_db_pool_checkout_seconds_bucket{{{sel}}}[{window}])))",
    ),
    Panel(
        "event_loop_lag_p95",
        "Event-loop lag p95",
        "ms",
        "1000 * histogram_quantile(0.95,"
        " sum by (instance, le) (rate(api_event_loop_lag_seconds_bucket{{{sel}}}[{window}])))",
    ),
    Panel(
        "server_rps",
        "Requests/s the API served",
        "req/s",
        "sum by (instance) (rate(flask_http_request_total{{{sel}}}[{window}]))",
    ),
    Panel(
        "server_errors",
        "5xx/s and pool timeouts/s the API returned",
        "1/s",
        'label_replace(sum(rate(flask_http_request_total{{{sel},status=~"5.."}}[{window}])),'
        ' "kind", "5xx", "", "")'
        " or label_replace(sum(rate(api_db_pool_timeouts_total{{{sel}}}[{window}])),"
        ' "kind", "pool timeouts", "", "")',
    ),
)


@dataclass
class Series:
    """One line of a panel: its legend and values over time (s since the run's start)."""

    legend: str
    times: list[float]
    values: list[float]


class Prometheus:
    """A thin client for the few HTTP API calls the report needs."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/-/ready", timeout=TIMEOUT).status_code == 200
        except requests.RequestException:
            return False

    def accepts_remote_write(self) -> bool:
        """Whether the remote-write receiver is on (an empty write is then a 4xx, not 404)."""
        try:
            response = requests.post(f"{self.url}/api/v1/write", data=b"", timeout=TIMEOUT)
        except requests.RequestException:
            return False
        return response.status_code not in (404, 405)

    def scrape_interval(self, job: str) -> float | None:
        """The scrape interval (s) of `job`'s targets, or None if Prometheus has none."""
        response = requests.get(
            f"{self.url}/api/v1/targets", params={"state": "active"}, timeout=TIMEOUT
        )
        response.raise_for_status()
        for target in response.json()["data"]["activeTargets"]:
            if target["labels"].get("job") == job:
                return parse_duration(target.get("scrapeInterval", "15s"))
        return None

    def query(self, expr: str, at: float) -> list[dict]:
        """An instant query's result vector, evaluated at `at` (unix s)."""
        response = requests.get(
            f"{self.url}/api/v1/query", params={"query": expr, "time": at}, timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()["data"]["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        response = requests.get(
            f"{self.url}/api/v1/query_range",
            params={"query": expr, "start": start, "end": end, "step": step},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return response.json()["data"]["result"]


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as "15s" or "1m30s"."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(
        float(amount) * units[unit] for amount, unit in re.findall(r"(\d+)(ms|s|m|h|d)", text)
    )


def legend(labels: dict) -> str:
    return labels.get("kind") or labels.get("instance") or "all"


def server_series(
    url: str, job: str, start: float, end: float, interval: float
) -> dict[str, list[Series]]:
    """Every panel's series for [start, end] (unix s); `interval` is the scrape interval."""
    prometheus = Prometheus(url)
    step = max(1.0, min(interval, (end - start) / 60))
    window = f"{int(max(4 * interval, 2 * step))}s"
    selector = f'job="{job}"'
    panels = {}
    for panel in PANELS:
        expr = panel.expr.format(sel=selector, window=window)
        lines = []
        # A rate over the last `window` trails the client's per-second counts: say so.
        suffix = f" (over {window})" if "{window}" in panel.expr else ""
        for result in prometheus.query_range(expr, start, end, step):
            times = [float(t) - start for t, _ in result["values"]]
            values = [float(v) for _, v in result["values"]]
            lines.append(Series(legend(result["metric"]) + suffix, times, values))
        panels[panel.key] = sorted(lines, key=lambda line: line.legend)
    return panels


def peaks(panels: dict[str, list[Series]]) -> dict[str, float | None]:
    """The highest value of each panel over the run (None if it had no data)."""
    result = {}
    for key, lines in panels.items():
        values = [v for line in lines for v in line.values if math.isfinite(v)]
        result[key] = max(values) if values else None
    return result
