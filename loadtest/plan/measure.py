"""What a stress run measured, step by step: the client's rates and latencies (k6's files), the
servers' own counters (Prometheus) and the node's CPU (when the planner sampled it).

Prometheus keeps a Compose stack's data only as long as the stack runs, so everything the
model needs is written to measurements.json in the run's directory: a plan can be made again
from it later, without the stack.
"""

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from loadtest.locust import slo
from loadtest.report import k6
from loadtest.report.prometheus import Prometheus

from . import mix
from .node import NodeSamples

MEASUREMENTS_FILE = "measurements.json"
NODE_FILE = "node-cpu.json"
SETTLE_SECONDS = 1.0  # skip the first second of a window: the rate just changed
MIN_WINDOW = 10.0  # seconds: two scrapes at the stack's 5 s interval
# Requests that are not part of the mix: health checks (Docker, the runner), unknown paths.
NOT_THE_MIX = {"GET /healthz", "GET /readyz", "GET <unmatched>"}
LATENCY_SAMPLES = 4000  # per endpoint, of the lowest step: enough for a p99


@dataclass
class EndpointWindow:
    """One endpoint's server-side totals over a window."""

    requests: float
    duration_s: float  # summed Flask time
    held_s: float  # summed time holding a pool connection


@dataclass
class Window:
    """What the client and the servers did while one step (or a verification run) held."""

    phase: str
    start: float  # unix s
    end: float
    target_rate: float  # iterations/s asked of k6
    achieved_rate: float  # iterations/s k6 started and finished
    met_slo: bool
    client_requests: int
    client_p99_excess_ms: float | None  # p99 of latency beyond each endpoint's designed delay
    client_error_rate: float
    endpoints: dict[str, EndpointWindow]  # "GET /db" (k6's names)
    api_cpu_s: float  # all workers
    api_busiest_worker_cores: float  # the busiest worker's average CPU use
    db_active_s: float | None  # PostgreSQL: time backends spent running statements
    checkouts: float
    checkout_wait_s: float
    pool_wait_p99_s: float | None
    inflight: float  # requests in flight, averaged, all workers
    open_connections: float
    node_cores_busy: float | None = None  # the whole machine
    # Cores busy per part: each container of the stack, and the load generator (node.py).
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def requests(self) -> float:
        return sum(e.requests for e in self.endpoints.values())

    @property
    def server_rate(self) -> float:
        """Requests/s the API served (the mix only)."""
        return self.requests / self.seconds


@dataclass
class Deployment:
    """How the measured stack was configured, as its metrics say."""

    replicas: int
    workers: int  # all replicas together
    worker_connections: int  # per worker
    pool_size: int  # per worker
    cpus_available: float  # per replica


@dataclass
class Measurements:
    """A run's windows, the stack it ran on, the node, and the latencies at the lowest load."""

    run: str
    deployment: Deployment
    windows: list[Window]
    node_cores: int | None
    idle_node_cores_busy: float | None  # before the load started: everyone else on the node
    requests_per_iteration: float
    latency_ms: dict[str, list[float]]  # per endpoint, the lowest step's latencies
    designed_ms: dict[str, float]  # each endpoint's designed delay (UPSTREAM_MS, SLOW_QUERY_MS)
    mix: dict[str, float]  # the populations' weights the run used (normalised MIX_*)

    def save(self, directory: Path) -> Path:
        path = directory / MEASUREMENTS_FILE
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict) -> "Measurements":
        windows = [
            Window(
                **{
                    **w,
                    "endpoints": {k: EndpointWindow(**v) for k, v in w["endpoints"].items()},
                }
            )
            for w in data["windows"]
        ]
        return cls(**{**data, "deployment": Deployment(**data["deployment"]), "windows": windows})


def endpoint_name(method: str, path: str) -> str:
    """The k6 name of a server route: /api/items/<int:item_id> -> "GET /api/items/{id}"."""
    return f"{method} {re.sub(r'<[^>]+>', '{id}', path)}"


# ---------------------------------------------------------------- the server side
class ServerSide:
    """Instant queries over a window [start, end], for the API's scrape job."""

    def __init__(self, prometheus_url: str, job: str):
        self.prometheus = Prometheus(prometheus_url)
        self.sel = f'job="{job}"'

    def _vector(self, expr: str, end: float) -> list[tuple[dict, float]]:
        result = self.prometheus.query(expr, end)
        return [(r["metric"], float(r["value"][1])) for r in result]

    def _one(self, expr: str, end: float) -> float | None:
        values = [v for _, v in self._vector(expr, end) if math.isfinite(v)]
        return sum(values) if values else None

    def _by_endpoint(self, metric: str, window: str, end: float) -> dict[str, float]:
        expr = f"sum by (method, path) (increase({metric}{{{self.sel}}}[{window}]))"
        return {
            endpoint_name(m["method"], m["path"]): v
            for m, v in self._vector(expr, end)
            if math.isfinite(v)
        }

    def window(self, start: float, end: float) -> dict:
        """The server's totals and averages over [start, end]."""
        w = f"{max(1, round(end - start))}s"
        counts = self._by_endpoint("flask_http_request_duration_seconds_count", w, end)
        durations = self._by_endpoint("flask_http_request_duration_seconds_sum", w, end)
        held = self._by_endpoint("api_db_connection_held_seconds_total", w, end)
        endpoints = {
            name: EndpointWindow(count, durations.get(name, 0.0), held.get(name, 0.0))
            for name, count in counts.items()
            if name not in NOT_THE_MIX and count > 0
        }
        sel = self.sel
        per_worker = self._vector(f"rate(api_worker_cpu_seconds_total{{{sel}}}[{w}])", end)
        p99 = self._one(
            "histogram_quantile(0.99, sum by (le) "
            f"(increase(api_db_pool_checkout_seconds_bucket{{{sel}}}[{w}])))",
            end,
        )
        return {
            "endpoints": endpoints,
            "api_cpu_s": self._one(
                f"sum(increase(api_worker_cpu_seconds_total{{{sel}}}[{w}]))", end
            )
            or 0.0,
            "api_busiest_worker_cores": max((v for _, v in per_worker), default=0.0),
            # The database's own counter; the exporter's job has no `job="api"`.
            "db_active_s": self._one(
                f"sum(increase(pg_stat_database_active_time_seconds_total[{w}]))", end
            ),
            "checkouts": self._one(
                f"sum(increase(api_db_pool_checkout_seconds_count{{{sel}}}[{w}]))", end
            )
            or 0.0,
            "checkout_wait_s": self._one(
                f"sum(increase(api_db_pool_checkout_seconds_sum{{{sel}}}[{w}]))", end
            )
            or 0.0,
            "pool_wait_p99_s": p99,
            "inflight": self._one(f"sum(avg_over_time(api_inflight_requests{{{sel}}}[{w}]))", end)
            or 0.0,
            "open_connections": self._one(
                f"sum(avg_over_time(api_open_connections{{{sel}}}[{w}]))", end
            )
            or 0.0,
        }

    def deployment(self, at: float) -> Deployment:
        """The stack's shape at `at`, from its own gauges."""
        sel = self.sel
        return Deployment(
            replicas=int(self._one(f"count(up{{{sel}}} == 1)", at) or 0),
            workers=int(self._one(f"sum(api_workers{{{sel}}})", at) or 0),
            worker_connections=int(self._one(f"max(api_worker_connections{{{sel}}})", at) or 0),
            pool_size=int(self._one(f"max(api_db_pool_size{{{sel}}})", at) or 0),
            cpus_available=self._one(f"max(api_cpus_available{{{sel}}})", at) or 0.0,
        )


# ---------------------------------------------------------------- the client side
@dataclass
class ClientStep:
    phase: str
    start: float
    end: float
    target_rate: float
    achieved_rate: float
    met_slo: bool
    requests: int
    p99_excess_ms: float | None
    error_rate: float
    iterations: int


def excess_ms(samples: k6.Samples, designed: dict[str, float]) -> np.ndarray:
    """Each request's latency beyond its endpoint's designed delay (ms)."""
    delays = np.array([designed.get(e, 0.0) for e in samples.req_endpoint], dtype=float)
    return samples.req_duration - delays


def client_steps(results: Path, samples: k6.Samples, designed: dict[str, float]):
    """The run's judged phases (stress steps) with their windows in unix seconds."""
    summary = json.loads((results / k6.SUMMARY_FILE).read_text())
    options = json.loads((results / k6.OPTIONS_FILE).read_text())
    timeline = k6.Timeline(options)
    result = k6.read(results, samples)
    started = (summary.get("setup_data") or {}).get("startedAt")
    if started is None:
        raise RuntimeError(f"k6 never started the scenarios of {results.name} (see its report.md)")
    started /= 1000
    excess = excess_ms(samples, designed)
    windows = {w["phase"]: w for w in timeline.windows}
    last = float(samples.req_time.max()) / 1000 if samples.req_time.size else started
    steps = []
    for step in result.steps:
        window = windows[step.phase]
        in_step = samples.req_phase == step.phase
        iterations = int(np.count_nonzero(samples.iter_phase == step.phase))
        steps.append(
            ClientStep(
                phase=step.phase,
                start=started + window["start"] + SETTLE_SECONDS,
                end=min(started + window["end"], last),  # a run the guard stopped ends early
                target_rate=step.target_rate,
                achieved_rate=step.achieved_rate,
                met_slo=step.met_slo,
                requests=step.requests,
                p99_excess_ms=float(np.percentile(excess[in_step], 99)) if step.requests else None,
                error_rate=step.error_rate,
                iterations=iterations,
            )
        )
    return steps


def lowest_step_latencies(samples, steps, designed) -> dict[str, list[float]]:
    """Per endpoint, up to LATENCY_SAMPLES excess latencies (ms) of the first step."""
    excess = excess_ms(samples, designed)
    first = samples.req_phase == steps[0].phase
    ok = first & ~samples.req_failed
    latencies = {}
    for name in np.unique(samples.req_endpoint[ok]):
        values = excess[ok & (samples.req_endpoint == name)]
        latencies[str(name)] = [round(float(v), 3) for v in values[:LATENCY_SAMPLES]]
    return latencies


def measure(results: Path, prometheus_url: str, job: str = "api") -> Measurements:
    """Read the run in `results` and what Prometheus holds for its windows; write and return
    measurements.json. Raises RuntimeError when the run has no stress steps."""
    run = json.loads((results / "run.json").read_text())
    designed = {e.key: e.delay_ms for e in slo.endpoints(run.get("settings", {}))}
    samples = k6.read_samples(results / k6.SAMPLES_FILE)
    steps = client_steps(results, samples, designed)
    if not steps:
        raise RuntimeError(f"{results} has no stress steps (phases step_NN): not a stress run")
    node = NodeSamples.load(results / NODE_FILE)
    server = ServerSide(prometheus_url, job)
    windows = []
    for step in steps:
        if step.requests == 0:
            continue  # the run stopped before this step
        # A step stopped early still needs two scrapes: reach back into the ramp before it.
        start = min(step.start, step.end - MIN_WINDOW)
        busy = node.busy(start, step.end) if node else None
        server_side = server.window(start, step.end)
        if not server_side["endpoints"]:
            continue  # aborted at its start: the servers counted nothing
        windows.append(
            Window(
                phase=step.phase,
                start=start,
                end=step.end,
                target_rate=step.target_rate,
                achieved_rate=step.achieved_rate,
                met_slo=step.met_slo,
                client_requests=step.requests,
                client_p99_excess_ms=step.p99_excess_ms,
                client_error_rate=step.error_rate,
                node_cores_busy=busy[0] if busy else None,
                parts=busy[1] if busy else {},
                **server_side,
            )
        )
    first = steps[0]
    idle = node.busy(node.samples[0][0], run["started"]) if node and node.samples else None
    measurements = Measurements(
        run=results.name,
        deployment=server.deployment(first.end),
        windows=windows,
        node_cores=node.cores if node else None,
        idle_node_cores_busy=idle[0] if idle else None,
        requests_per_iteration=first.requests / max(1, first.iterations),
        latency_ms=lowest_step_latencies(samples, steps, designed),
        designed_ms=designed,
        mix=mix.weights(run.get("settings", {})),
    )
    measurements.save(results)
    return measurements


def load(results: Path, prometheus_url: str | None = None) -> Measurements:
    """measurements.json of a run, measured first (from its Prometheus) if it is not there."""
    path = results / MEASUREMENTS_FILE
    if path.exists():
        try:
            return Measurements.from_dict(json.loads(path.read_text()))
        except (TypeError, KeyError, ValueError) as exc:
            raise RuntimeError(
                f"{path} cannot be read ({exc}): delete it to measure again"
            ) from None
    run = json.loads((results / "run.json").read_text())
    if (run.get("tool"), run.get("scenario")) != ("k6", "stress"):
        kind = f"{run.get('tool')} {run.get('scenario')}"
        raise RuntimeError(f"{results} is a {kind} run: the planner reads k6 stress runs")
    if not (results / k6.SAMPLES_FILE).exists():
        raise RuntimeError(f"{results} has no {k6.SAMPLES_FILE}: the planner needs k6's samples")
    url = prometheus_url or run.get("prometheus_url")
    if not url or not Prometheus(url).ready():
        raise RuntimeError(
            f"{results} has no {MEASUREMENTS_FILE} and its Prometheus ({url or 'none'}) does "
            "not answer: plan from a run the planner made, or while its stack still runs"
        )
    return measure(results, url, run.get("api_job", "api"))
