"""API: saturation & latency (the home dashboard): is the service healthy, and if not, why."""

from .common import (
    GREEN,
    HALF,
    JOB_INSTANCE,
    ORANGE,
    QUARTER,
    RATE,
    RED,
    base_dashboard,
    finish,
    job_instance_variables,
    stat_panel,
    timeseries_panel,
    with_sections,
)

UID = "api-overview"
API = JOB_INSTANCE
# SLOs (docs/observability.md#slos), drawn as threshold lines.
LATENCY_SLO_SECONDS = 0.5
ERROR_BUDGET = 0.001  # availability 99.9 %
FAST_BURN, SLOW_BURN = 14.4, 6

REQUESTS = f"rate(flask_http_request_total{{{API}}}{RATE})"
ERRORS = f'rate(flask_http_request_total{{{API}, status=~"5.."}}{RATE})'


def error_ratio(by: str) -> str:
    """5xx / all; `or … * 0` gives 0 (not "no data") while no 5xx series exists."""
    return f"(sum{by} ({ERRORS}) or sum{by} ({REQUESTS}) * 0) / sum{by} ({REQUESTS})"


def latency_quantile(quantile: float, by: str = "") -> str:
    labels = f"{by}, le" if by else "le"
    return (
        f"histogram_quantile({quantile}, sum by ({labels}) "
        f"(rate(flask_http_request_duration_seconds_bucket{{{API}}}{RATE})))"
    )


# ---------------------------------------------------------------- headline stats
def request_rate_stat():
    return stat_panel(
        "Requests/s",
        "Requests per second the selected replicas answered (all statuses).",
        "reqps",
        f"sum({REQUESTS})",
    )


def error_ratio_stat():
    return stat_panel(
        "5xx ratio",
        "Share of requests answered with a 5xx status. The availability SLO allows 0.1 %.",
        "percentunit",
        error_ratio(""),
        threshold_steps=((None, GREEN), (ERROR_BUDGET, ORANGE), (FAST_BURN * ERROR_BUDGET, RED)),
        decimals=2,
    )


def latency_p99_stat():
    return stat_panel(
        "p99 latency",
        "99th percentile of server-side request duration (SLO: 500 ms). Time spent in the "
        "listen backlog is not included: see the backlog panel.",
        "s",
        latency_quantile(0.99),
        threshold_steps=((None, GREEN), (LATENCY_SLO_SECONDS, RED)),
    )


def saturation_stat():
    return stat_panel(
        "Max worker saturation",
        "In-flight requests / worker_connections of the busiest worker. At 100 % the worker "
        "stops accepting and new connections queue in the kernel.",
        "percentunit",
        f"max(instance:api_worker_saturation:max{{{API}}})",
        threshold_steps=((None, GREEN), (0.7, ORANGE), (0.9, RED)),
    )


def backlog_stat():
    return stat_panel(
        "Listen backlog",
        "Connections waiting in the kernel accept queue, summed over replicas. Healthy: 0.",
        "short",
        f"sum(api_listen_backlog{{{API}}})",
        threshold_steps=((None, GREEN), (1, RED)),
    )


def replicas_up_stat():
    return stat_panel(
        "Replicas up",
        "API replicas Prometheus scraped successfully in the last scrape.",
        "short",
        f"sum(up{{{API}}})",
        threshold_steps=((None, RED), (1, GREEN)),
    )


# ---------------------------------------------------------------- traffic and errors
def request_rate_timeseries():
    return timeseries_panel(
        "Request rate",
        "Requests per second answered by each replica, and by all of them.",
        "reqps",
        [(f"sum by (instance) ({REQUESTS})", "{{instance}}"), (f"sum({REQUESTS})", "all")],
        span=QUARTER,
    )


def status_timeseries():
    return timeseries_panel(
        "Responses by status",
        "Requests per second by HTTP status. 503 with Retry-After is load shedding (pool "
        "timeout); 500 is a bug.",
        "reqps",
        [(f"sum by (status) ({REQUESTS})", "{{status}}")],
        span=QUARTER,
    )


def error_ratio_timeseries():
    return timeseries_panel(
        "5xx ratio",
        "Share of requests answered with 5xx, per replica and overall. The dashed line is the "
        "SLO's error budget (0.1 %).",
        "percentunit",
        [(error_ratio(" by (instance)"), "{{instance}}"), (error_ratio(""), "all")],
        span=QUARTER,
        threshold_steps=((None, GREEN), (ERROR_BUDGET, RED)),
    )


def error_budget_burn_timeseries():
    return timeseries_panel(
        "Error budget burn rate",
        "How many times faster than sustainable the 30-day error budget is spent, over 5 "
        "minutes and 1 hour (recorded by the rules). Both above 14.4 pages "
        "(ApiErrorBudgetBurnFast); 6 opens a ticket.",
        "suffix:x",
        [
            (f'job:api_http_errors:ratio_rate5m{{job=~"$job"}} / {ERROR_BUDGET}', "5m {{job}}"),
            (f'job:api_http_errors:ratio_rate1h{{job=~"$job"}} / {ERROR_BUDGET}', "1h {{job}}"),
        ],
        span=QUARTER,
        threshold_steps=((None, GREEN), (SLOW_BURN, ORANGE), (FAST_BURN, RED)),
    )


# ---------------------------------------------------------------- latency
def latency_quantiles_timeseries():
    return timeseries_panel(
        "Latency p50 / p95 / p99",
        "Server-side request duration quantiles over all selected replicas; the dashed line "
        "is the p99 SLO (500 ms). Queueing in the listen backlog comes on top.",
        "s",
        [(latency_quantile(q), f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)],
        threshold_steps=((None, GREEN), (LATENCY_SLO_SECONDS, RED)),
    )


def latency_by_route_timeseries():
    return timeseries_panel(
        "p99 latency by route",
        "99th percentile duration per route template: which endpoint is slow.",
        "s",
        [(latency_quantile(0.99, "path"), "{{path}}")],
        threshold_steps=((None, GREEN), (LATENCY_SLO_SECONDS, RED)),
    )


def latency_by_replica_timeseries():
    return timeseries_panel(
        "p99 latency by replica",
        "99th percentile duration per replica: one slow replica points at that replica "
        "(saturation, a blocked loop), all slow at a shared dependency (the database).",
        "s",
        [(latency_quantile(0.99, "instance"), "{{instance}}")],
        threshold_steps=((None, GREEN), (LATENCY_SLO_SECONDS, RED)),
    )


# ---------------------------------------------------------------- saturation
def worker_saturation_timeseries():
    return timeseries_panel(
        "Worker saturation",
        "In-flight requests / worker_connections per replica and worker. At 1.0 (dashed) the "
        "worker accepts no more connections: they wait in the listen backlog.",
        "percentunit",
        [(f"instance_worker:api_worker_saturation:ratio{{{API}}}", "{{instance}} pid {{worker}}")],
        soft_max=1,
        threshold_steps=((None, GREEN), (1, RED)),
    )


def connection_slots_timeseries():
    return timeseries_panel(
        "Connection slots held",
        "Open client connections / worker_connections per worker, idle keep-alive included: "
        "idle connections hold slots too. High here with low saturation means idle "
        "keep-alive connections, not work, fill the worker.",
        "percentunit",
        [(f"instance_worker:api_connection_slots:ratio{{{API}}}", "{{instance}} pid {{worker}}")],
        soft_max=1,
        threshold_steps=((None, GREEN), (1, RED)),
    )


def listen_backlog_timeseries():
    return timeseries_panel(
        "Listen backlog vs limit",
        "Connections waiting for accept() per replica (left axis) and the accept queue's "
        "limit, min(GUNICORN_BACKLOG, somaxconn) (right axis, dashed). Above 0 for long: "
        "every worker is full. At the limit the kernel drops connections.",
        "short",
        [
            (f"max by (instance) (api_listen_backlog{{{API}}})", "{{instance}} queued"),
            (f"max by (instance) (api_listen_backlog_limit{{{API}}})", "{{instance}} limit"),
        ],
        dashed=".* limit",
        right_axis=".* limit",
    )


# ---------------------------------------------------------------- event loop
def event_loop_lag_timeseries():
    return timeseries_panel(
        "Event-loop lag p99",
        "How late a 100 ms timer fires in each worker's gevent loop (99th percentile). Above "
        "the dashed 100 ms, CPU work or blocking I/O delays every greenlet of the worker.",
        "s",
        [
            (
                "histogram_quantile(0.99, sum by (instance, le) "
                f"(rate(api_event_loop_lag_seconds_bucket{{{API}}}{RATE})))",
                "{{instance}}",
            )
        ],
        span=HALF,
        threshold_steps=((None, GREEN), (0.1, RED)),
    )


def event_loop_blocked_timeseries():
    return timeseries_panel(
        "Event loop blocked",
        "Times a worker's watchdog found its loop blocked beyond "
        "EVENT_LOOP_BLOCKED_THRESHOLD_MS, per interval. Healthy: none. The worker log names "
        "the blocking code.",
        "short",
        [
            (
                f"sum by (instance) (increase(api_event_loop_blocked_total{{{API}}}{RATE}))",
                "{{instance}}",
            )
        ],
        span=HALF,
        bars=True,
    )


# ---------------------------------------------------------------- database pool
def pool_usage_timeseries():
    return timeseries_panel(
        "DB pool checked out vs size",
        "Pool connections in use by requests, the pool size (dashed) and overflow connections, "
        "summed over each replica's workers. Checked out at size: requests wait for the pool.",
        "short",
        [
            (f"sum by (instance) (api_db_pool_checked_out{{{API}}})", "{{instance}} checked out"),
            (f"sum by (instance) (api_db_pool_size{{{API}}})", "{{instance}} size"),
            (f"sum by (instance) (api_db_pool_overflow{{{API}}})", "{{instance}} overflow"),
        ],
        dashed=".* size",
    )


def pool_wait_timeseries():
    return timeseries_panel(
        "DB pool wait p95",
        "95th percentile of the time a request waited for a pool connection. Rising wait with "
        "the pool fully checked out: the database (or pool size) is the bottleneck.",
        "s",
        [
            (
                "histogram_quantile(0.95, sum by (instance, le) "
                f"(rate(api_db_pool_checkout_seconds_bucket{{{API}}}{RATE})))",
                "{{instance}}",
            )
        ],
    )


def requests_shed_timeseries():
    return timeseries_panel(
        "Requests shed (pool timeout)",
        "Requests per second answered 503 because no pool connection came within "
        "DB_POOL_TIMEOUT. Healthy: 0.",
        "reqps",
        [(f"sum by (instance) (rate(api_db_pool_timeouts_total{{{API}}}{RATE}))", "{{instance}}")],
    )


# ---------------------------------------------------------------- workers
def live_workers_timeseries():
    return timeseries_panel(
        "Live workers",
        "gunicorn workers alive per replica, as the master counts them. A dip is a worker "
        "being replaced.",
        "short",
        [(f"max by (instance) (api_workers{{{API}}})", "{{instance}}")],
        span=HALF,
    )


def worker_restarts_timeseries():
    return timeseries_panel(
        "Worker restarts",
        "Workers replaced per interval, by reason: exit (recycled on purpose), timeout (no "
        "heartbeat: blocked loop), killed (SIGKILL, e.g. out of memory).",
        "short",
        [
            (
                f"sum by (instance, reason) (increase(api_worker_restarts_total{{{API}}}{RATE}))",
                "{{instance}} {{reason}}",
            )
        ],
        span=HALF,
        bars=True,
    )


def build() -> dict:
    """The home dashboard."""
    builder = base_dashboard(
        UID,
        "API: saturation & latency",
        "Per replica and for the whole service: traffic, errors, latency, worker saturation, "
        "listen backlog, event loop and database pool. docs/observability.md explains each "
        "panel.",
        ["api"],
        job_instance_variables("api_workers", "Job", "Replica"),
    )
    sections = [
        (
            "Service",
            [
                request_rate_stat(),
                error_ratio_stat(),
                latency_p99_stat(),
                saturation_stat(),
                backlog_stat(),
                replicas_up_stat(),
            ],
        ),
        (
            "Traffic and errors",
            [
                request_rate_timeseries(),
                status_timeseries(),
                error_ratio_timeseries(),
                error_budget_burn_timeseries(),
            ],
        ),
        (
            "Latency",
            [
                latency_quantiles_timeseries(),
                latency_by_route_timeseries(),
                latency_by_replica_timeseries(),
            ],
        ),
        (
            "Saturation",
            [
                worker_saturation_timeseries(),
                connection_slots_timeseries(),
                listen_backlog_timeseries(),
            ],
        ),
        ("Event loop", [event_loop_lag_timeseries(), event_loop_blocked_timeseries()]),
        (
            "Database pool",
            [pool_usage_timeseries(), pool_wait_timeseries(), requests_shed_timeseries()],
        ),
        ("Workers", [live_workers_timeseries(), worker_restarts_timeseries()]),
    ]
    return finish(with_sections(builder, sections))
