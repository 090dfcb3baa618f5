"""Edge (nginx): connections, requests and drops, from stub_status via nginx-prometheus-exporter.

stub_status has no status codes and no latency: errors and latency live on the API dashboard
(server side) and the Load test dashboard (client side).
"""

from .common import (
    GREEN,
    JOB_INSTANCE,
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

UID = "edge"
NGINX = JOB_INSTANCE
ACCEPTED = f"sum(rate(nginx_connections_accepted{{{NGINX}}}{RATE}))"
HANDLED = f"sum(rate(nginx_connections_handled{{{NGINX}}}{RATE}))"
REQUESTS = f"rate(nginx_http_requests_total{{{NGINX}}}{RATE})"


# ---------------------------------------------------------------- headline stats
def up_stat():
    return stat_panel(
        "nginx up",
        "1 when the exporter could read nginx's stub_status at its last scrape.",
        "short",
        f"min(nginx_up{{{NGINX}}})",
        threshold_steps=((None, RED), (1, GREEN)),
        span=QUARTER,
    )


def request_rate_stat():
    return stat_panel(
        "Requests/s",
        "Requests per second nginx received (all statuses; stub_status does not split them).",
        "reqps",
        f"sum({REQUESTS})",
        span=QUARTER,
    )


def active_connections_stat():
    return stat_panel(
        "Active connections",
        "Client connections open now, including idle keep-alive ones.",
        "short",
        f"sum(nginx_connections_active{{{NGINX}}})",
        span=QUARTER,
    )


def dropped_stat():
    return stat_panel(
        "Dropped connections/s",
        "Accepted minus handled connections per second: nginx ran out of worker_connections. "
        "Healthy: 0.",
        "cps",
        f"{ACCEPTED} - {HANDLED}",
        threshold_steps=((None, GREEN), (0.001, RED)),
        span=QUARTER,
    )


# ---------------------------------------------------------------- panels
def connections_timeseries():
    return timeseries_panel(
        "Connections",
        "Open client connections (active) and what they do: reading a request header, "
        "writing a response (includes waiting for the API), waiting (idle keep-alive).",
        "short",
        [
            (f"sum(nginx_connections_{state}{{{NGINX}}})", state)
            for state in ("active", "reading", "writing", "waiting")
        ],
    )


def requests_timeseries():
    return timeseries_panel(
        "Requests/s",
        "Requests per second each nginx received.",
        "reqps",
        [(f"sum by (instance) ({REQUESTS})", "{{instance}}")],
    )


def accepted_handled_timeseries():
    return timeseries_panel(
        "Accepted vs handled connections",
        "New connections per second nginx accepted and handled; the difference (dropped) is "
        "connections nginx closed at once for lack of worker_connections.",
        "cps",
        [
            (ACCEPTED, "accepted"),
            (HANDLED, "handled"),
            (f"{ACCEPTED} - {HANDLED}", "dropped"),
        ],
    )


def build() -> dict:
    """The edge dashboard."""
    builder = base_dashboard(
        UID,
        "Edge (nginx)",
        "nginx in front of the API replicas: connections, requests per second and dropped "
        "connections, from stub_status.",
        ["nginx"],
        job_instance_variables("nginx_up", "Job", "Exporter"),
    )
    sections = [
        ("nginx", [up_stat(), request_rate_stat(), active_connections_stat(), dropped_stat()]),
        (
            "Traffic",
            [connections_timeseries(), requests_timeseries(), accepted_handled_timeseries()],
        ),
    ]
    return finish(with_sections(builder, sections))
