"""Capacity: how far the current rate is from the rate at which each resource saturates.

Everything comes from the recording rules of deploy/prometheus/rules/capacity.rules.yml (the
same definitions as the planner's, docs/capacity.md): utilisation per resource and replica,
headroom and the saturating rate per job, and the alert's margin.
"""

import re
from pathlib import Path

import yaml

from .common import (
    GREEN,
    HALF,
    JOB_INSTANCE,
    ORANGE,
    QUARTER,
    RED,
    base_dashboard,
    common_models,
    finish,
    job_instance_variables,
    prom_query,
    stat_panel,
    timeseries_panel,
    with_sections,
)

UID = "capacity"
JOB = 'job=~"$job"'
RULES = Path(__file__).resolve().parents[2] / "prometheus" / "rules" / "capacity.rules.yml"
HEADROOM = f"job:capacity_headroom:ratio{{{JOB}}}"
SATURATES_AT = f"job:capacity_saturation_rate:rps{{{JOB}}}"
MARGIN_SERIES = f"job:capacity_headroom_margin:ratio{{{JOB}}}"


def headroom_margin(path: Path = RULES) -> float:
    """The alert's margin, as the rule records it (one number, in the rules file)."""
    for group in yaml.safe_load(path.read_text())["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == "job:capacity_headroom_margin:ratio":
                return float(re.search(r"\+\s*([\d.]+)\s*$", rule["expr"]).group(1))
    raise LookupError(f"no job:capacity_headroom_margin:ratio in {path}")


MARGIN = headroom_margin()
HEADROOM_COLOURS = ((None, RED), (MARGIN, ORANGE), (2 * MARGIN, GREEN))


# ---------------------------------------------------------------- headline stats
def lowest_headroom_stat():
    return stat_panel(
        "Lowest headroom",
        "The headroom (1 − utilisation) of the resource closest to saturation. Below the "
        f"margin ({MARGIN:.0%}) for 5 minutes: CapacityHeadroomLow.",
        "percentunit",
        f"min({HEADROOM})",
        threshold_steps=HEADROOM_COLOURS,
        span=QUARTER,
    )


def first_to_saturate_stat():
    return (
        stat_panel(
            "First to saturate",
            "The resource that saturates at the lowest request rate, and that rate, at today's "
            "cost per request (the current rate ÷ its utilisation).",
            "reqps",
            f"bottomk(1, {SATURATES_AT})",
            span=QUARTER,
        )
        .text_mode(common_models.BigValueTextMode.VALUE_AND_NAME)
        # The resource's name as the value's label.
        .targets([prom_query(f"bottomk(1, {SATURATES_AT})", "{{resource}}", "A")])
    )


def request_rate_stat():
    return stat_panel(
        "Requests/s",
        "Requests per second the selected jobs answer now (30 s rate).",
        "reqps",
        f"sum(job:api_http_requests:rate30s{{{JOB}}})",
        span=QUARTER,
    )


def headroom_rate_stat():
    return stat_panel(
        "Rate headroom",
        "How much more traffic the service takes before its first resource saturates: the "
        "lowest saturating rate ÷ the current rate − 1.",
        "percentunit",
        f"min({SATURATES_AT}) / sum(job:api_http_requests:rate30s{{{JOB}}}) - 1",
        threshold_steps=((None, RED), (MARGIN / (1 - MARGIN), ORANGE), (1.0, GREEN)),
        span=QUARTER,
    )


# ---------------------------------------------------------------- panels
def headroom_timeseries():
    return timeseries_panel(
        "Headroom per resource",
        "1 − utilisation of each resource (the busiest replica's CPU, pool and worker "
        "connections; the database's CPUs), with the alert's margin dashed.",
        "percentunit",
        [(HEADROOM, "{{resource}}"), (MARGIN_SERIES, "margin")],
        span=HALF,
        soft_max=1,
        dashed="margin",
    )


def saturation_rate_timeseries():
    return timeseries_panel(
        "Rate at which each resource saturates",
        "The request rate at which each resource would reach 100 % if every request kept "
        "costing what it costs now, and the current rate (dashed). A pool whose holds grow "
        "with CPU contention saturates sooner than this straight line says.",
        "reqps",
        [(SATURATES_AT, "{{resource}}"), (f"job:api_http_requests:rate30s{{{JOB}}}", "now")],
        span=HALF,
        dashed="now",
    )


def utilisation_timeseries():
    return timeseries_panel(
        "Utilisation per replica",
        "Each replica's CPU (workers' CPU seconds per second ÷ usable cores), pool (connections "
        "held on average ÷ pool size) and worker connections (held ÷ slots). 100 %: saturated.",
        "percentunit",
        [
            (
                f"instance:capacity_utilisation:ratio{{{JOB_INSTANCE}}}",
                "{{instance}} {{resource}}",
            )
        ],
        span=HALF,
        soft_max=1,
        threshold_steps=((None, GREEN), (1 - MARGIN, ORANGE), (1.0, RED)),
    )


def worker_cpu_timeseries():
    return timeseries_panel(
        "CPU per worker",
        "CPU seconds per second of each gevent worker (read by the master from /proc). One event "
        "loop uses at most one core: a worker at 1.0 queues every request for the CPU.",
        "short",
        [
            (
                f"rate(api_worker_cpu_seconds_total{{{JOB_INSTANCE}}}[$__rate_interval])",
                "{{instance}} worker {{worker}}",
            )
        ],
        span=HALF,
        threshold_steps=((None, GREEN), (1 - MARGIN, ORANGE), (1.0, RED)),
    )


def build() -> dict:
    """The capacity dashboard."""
    builder = base_dashboard(
        UID,
        "Capacity",
        "Headroom per resource, live: how far the current request rate is from the rate at "
        "which CPU, pool, worker connections or the database saturate (docs/capacity.md).",
        ["api", "capacity"],
        job_instance_variables("api_workers", "Job", "Replica"),
    )
    sections = [
        (
            "Headroom",
            [
                lowest_headroom_stat(),
                first_to_saturate_stat(),
                request_rate_stat(),
                headroom_rate_stat(),
            ],
        ),
        ("Per resource", [headroom_timeseries(), saturation_rate_timeseries()]),
        ("Per replica", [utilisation_timeseries(), worker_cpu_timeseries()]),
    ]
    return finish(with_sections(builder, sections))
