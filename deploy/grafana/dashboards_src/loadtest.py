"""Load test: k6's client-side view next to the server's saturation and backlog.

k6 sends its metrics by remote write (output experimental-prometheus-rw). With
K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true durations arrive as native histograms
(k6_http_req_duration_seconds) and quantiles can be taken over any window; with only
K6_PROMETHEUS_RW_TREND_STATS they arrive as gauges (k6_http_req_duration_p95), which the latency
panel falls back to. The series have no job or instance: they are selected by the `testid` tag.
"""

from .common import (
    GREEN,
    HALF,
    JOB_INSTANCE,
    QUARTER,
    RATE,
    RED,
    TESTID,
    base_dashboard,
    finish,
    job_instance_variables,
    query_variable,
    timeseries_panel,
    with_sections,
)

UID = "loadtest"
K6 = TESTID
API = JOB_INSTANCE
K6_REQUESTS = f"rate(k6_http_reqs_total{{{K6}}}{RATE})"
K6_FAILED = f'rate(k6_http_reqs_total{{{K6}, expected_response="false"}}{RATE})'


def testid_variable():
    # allValue .*: also matches runs started without a testid tag.
    return query_variable(
        "testid",
        "Test run",
        "label_values(k6_vus, testid)",
        "k6 runs, by their testid tag (k6 run --tag testid=...).",
        all_value=".*",
    )


# ---------------------------------------------------------------- client side (k6)
def vus_timeseries():
    return timeseries_panel(
        "Virtual users",
        "k6 virtual users running, and the most the scenarios may start.",
        "short",
        [(f"sum(k6_vus{{{K6}}})", "VUs"), (f"sum(k6_vus_max{{{K6}}})", "max VUs")],
        dashed="max VUs",
        span=QUARTER,
    )


def request_rate_timeseries():
    return timeseries_panel(
        "Requests/s (client)",
        "Requests per second k6 completed, per scenario, whatever their status.",
        "reqps",
        [(f"sum by (scenario) ({K6_REQUESTS})", "{{scenario}}")],
        span=QUARTER,
    )


def latency_timeseries():
    def quantile(q: float, stat: str) -> str:
        # Native histograms first (windowed); else the trend-stat gauges k6 writes with
        # K6_PROMETHEUS_RW_TREND_STATS (each covers the run so far, not the window).
        return (
            f"histogram_quantile({q}, sum by (scenario) "
            f"(rate(k6_http_req_duration_seconds{{{K6}}}{RATE}))) "
            f"or max by (scenario) (k6_http_req_duration_{stat}{{{K6}}})"
        )

    return timeseries_panel(
        "Latency p95 / p99 (client)",
        "Request duration as k6 measured it, per scenario: includes the time a connection "
        "waited in the server's listen backlog, which server-side latency cannot see.",
        "s",
        [(quantile(0.95, "p95"), "{{scenario}} p95"), (quantile(0.99, "p99"), "{{scenario}} p99")],
        threshold_steps=((None, GREEN), (0.5, RED)),
        span=QUARTER,
    )


def failures_timeseries():
    return timeseries_panel(
        "Failed requests/s (client)",
        "Requests per second k6 counted as failed (status >= 400 or no response), per "
        "scenario. 503 from load shedding and connection errors both land here.",
        "reqps",
        [
            (
                f"sum by (scenario) ({K6_FAILED}) or sum by (scenario) ({K6_REQUESTS}) * 0",
                "{{scenario}}",
            )
        ],
        span=QUARTER,
    )


# ---------------------------------------------------------------- server side (same time axis)
def saturation_timeseries():
    return timeseries_panel(
        "Server: worker saturation",
        "The busiest worker of each replica (in-flight / worker_connections). At 1.0 "
        "(dashed) new connections queue.",
        "percentunit",
        [(f"instance:api_worker_saturation:max{{{API}}}", "{{instance}}")],
        soft_max=1,
        threshold_steps=((None, GREEN), (1, RED)),
        span=HALF,
    )


def backlog_timeseries():
    return timeseries_panel(
        "Server: listen backlog",
        "Connections waiting in each replica's accept queue: the client latency above that "
        "the server's latency panel does not show.",
        "short",
        [(f"max by (instance) (api_listen_backlog{{{API}}})", "{{instance}}")],
        span=HALF,
    )


def build() -> dict:
    """The load test dashboard."""
    builder = base_dashboard(
        UID,
        "Load test",
        "k6 client-side metrics (remote write) next to the API's saturation and backlog on "
        "the same time axis.",
        ["k6", "api"],
        [testid_variable(), *job_instance_variables("api_workers", "Job", "Replica")],
    )
    sections = [
        (
            "Client (k6)",
            [
                vus_timeseries(),
                request_rate_timeseries(),
                latency_timeseries(),
                failures_timeseries(),
            ],
        ),
        ("Server (API)", [saturation_timeseries(), backlog_timeseries()]),
    ]
    return finish(with_sections(builder, sections))
