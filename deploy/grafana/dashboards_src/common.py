"""Defaults every dashboard shares: the datasource, variables, selectors and panel builders."""

import json
import warnings

# The SDK marks the classic dashboard model (schema v1) deprecated in favour of dashboardv2.
# Grafana's file provisioning loads schema v1 JSON; v2 needs the kubernetesDashboards feature
# and the new API, so this project generates v1 on purpose.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import common as common_builders
    from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common as common_models
    from grafana_foundation_sdk.models.dashboard import (
        DashboardCursorSync,
        DynamicConfigValue,
        Threshold,
        ThresholdsMode,
        VariableOption,
        VariableRefresh,
        VariableSort,
    )

# deploy/grafana/provisioning/datasources/ provisions Prometheus with exactly this uid.
DATASOURCE_UID = "prometheus"
# Every panel and target points at the dashboard's datasource variable, not at a fixed uid.
DATASOURCE = common_models.DataSourceRef(type_val="prometheus", uid="${datasource}")

# Shared selectors: a job/instance pair for every scraped metric (the linter rules), the
# load-test id for k6's remote-written metrics (they have no job or instance).
JOB_INSTANCE = 'job=~"$job", instance=~"$instance"'
# The range of every rate()/increase() in a panel (the dashboard-linter's rule).
RATE = "[$__rate_interval]"
TESTID = 'testid=~"$testid"'

# Grafana's grid is 24 columns wide; heights are in grid rows of 30 px.
FULL, HALF, THIRD, QUARTER, SIXTH = 24, 12, 8, 6, 4
STAT_HEIGHT, PANEL_HEIGHT = 4, 8

GREEN, ORANGE, RED, BLUE = "green", "orange", "red", "blue"


def base_dashboard(
    uid: str, title: str, description: str, tags: list[str], variables: list
) -> dashboard.Dashboard:
    """A dashboard with the project's defaults (last 30 minutes, 10 s refresh, shared cursor),
    `$datasource` and then `variables`."""
    builder = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["reference-stack", *tags])
        .readonly()
        .timezone("browser")
        .time("now-30m", "now")
        .refresh("10s")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .timepicker(
            dashboard.TimePicker().refresh_intervals(["5s", "10s", "30s", "1m", "5m", "15m"])
        )
        .with_variable(datasource_variable())
    )
    for variable in variables:
        builder = builder.with_variable(variable)
    return builder


def datasource_variable() -> dashboard.DatasourceVariable:
    """`$datasource`: any Prometheus, defaulting to the provisioned one."""
    return (
        dashboard.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .current(VariableOption(selected=True, text="Prometheus", value=DATASOURCE_UID))
    )


def query_variable(
    name: str, label: str, query: str, description: str, *, all_value: str | None = None
) -> dashboard.QueryVariable:
    """A multi-value label variable with "All", refreshed on time change.

    "All" means every value found (Grafana's default), unless `all_value` replaces it: with
    the job variable that keeps a job=~"$job" matcher from reaching other jobs' series.
    """
    variable = (
        dashboard.QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(DATASOURCE)
        .query(query)
        .definition(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )
    return variable if all_value is None else variable.all_value(all_value)


def job_instance_variables(metric: str, job_label: str, instance_label: str) -> list:
    """`$job` and `$instance` from the targets that export `metric`."""
    return [
        query_variable(
            "job", job_label, f"label_values({metric}, job)", "Prometheus job of the targets."
        ),
        query_variable(
            "instance",
            instance_label,
            f'label_values({metric}{{job=~"$job"}}, instance)',
            "One target (replica or exporter) per value: host:port of its metrics endpoint.",
        ),
    ]


def prom_query(expr: str, legend: str, ref_id: str) -> prometheus.Dataquery:
    """A range query on the dashboard's datasource."""
    return (
        prometheus.Dataquery()
        .datasource(DATASOURCE)
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref_id)
        .range()
    )


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds; the first step's value is None (the base colour)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in steps])
    )


def _targets(panel, queries: list[tuple[str, str]]):
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(prom_query(expr, legend, chr(ord("A") + index)))
    return panel


def timeseries_panel(
    title: str,
    description: str,
    unit: str,
    queries: list[tuple[str, str]],
    *,
    span: int = THIRD,
    height: int = PANEL_HEIGHT,
    min_value: float | None = 0,
    soft_max: float | None = None,
    threshold_steps: tuple[tuple[float | None, str], ...] = (),
    bars: bool = False,
    dashed: str | None = None,
    right_axis: str | None = None,
) -> timeseries.Panel:
    """A time series panel; `threshold_steps` are drawn as dashed lines.

    `dashed` and `right_axis` are regular expressions on series names: those series are drawn
    dashed (limits, sizes) or against a second axis on the right (a limit far above the value).
    """
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .span(span)
        .height(height)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common_models.VisibilityMode.NEVER)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(
            common_builders.VizTooltipOptions()
            .mode(common_models.TooltipDisplayMode.MULTI)
            .sort(common_models.SortOrder.DESCENDING)
        )
    )
    if bars:
        panel = panel.draw_style(common_models.GraphDrawStyle.BARS).fill_opacity(80)
    if min_value is not None:
        panel = panel.min(min_value)
    if soft_max is not None:
        panel = panel.axis_soft_max(soft_max)
    if threshold_steps:
        panel = panel.thresholds(thresholds(*threshold_steps)).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common_models.GraphThresholdsStyleMode.DASHED
            )
        )
    if dashed:
        panel = panel.override_by_regexp(
            dashed,
            [
                DynamicConfigValue(
                    id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}
                )
            ],
        )
    if right_axis:
        panel = panel.override_by_regexp(
            right_axis,
            [DynamicConfigValue(id_val="custom.axisPlacement", value="right")],
        )
    return _targets(panel, queries)


def stat_panel(
    title: str,
    description: str,
    unit: str,
    expr: str,
    *,
    threshold_steps: tuple[tuple[float | None, str], ...] = ((None, GREEN),),
    decimals: int | None = None,
    span: int = SIXTH,
) -> stat.Panel:
    """A single-value panel showing the last value, coloured by its thresholds."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .span(span)
        .height(STAT_HEIGHT)
        .thresholds(thresholds(*threshold_steps))
        .color_mode(common_models.BigValueColorMode.VALUE)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    return _targets(panel, [(expr, title)])


def with_sections(builder: dashboard.Dashboard, sections: list[tuple[str, list]]):
    """Add each (row title, panels) section in order; the SDK lays panels out left to right."""
    for title, panels in sections:
        builder = builder.with_row(dashboard.Row(title))
        for panel in panels:
            builder = builder.with_panel(panel)
    return builder


def finish(builder: dashboard.Dashboard) -> dict:
    """Build, number the panels in grid order, and return the dashboard's JSON model."""
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    for number, panel in enumerate(model["panels"], start=1):
        panel["id"] = number
    return model
