"""What the tests and the renderer need from a dashboard's JSON: panels, queries, variables."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import macros

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"


@dataclass
class Target:
    ref_id: str
    expr: str
    legend: str


@dataclass
class Panel:
    id: int
    type: str
    title: str
    description: str
    unit: str
    grid: dict  # x, y, w, h in grid units
    targets: list[Target]
    thresholds: list[tuple[float | None, str]] = field(default_factory=list)
    threshold_lines: bool = False
    min: float | None = None
    soft_max: float | None = None
    bars: bool = False
    dashed: list[str] = field(default_factory=list)  # regexes on series names
    right_axis: list[str] = field(default_factory=list)
    decimals: int | None = None


@dataclass
class Variable:
    name: str
    type: str
    query: str = ""
    all_value: str | None = None


@dataclass
class Dashboard:
    uid: str
    title: str
    panels: list[Panel]  # rows excluded
    rows: list[tuple[str, int]]  # (title, y)
    variables: list[Variable]
    raw: dict


def _overrides(field_config: dict, property_id: str) -> list[str]:
    return [
        override["matcher"]["options"]
        for override in field_config.get("overrides", [])
        if any(p["id"] == property_id for p in override.get("properties", []))
    ]


def parse(raw: dict) -> Dashboard:
    panels, rows = [], []
    for item in raw["panels"]:
        if item["type"] == "row":
            rows.append((item["title"], item["gridPos"]["y"]))
            continue
        field_config = item.get("fieldConfig", {})
        defaults = field_config.get("defaults", {})
        custom = defaults.get("custom", {})
        steps = defaults.get("thresholds", {}).get("steps", [])
        panels.append(
            Panel(
                id=item["id"],
                type=item["type"],
                title=item.get("title", ""),
                description=item.get("description", ""),
                unit=defaults.get("unit", ""),
                grid=item["gridPos"],
                targets=[
                    Target(t["refId"], t["expr"], t.get("legendFormat", ""))
                    for t in item.get("targets", [])
                ],
                thresholds=[(s.get("value"), s["color"]) for s in steps],
                threshold_lines=custom.get("thresholdsStyle", {}).get("mode", "off") != "off",
                min=defaults.get("min"),
                soft_max=custom.get("axisSoftMax"),
                bars=custom.get("drawStyle") == "bars",
                dashed=_overrides(field_config, "custom.lineStyle"),
                right_axis=_overrides(field_config, "custom.axisPlacement"),
                decimals=defaults.get("decimals"),
            )
        )
    variables = [
        Variable(v["name"], v["type"], v.get("query", ""), v.get("allValue"))
        for v in raw.get("templating", {}).get("list", [])
    ]
    return Dashboard(raw["uid"], raw["title"], panels, rows, variables, raw)


def load_all(directory: Path = DASHBOARDS) -> list[Dashboard]:
    return [parse(json.loads(path.read_text())) for path in sorted(directory.glob("*.json"))]


_LABEL_VALUES = re.compile(r"label_values\((?:(.*),\s*)?(\w+)\)\s*$")


def resolve_variables(
    dashboard: Dashboard,
    label_values: Callable[[str, str], list[str]],
    range_s: float,
    scrape_interval_s: float,
) -> dict[str, str | list[str]]:
    """Every query variable set to "All", resolved the way Grafana does.

    `label_values(label, match)` answers a variable query (Prometheus' label values API).
    With a custom all value, "All" is that value; without one, it is every value found.
    """
    values: dict[str, str | list[str]] = {}
    for variable in dashboard.variables:
        if variable.type != "query":
            continue
        match = _LABEL_VALUES.match(variable.query)
        if not match:
            raise ValueError(f"unsupported variable query {variable.query!r}")
        selector, label = match.groups()
        selector, _ = macros.expand(
            selector or "{__name__=~'.+'}",
            range_s=range_s,
            grid_width=24,
            scrape_interval_s=scrape_interval_s,
            variables=values,
        )
        found = sorted(label_values(label, selector))
        values[variable.name] = variable.all_value if variable.all_value is not None else found
    return values


def expand_target(
    panel: Panel,
    target: Target,
    variables: dict[str, str | list[str]],
    range_s: float,
    scrape_interval_s: float,
) -> tuple[str, float]:
    """The query Grafana sends for `target` of `panel`, and its step in seconds."""
    return macros.expand(
        target.expr,
        range_s=range_s,
        grid_width=panel.grid["w"],
        scrape_interval_s=scrape_interval_s,
        variables=variables,
    )


def legend(template: str, labels: dict[str, str]) -> str:
    """Grafana's legend format: {{label}} replaced by the series' label value."""
    if not template:
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)
