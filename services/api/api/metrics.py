"""The metrics contract (docs/metrics.md): every metric the API exports, and the Flask wiring.

All metrics live in prometheus_client's multiprocess directory: workers write request, pool
and event-loop metrics, the gunicorn master writes backlog and worker metrics, and only the
master serves them (api.master_monitor). Per-worker gauges carry a `worker` label (the pid)
and use a `live*` mode, so a dead worker's series vanish; counters and histograms carry no
worker label, because their files outlive the worker and a pid label would grow without bound.
"""

import functools
import os
import platform
import time
from importlib import metadata

from flask import Flask, Response, got_request_exception, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_flask_exporter import PrometheusMetrics

from . import __version__
from .config import Settings

# 1 ms to 10 s, about three buckets per decade.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# prometheus-flask-exporter's default request metrics: its names, help texts and labels (with
# the route template as `path`), recorded by record_request below.
REQUEST_DURATION = Histogram(
    "flask_http_request_duration_seconds",
    "Flask HTTP request duration in seconds",
    ["method", "path", "status"],
    buckets=LATENCY_BUCKETS,
)
REQUESTS = Counter(
    "flask_http_request_total", "Total number of HTTP requests", ["method", "status"]
)
REQUEST_EXCEPTIONS = Counter(
    "flask_http_request_exceptions_total",
    "Total number of HTTP requests which resulted in an exception",
    ["method", "status"],
)

INFLIGHT_REQUESTS = Gauge(
    "api_inflight_requests",
    "Requests a worker is serving right now.",
    ["worker"],
    multiprocess_mode="livesum",
)
WORKER_CONNECTIONS = Gauge(
    "api_worker_connections",
    "Requests a worker can serve at once (gevent: worker_connections; gthread: threads).",
    ["worker"],
    multiprocess_mode="livesum",
)
OPEN_CONNECTIONS = Gauge(
    "api_open_connections",
    "Client connections a gevent worker holds, busy or idle keep-alive (each takes a slot).",
    ["worker"],
    multiprocess_mode="livesum",
)
LISTEN_BACKLOG = Gauge(
    "api_listen_backlog",
    "Connections waiting in the kernel accept queue of the listening socket(s).",
    multiprocess_mode="max",
)
LISTEN_BACKLOG_LIMIT = Gauge(
    "api_listen_backlog_limit",
    "Effective accept queue limit: min(backlog setting, net.core.somaxconn).",
    multiprocess_mode="max",
)
EVENT_LOOP_LAG = Histogram(
    "api_event_loop_lag_seconds",
    "How late a periodic timer greenlet wakes up in a worker's event loop.",
    buckets=LATENCY_BUCKETS,
)
EVENT_LOOP_BLOCKED = Counter(
    "api_event_loop_blocked_total",
    "Times a worker's watchdog found its event loop blocked beyond the threshold.",
)
DB_POOL_SIZE = Gauge(
    "api_db_pool_size",
    "Connections the worker's pool keeps (pool_size).",
    ["worker"],
    multiprocess_mode="livesum",
)
DB_POOL_CHECKED_OUT = Gauge(
    "api_db_pool_checked_out",
    "Pool connections in use by requests.",
    ["worker"],
    multiprocess_mode="livesum",
)
DB_POOL_OVERFLOW = Gauge(
    "api_db_pool_overflow",
    "Connections open beyond pool_size (at most DB_MAX_OVERFLOW).",
    ["worker"],
    multiprocess_mode="livesum",
)
DB_POOL_CHECKOUT = Histogram(
    "api_db_pool_checkout_seconds",
    "Time a request waited for a pool connection (including opening a new one).",
    buckets=LATENCY_BUCKETS,
)
DB_CONNECTION_HELD = Counter(
    "api_db_connection_held_seconds",
    "Seconds requests held a pool connection, from checkout to return, by route.",
    ["method", "path"],
)
DB_POOL_TIMEOUTS = Counter(
    "api_db_pool_timeouts_total",
    "Requests shed with 503 because no pool connection came within DB_POOL_TIMEOUT.",
)
DB_UNAVAILABLE = Counter(
    "api_db_unavailable_total",
    "Requests answered 503 because the database was unreachable, restarting, dropped the "
    "connection or cancelled the statement (statement timeout).",
)
CPUS_AVAILABLE = Gauge(
    "api_cpus_available",
    "CPUs the replica may use: its cgroup CPU quota, else the CPUs it may run on.",
    multiprocess_mode="max",
)
# api_worker_cpu_seconds_total{worker} is not declared here: the master reads each worker's
# CPU time from /proc when Prometheus scrapes (api.master_monitor.WorkerCpuCollector).
WORKERS = Gauge(
    "api_workers",
    "Live gunicorn workers, as the master counts them.",
    multiprocess_mode="max",
)
WORKER_RESTARTS = Counter(
    "api_worker_restarts_total",
    "Workers that ended and were replaced, by reason (exit, timeout, killed).",
    ["reason"],
)
BUILD_INFO = Gauge(
    "api_build_info",
    "Constant 1, labelled with the versions that make up this build.",
    ["version", "python", "gunicorn", "gevent", "flask", "sqlalchemy"],
    multiprocess_mode="max",
)


def for_this_worker(gauge: Gauge) -> Gauge:
    """The calling worker's child of a per-worker gauge (cached)."""
    return _worker_child(gauge, os.getpid())


@functools.cache
def _worker_child(gauge: Gauge, pid: int) -> Gauge:
    return gauge.labels(worker=str(pid))


def connection_held_counter() -> Counter | None:
    """The current request's child of DB_CONNECTION_HELD, or None outside a request."""
    if not has_request_context():
        return None
    current = request._get_current_object()  # one context lookup instead of one per attribute
    return _held_child(current.method, route_template(current))


@functools.cache  # bounded: only matched routes reach a view that uses the database
def _held_child(method: str, path: str) -> Counter:
    return DB_CONNECTION_HELD.labels(method=method, path=path)


def route_template(req) -> str:
    """Label requests by route template, never by raw URL (unbounded cardinality)."""
    return req.url_rule.rule if req.url_rule is not None else "<unmatched>"


class RequestsInFlight:
    """WSGI middleware counting the requests the app is serving right now, and stamping each
    with its start time.

    The count is a plain integer, not the gauge: in multiprocess mode every gauge write is a
    locked mmap write, two per request in the profile. The worker's sampler publishes it.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.count = 0

    def __call__(self, environ, start_response):
        environ[_STARTED] = time.perf_counter()
        self.count += 1
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            self.count -= 1


_STARTED = "api.started"


def record_request(response: Response) -> Response:
    """After each request: observe its duration, count it (one cached child of each)."""
    req = request._get_current_object()
    key = (req.method, route_template(req), response.status_code)
    children = _request_children.get(key) or _new_request_children(key)
    children[0].observe(time.perf_counter() - req.environ[_STARTED])
    children[1].inc()
    return response


_request_children: dict[tuple, tuple] = {}


def _new_request_children(key: tuple) -> tuple:
    method, path, status = key
    children = (REQUEST_DURATION.labels(method, path, status), REQUESTS.labels(method, status))
    _request_children[key] = children
    return children


def count_exception(_app: Flask, exception: BaseException, **_extra) -> None:
    """An exception escaped every error handler (Flask answers 500): count it."""
    REQUEST_EXCEPTIONS.labels(request.method, "500").inc()


def init_app(app: Flask, settings: Settings) -> None:
    """Count requests in flight and record request metrics, unless METRICS_ENABLED is off."""
    if not settings.METRICS_ENABLED:
        return
    app.wsgi_app = app.extensions["requests_in_flight"] = RequestsInFlight(app.wsgi_app)
    # prometheus-flask-exporter is the app's Prometheus integration (its info metric, and its
    # decorators for per-view metrics), but its default request hooks are not used: they cost
    # more per request than every other metric together (docs/benchmarks.md). One after_request
    # hook records the same series; a signal, not a per-request hook, counts exceptions.
    # A private registry: the exporter registers per app, and tests build many apps.
    exporter = PrometheusMetrics(
        app, path=None, export_defaults=False, registry=CollectorRegistry(auto_describe=True)
    )
    exporter.info(
        "flask_exporter_info",
        "Information about the Prometheus Flask exporter",
        version=exporter.version,
    )
    app.after_request(record_request)
    got_request_exception.connect(count_exception, app)


def set_build_info() -> None:
    """Publish the component versions (called once, by the master)."""
    versions = {
        name: metadata.version(name) for name in ("gunicorn", "gevent", "flask", "sqlalchemy")
    }
    BUILD_INFO.labels(version=__version__, python=platform.python_version(), **versions).set(1)
