"""The mix's endpoints and the SLO, for the locustfile and the report (no locust import here).

The same endpoints, populations and budgets as loadtest/k6/lib/{mix,config,thresholds}.js,
read from the same environment variables (loadtest/tests/test_slo.py keeps them in step).
"""

import os
from dataclasses import dataclass

POPULATIONS = ("tfb_clients", "item_readers", "item_writers", "slow_callers")


def env_number(name: str, default: float, env=None) -> float:
    """A numeric setting from `env` (os.environ by default); unset or empty means the default."""
    value = (os.environ if env is None else env).get(name, "")
    return float(value) if value else default


@dataclass(frozen=True)
class Endpoint:
    """One (method, route template) of the mix and the latency it is designed to have."""

    population: str
    method: str
    name: str
    delay_ms: float = 0

    @property
    def key(self) -> str:
        return f"{self.method} {self.name}"


def endpoints(env=None) -> list[Endpoint]:
    """Every endpoint of the mix, with delays from UPSTREAM_MS and SLOW_QUERY_MS."""
    return [
        *(Endpoint("tfb_clients", "GET", name) for name in TFB_ROUTES),
        Endpoint("item_readers", "GET", "/api/items"),
        Endpoint("item_readers", "GET", "/api/items/{id}"),
        Endpoint("item_writers", "POST", "/api/items"),
        Endpoint("item_writers", "PATCH", "/api/items/{id}"),
        Endpoint("item_writers", "DELETE", "/api/items/{id}"),
        Endpoint("slow_callers", "GET", "/sleep", env_number("UPSTREAM_MS", 50, env)),
        Endpoint("slow_callers", "GET", "/db/sleep", env_number("SLOW_QUERY_MS", 50, env)),
    ]


TFB_ROUTES = ("/plaintext", "/json", "/db", "/queries", "/updates", "/fortunes")


@dataclass(frozen=True)
class Slo:
    """Latency budgets on top of an endpoint's delay, and the tolerated error rate."""

    p95_ms: float
    p99_ms: float
    error_rate: float

    @classmethod
    def from_env(cls, env=None) -> "Slo":
        return cls(
            p95_ms=env_number("SLO_P95_MS", 250, env),
            p99_ms=env_number("SLO_P99_MS", 750, env),
            error_rate=env_number("SLO_ERROR_RATE", 0.01, env),
        )


@dataclass(frozen=True)
class Threshold:
    """One SLO rule applied to one set of requests, and whether it held."""

    subject: str  # "total", a population, or an endpoint key
    rule: str  # e.g. "p(95)<250"
    value: float | None  # the measured value (ms, or a ratio for error rates)
    ok: bool


def population_of(method: str, name: str) -> str | None:
    """The population that sends this request, or None if it is not part of the mix."""
    for endpoint in endpoints():
        if endpoint.method == method and endpoint.name == name:
            return endpoint.population
    return None


def evaluate(stats: dict, slo: Slo, env=None) -> list[Threshold]:
    """Judge `stats` ({"total"|population|endpoint key: object with requests, error_rate,
    p95_ms, p99_ms}) the way the k6 load scenario's thresholds do."""
    results = []

    def judge(subject, rule, value, limit):
        if subject in stats and stats[subject].requests:
            results.append(Threshold(subject, rule, value, value < limit))

    total = stats.get("total")
    if total is not None:
        judge("total", f"rate<{slo.error_rate:g}", total.error_rate, slo.error_rate)
    delays: dict[str, float] = {}
    for endpoint in endpoints(env):
        delays[endpoint.population] = max(delays.get(endpoint.population, 0), endpoint.delay_ms)
    for population, delay in delays.items():
        if population in stats:
            budget = slo.p95_ms + delay
            judge(population, f"p(95)<{budget:g}", stats[population].p95_ms, budget)
            rate = stats[population].error_rate
            judge(population, f"rate<{slo.error_rate:g}", rate, slo.error_rate)
    for endpoint in endpoints(env):
        if endpoint.key in stats:
            s = stats[endpoint.key]
            p95, p99 = slo.p95_ms + endpoint.delay_ms, slo.p99_ms + endpoint.delay_ms
            judge(endpoint.key, f"p(95)<{p95:g}", s.p95_ms, p95)
            judge(endpoint.key, f"p(99)<{p99:g}", s.p99_ms, p99)
    return results


@dataclass(frozen=True)
class Summary:
    """Requests, failures and latency percentiles (ms) of a set of requests."""

    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def histogram_percentile(histogram: dict[int, int], fraction: float) -> float:
    """The response time (ms) `fraction` of the requests finished within, as locust computes
    it from its histogram of rounded response times."""
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    within = int(total * fraction)
    seen = 0
    for response_time in sorted(histogram, reverse=True):
        seen += histogram[response_time]
        if total - seen <= within:
            return float(response_time)
    return 0.0


def summarise(entries) -> dict[str, Summary]:
    """Summaries per endpoint key, per population and "total" from locust stats entries:
    objects or dicts with method, name, num_requests, num_failures and response_times."""
    merged: dict[str, list] = {}  # subject -> [requests, failures, histogram]
    for entry in entries:
        get = entry.get if isinstance(entry, dict) else lambda key, e=entry: getattr(e, key)
        method, name = get("method"), get("name")
        subjects = ["total", f"{method} {name}"]
        population = population_of(method, name)
        if population:
            subjects.append(population)
        for subject in subjects:
            bucket = merged.setdefault(subject, [0, 0, {}])
            bucket[0] += get("num_requests")
            bucket[1] += get("num_failures")
            for response_time, count in get("response_times").items():
                key = int(response_time)  # JSON turns the keys into strings
                bucket[2][key] = bucket[2].get(key, 0) + count
    return {
        subject: Summary(
            requests=requests,
            failures=failures,
            p50_ms=histogram_percentile(histogram, 0.50),
            p95_ms=histogram_percentile(histogram, 0.95),
            p99_ms=histogram_percentile(histogram, 0.99),
            max_ms=float(max(histogram, default=0)),
        )
        for subject, (requests, failures, histogram) in merged.items()
    }
