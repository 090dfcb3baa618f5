"""Dashboards as code: the JSON is current, follows the linter rules and fits the SDK's schema."""

import copy
import json
from pathlib import Path

import pytest

# Imported first: it loads the SDK's schema v1 models without their DeprecationWarning.
from deploy.grafana.dashboards_src import generate, lint  # isort: skip
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import prometheus, stat, timeseries
from grafana_foundation_sdk.models.dashboard import Dashboard

from deploy.grafana.render import macros, model

REPO = Path(__file__).resolve().parents[3]
DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
NAMES = sorted(generate.DASHBOARDS)
PANEL_OPTIONS = {"timeseries": timeseries.Options, "stat": stat.Options}

register_default_plugins()


def committed(name: str) -> dict:
    return json.loads((DASHBOARDS / name).read_text())


@pytest.mark.parametrize("name", NAMES)
def test_committed_json_is_what_the_code_generates(name):
    assert (DASHBOARDS / name).read_text() == generate.render(generate.DASHBOARDS[name]), (
        "stale: run `make dashboards`"
    )


def test_no_stray_dashboard_files():
    assert sorted(path.name for path in DASHBOARDS.glob("*.json")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_fixed_uid_and_no_export_placeholders(name):
    dashboard = committed(name)
    assert dashboard["uid"] == name.removesuffix(".json")
    text = json.dumps(dashboard)
    assert "__inputs" not in text and "${DS_" not in text  # file provisioning cannot resolve them
    assert "id" not in dashboard  # Grafana assigns the database id


def test_the_home_dashboard_exists():
    assert committed("api-overview.json")["title"] == "API: saturation & latency"


@pytest.mark.parametrize("name", NAMES)
def test_dashboard_follows_the_linter_rules(name):
    assert lint.problems(committed(name)) == []


@pytest.mark.parametrize(
    "expr,problem",
    [
        ('sum(rate(api_x_total{job=~"$job", instance=~"$instance"}[5m]))', "range [5m]"),
        ('sum(rate(api_x_total{instance=~"$instance"}[$__rate_interval]))', 'lacks job=~"$job"'),
        ('api_x_total{job=~"$job", instance=~"$instance"}', "counter api_x_total outside"),
        ('pg_stat_database_xact_commit{job=~"$job", instance=~"$instance"}', "counter pg_stat"),
        ("sum(api_workers)", "api_workers has no {...} selector"),
        ("k6_vus{}", 'k6_vus lacks testid=~"$testid"'),
    ],
)
def test_the_lint_catches(expr, problem):
    assert any(problem in found for found in lint.expr_problems(expr)), lint.expr_problems(expr)


def test_the_lint_catches_a_panel_without_unit_or_description():
    dashboard = copy.deepcopy(committed("edge.json"))
    panel = next(p for p in dashboard["panels"] if p["type"] == "timeseries")
    del panel["description"], panel["fieldConfig"]["defaults"]["unit"]
    found = lint.problems(dashboard)
    assert any("no description" in p for p in found) and any("unit" in p for p in found)


def sdk_round_trip(dashboard: dict) -> dict:
    return json.loads(json.dumps(Dashboard.from_json(dashboard), cls=JSONEncoder))


@pytest.mark.parametrize("name", NAMES)
def test_json_fits_the_sdk_dashboard_schema(name):
    """Decoding into the SDK's typed models and encoding back loses nothing: every key is one
    the schema knows, with a value of its type; panels decode as their plugin's options and
    targets as Prometheus queries."""
    dashboard = committed(name)
    assert sdk_round_trip(dashboard) == dashboard
    typed = Dashboard.from_json(dashboard)
    for panel in typed.panels:
        if panel.type_val == "row":
            continue
        assert isinstance(panel.options, PANEL_OPTIONS[panel.type_val])
        assert all(isinstance(target, prometheus.Dataquery) for target in panel.targets)


def test_the_schema_check_catches_an_unknown_key():
    dashboard = copy.deepcopy(committed("edge.json"))
    dashboard["panels"][1]["fieldConfig"]["defaults"]["unitt"] = "s"
    assert sdk_round_trip(dashboard) != dashboard


def test_every_panel_is_documented():
    docs = (REPO / "docs" / "observability.md").read_text()
    missing = [
        f"{dashboard.title} / {panel.title}"
        for dashboard in model.load_all(DASHBOARDS)
        for panel in dashboard.panels
        if f"**{panel.title}**" not in docs
    ]
    assert missing == []


# ---------------------------------------------------------------- Grafana's macros
@pytest.mark.parametrize(
    "range_s,width,scrape,rate_interval,step",
    [
        (90, 8, 1, "4s", 1.0),  # the proof's run: $__interval floors at the scrape interval
        (1800, 8, 5, "20s", 5.0),  # 30 min at 5 s scrapes: 4 × scrape wins
        (6 * 3600, 8, 5, "35s", 30.0),  # 6 h: $__interval (30 s) + scrape (5 s)
        (7 * 86400, 24, 5, "305s", 300.0),  # 7 days: 336 s per pixel rounds to 5 min
    ],
)
def test_rate_interval_is_what_grafana_computes(range_s, width, scrape, rate_interval, step):
    expr, got_step = macros.expand(
        "rate(x[$__rate_interval])", range_s=range_s, grid_width=width, scrape_interval_s=scrape
    )
    assert (expr, got_step) == (f"rate(x[{rate_interval}])", step)


def test_variables_expand_as_the_prometheus_datasource_formats_them():
    expr, _ = macros.expand(
        'x{job=~"$job", instance=~"${instance}", t=~"$testid"} [$__range] $__interval_ms',
        range_s=600,
        grid_width=24,
        scrape_interval_s=5,
        variables={"job": ["api"], "instance": ["10.0.0.2:9200", "10.0.0.3:9200"], "testid": ".*"},
    )
    assert expr == (
        r'x{job=~"api", instance=~"(10\\.0\\.0\\.2:9200|10\\.0\\.0\\.3:9200)", t=~".*"} [600s] 5000'
    )


def test_an_unknown_variable_is_an_error():
    with pytest.raises(KeyError):
        macros.expand('x{a=~"$nope"}', range_s=60, grid_width=8, scrape_interval_s=1)
