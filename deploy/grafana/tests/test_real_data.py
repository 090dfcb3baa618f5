"""Every dashboard panel and the alerts, proven against a real Prometheus with real data.

One run (testkit/overload.py, about a minute): PostgreSQL, two API replicas under gunicorn,
nginx, both exporters and a native Prometheus with the project's rules; k6 overloads replica A
and writes its own metrics by remote write. Then every panel's queries run as Grafana would
run them (macros and "All" variables expanded) over the run's time range.
"""

import math
import shutil
from pathlib import Path

import pytest

from deploy.grafana.render import model
from testkit.docker import docker_available, image_present
from testkit.overload import IMAGES, SCRAPE_INTERVAL_SECONDS, ObservedStack

REPO = Path(__file__).resolve().parents[3]
RULE_FILES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.rules.yml"))
# What the overload must set off (the rest must stay quiet): saturation, backlog, latency,
# shedding and the 5xx it causes, the blocked loop and the killed worker on replica B, the
# scrape job with nobody listening, and the headroom of replica A's slots and pool.
EXPECTED_ALERTS = {
    "CapacityHeadroomLow",
    "ApiWorkerSaturationHigh",
    "ApiListenBacklogSustained",
    "ApiListenBacklogNearLimit",
    "ApiLatencyP99High",
    "ApiErrorBudgetBurnFast",
    "ApiErrorBudgetBurnSlow",
    "ApiDbPoolTimeouts",
    "ApiEventLoopBlocked",
    "ApiWorkerRestarts",
    "TargetExporterDown",
}

pytestmark = [pytest.mark.integration, pytest.mark.docker]


def _missing_prerequisite() -> str | None:
    for binary in ("prometheus",):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (scripts/install-test-tools)"
    if not docker_available():
        return "no Docker engine (scripts/install-docker-engine): the exporters run as containers"
    missing = [image for image in IMAGES if not image_present(image)]
    if missing:
        return f"images {missing} are missing (scripts/build-offline-images)"
    return None


@pytest.fixture(scope="module")
def observed():
    """(stack, run) after one overload run; everything is stopped after the module."""
    reason = _missing_prerequisite()
    if reason:
        pytest.skip(reason)
    with ObservedStack(RULE_FILES) as stack:
        yield stack, stack.run_overload()


def panel_queries(stack, run):
    """(dashboard, panel, target, expanded query, step) for every target of every dashboard."""
    range_s = run.end - run.start
    for dashboard in model.load_all():
        variables = model.resolve_variables(
            dashboard,
            lambda label, match: stack.prometheus.label_values(label, match, run.start, run.end),
            range_s,
            SCRAPE_INTERVAL_SECONDS,
        )
        for panel in dashboard.panels:
            for target in panel.targets:
                expr, step = model.expand_target(
                    panel, target, variables, range_s, SCRAPE_INTERVAL_SECONDS
                )
                yield dashboard, panel, target, expr, step


def finite(series: list[dict]) -> list[float]:
    return [
        float(value)
        for s in series
        for _, value in s["values"]
        if not math.isnan(float(value)) and not math.isinf(float(value))
    ]


def panel_series(stack, run, dashboard_uid, title, ref_id="A", start=None, end=None):
    for dashboard, panel, target, expr, step in panel_queries(stack, run):
        if (dashboard.uid, panel.title, target.ref_id) == (dashboard_uid, title, ref_id):
            return stack.prometheus.query_range(expr, start or run.start, end or run.end, step)
    raise LookupError(f"{dashboard_uid} / {title} / {ref_id}")


def test_every_panel_query_succeeds_and_returns_data(observed):
    stack, run = observed
    empty = []
    count = 0
    for dashboard, panel, target, expr, step in panel_queries(stack, run):
        if "pgbouncer_" in expr:
            continue  # this run has no PgBouncer: test_pgbouncer_panels.py proves those panels
        count += 1
        series = stack.prometheus.query_range(expr, run.start, run.end, step)  # raises on error
        if not finite(series):
            empty.append(f"{dashboard.title} / {panel.title} / {target.ref_id}: {expr}")
    assert count > 50
    assert empty == []


def test_saturation_panel_reaches_09_in_the_overload_and_falls_back(observed):
    stack, run = observed
    during = panel_series(
        stack,
        run,
        "api-overview",
        "Worker saturation",
        start=run.overload_start,
        end=run.overload_end,
    )
    assert max(finite(during)) >= 0.9
    after = panel_series(stack, run, "api-overview", "Worker saturation", start=run.end - 4)
    assert max(finite(after)) < 0.9


def test_backlog_panel_rises_in_the_overload_and_drains(observed):
    stack, run = observed
    title = "Listen backlog vs limit"
    during = panel_series(
        stack, run, "api-overview", title, start=run.overload_start, end=run.overload_end
    )
    assert max(finite(during)) > 0
    after = panel_series(stack, run, "api-overview", title, start=run.end - 4)
    assert max(finite(after)) == 0


def test_the_overload_fires_the_alerts_it_should_and_no_other(observed):
    _, run = observed
    assert set(run.fired) == EXPECTED_ALERTS


def test_panels_use_counters_only_inside_rate_by_prometheus_metadata(observed):
    """The static lint knows counters by name; here Prometheus says which metrics are counters."""
    from deploy.grafana.dashboards_src import lint

    stack, run = observed
    types = {name: entries[0]["type"] for name, entries in stack.prometheus.metadata().items()}
    misuse, unknown_to_lint = [], set()
    for dashboard, panel, target, _, _ in panel_queries(stack, run):
        for metric, _, position in lint.selectors(target.expr):
            family = metric.removesuffix("_total")
            if "counter" not in (types.get(metric), types.get(family)):
                continue
            if not lint.is_counter(metric):
                unknown_to_lint.add(metric)
            if lint.enclosing_function(target.expr, position) not in lint.RATE_FUNCTIONS:
                misuse.append(f"{dashboard.title} / {panel.title}: {metric}")
    assert misuse == []
    assert unknown_to_lint == set(), "teach lint.COUNTER_PATTERNS these counters"


def test_every_dashboard_renders_to_png_from_the_run(observed, tmp_path):
    from deploy.grafana.render.__main__ import Prometheus, render_all

    stack, run = observed
    paths = render_all(
        Prometheus(stack.prometheus.url), run.start, run.end, SCRAPE_INTERVAL_SECONDS, tmp_path
    )
    assert sorted(path.name for path in paths) == [
        f"dashboard-{uid}.png"
        for uid in ("api-overview", "capacity", "edge", "loadtest", "postgres")
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 50_000
