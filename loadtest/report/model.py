"""What the report knows about a run, whichever tool made it: one shape for k6 and locust."""

from dataclasses import asdict, dataclass, field

import numpy as np

from .knee import Step


@dataclass
class RequestStats:
    """Requests, failures and latency (ms) of a set of requests spread over `seconds`."""

    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "rps": self.rps, "error_rate": self.error_rate}

    @classmethod
    def from_samples(cls, durations_ms, failed, seconds: float) -> "RequestStats":
        """Exact percentiles of the given request durations (k6: every sample is kept)."""
        durations = np.asarray(durations_ms, dtype=float)
        if durations.size == 0:
            return cls(0, 0, None, None, None, None, seconds)
        p50, p95, p99 = np.percentile(durations, [50, 95, 99])
        return cls(
            requests=int(durations.size),
            failures=int(np.count_nonzero(failed)),
            p50_ms=float(p50),
            p95_ms=float(p95),
            p99_ms=float(p99),
            max_ms=float(durations.max()),
            seconds=seconds,
        )


@dataclass
class ThresholdResult:
    """One pass/fail rule as the tool evaluated it. `value` is None when no request matched."""

    metric: str  # e.g. http_req_duration{scenario:tfb_clients}, or a locust subject
    rule: str  # e.g. p(95)<250
    value: float | None
    ok: bool

    @property
    def unit(self) -> str:
        return "ratio" if self.rule.startswith("rate") else "ms"


@dataclass
class ClientSeries:
    """Client-side measurements in buckets of `step` seconds from `start` (unix seconds)."""

    start: float
    step: float
    times: list[float]  # bucket starts, seconds since `start`
    requests: dict[str, list[float]]  # population -> requests/s
    p50_ms: list[float]
    p95_ms: list[float]
    p99_ms: list[float]
    errors: dict[str, list[float]]  # what failed (a status, "timeout") -> per second
    active: list[float]  # k6 VUs in use, locust users
    iterations: list[float] | None = None  # iterations/s (k6)
    target: list[float] | None = None  # the scenario's target iterations/s
    dropped: list[float] | None = None  # k6 dropped_iterations/s


@dataclass
class ToolResult:
    """Everything read from one tool's output files."""

    tool: str
    totals: RequestStats
    populations: dict[str, RequestStats]
    endpoints: dict[str, RequestStats]  # "GET /api/items/{id}"
    phases: dict[str, RequestStats]
    thresholds: list[ThresholdResult]
    series: ClientSeries
    steps: list[Step] = field(default_factory=list)  # stress steps, in order
    notes: list[str] = field(default_factory=list)  # facts worth a line in the report
