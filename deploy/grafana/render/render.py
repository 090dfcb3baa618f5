"""Draw a dashboard as Grafana lays it out (24-column grid, 30 px rows), from query_range data.

Time series panels get their title, unit-formatted axis, legend, threshold lines, dashed and
right-axis series overrides, and bars; stat panels their last value coloured by thresholds
over a sparkline. Colours follow Grafana's dark theme.
"""

import math
import re
from collections.abc import Callable
from datetime import datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from . import model  # noqa: E402

GRID_COLUMNS, ROW_PX, WIDTH_PX, DPI = 24, 30, 1800, 100
MAX_LEGEND_ROWS = 3
BACKGROUND, PANEL, TEXT, MUTED, GRID = "#111217", "#181b1f", "#ccccdc", "#8e8e9e", "#2c3235"
PALETTE = [
    "#73bf69",
    "#f2cc0c",
    "#8ab8ff",
    "#ff780a",
    "#f2495c",
    "#5794f2",
    "#b877d9",
    "#705da0",
    "#37872d",
    "#fade2a",
]
COLORS = {"green": "#73bf69", "orange": "#ff9830", "red": "#f2495c", "blue": "#5794f2"}

# query(panel, target) -> Prometheus range result ([{metric, values}]).
Fetch = Callable[[model.Panel, model.Target], list[dict]]


# ---------------------------------------------------------------- units
def _si(value: float, suffix: str = "") -> str:
    for size, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{prefix}{suffix}"
    return f"{value:.3g}{suffix}"


def _seconds(value: float) -> str:
    if value == 0:
        return "0 s"
    if abs(value) < 1e-3:
        return f"{value * 1e6:.3g} µs"
    if abs(value) < 1:
        return f"{value * 1e3:.3g} ms"
    if abs(value) < 60:
        return f"{value:.3g} s"
    if abs(value) < 3600:
        return f"{value / 60:.3g} min"
    return f"{value / 3600:.3g} h"


def format_value(value: float, unit: str, decimals: int | None = None) -> str:
    """A value as Grafana shows it for `unit`."""
    if value is None or math.isnan(value):
        return "No data"
    if unit == "percentunit":
        return f"{value * 100:.{decimals if decimals is not None else 1}f}%"
    if unit == "s":
        return _seconds(value)
    if unit.startswith("suffix:"):
        return _si(value, unit.removeprefix("suffix:"))
    suffixes = {"reqps": " req/s", "ops": " ops/s", "cps": " c/s", "bytes": " B"}
    return _si(value, suffixes.get(unit, ""))


# ---------------------------------------------------------------- data
def _points(series: dict) -> tuple[list[datetime], list[float]]:
    times = [datetime.fromtimestamp(float(t)) for t, _ in series["values"]]
    values = [float(v) for _, v in series["values"]]
    return times, values


def _matches(patterns: list[str], name: str) -> bool:
    return any(re.fullmatch(pattern, name) for pattern in patterns)


# ---------------------------------------------------------------- panels
def _style(ax, title: str) -> None:
    ax.set_facecolor(PANEL)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(colors=MUTED, labelsize=7, length=0)
    ax.set_title(title, color=TEXT, fontsize=9, loc="left", pad=4, fontweight="bold")


def _draw_timeseries(ax, panel: model.Panel, data: list[tuple[str, dict]], start, end) -> None:
    _style(ax, panel.title)
    ax.grid(True, color=GRID, linewidth=0.5)
    right = ax.twinx() if any(_matches(panel.right_axis, name) for name, _ in data) else None
    unit_formatter = FuncFormatter(lambda v, _: format_value(v, panel.unit))
    for axis in filter(None, (ax, right)):
        axis.yaxis.set_major_formatter(unit_formatter)
        axis.yaxis.set_major_locator(MaxNLocator(4))
    if right is not None:
        right.tick_params(colors=MUTED, labelsize=7, length=0)
        for spine in right.spines.values():
            spine.set_visible(False)
    bar_width = None
    for index, (name, series) in enumerate(data):
        times, values = _points(series)
        color = PALETTE[index % len(PALETTE)]
        target_ax = right if right is not None and _matches(panel.right_axis, name) else ax
        dashed = "--" if _matches(panel.dashed, name) else "-"
        if panel.bars and len(times) > 1:
            bar_width = bar_width or (times[1] - times[0]) * 0.8
            target_ax.bar(times, values, width=bar_width, color=color, label=name, alpha=0.8)
        else:
            target_ax.plot(times, values, dashed, color=color, linewidth=1.2, label=name)
            if not dashed.startswith("--"):
                target_ax.fill_between(times, values, alpha=0.08, color=color)
    if panel.threshold_lines:
        for value, color in panel.thresholds:
            if value is not None:
                ax.axhline(value, color=COLORS.get(color, color), linestyle="--", linewidth=1)
    if panel.min is not None:
        ax.set_ylim(bottom=panel.min)
    if panel.soft_max is not None:
        ax.set_ylim(top=max(panel.soft_max * 1.05, ax.get_ylim()[1]))
    ax.set_xlim(datetime.fromtimestamp(start), datetime.fromtimestamp(end))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.xaxis.set_major_locator(MaxNLocator(5))
    handles, labels = ax.get_legend_handles_labels()
    if right is not None:
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if handles:
        columns, shown = legend_shape(panel, len(handles))
        if shown < len(handles):  # Grafana would scroll the legend
            hidden = len(handles) - (shown - 1)
            handles = [*handles[: shown - 1], plt.Line2D([], [], linestyle="none")]
            labels = [*labels[: shown - 1], f"+{hidden} more"]
        ax.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=columns,
            fontsize=6.5,
            frameon=False,
            labelcolor=TEXT,
            handlelength=1.5,
        )
    if not data:
        ax.text(0.5, 0.5, "No data", color=MUTED, ha="center", va="center", transform=ax.transAxes)


def legend_shape(panel: model.Panel, entries: int) -> tuple[int, int]:
    """(columns, entries shown): about one column per 3 grid columns, at most 3 rows."""
    columns = max(1, min(entries, round(panel.grid["w"] / 3)))
    return columns, min(entries, columns * MAX_LEGEND_ROWS)


def _threshold_color(panel: model.Panel, value: float) -> str:
    color = "green"
    for step, step_color in panel.thresholds:
        if step is None or (not math.isnan(value) and value >= step):
            color = step_color
    return COLORS.get(color, color)


def _draw_stat(ax, panel: model.Panel, data: list[tuple[str, dict]]) -> None:
    _style(ax, panel.title)
    ax.set_xticks([])
    ax.set_yticks([])
    values = [v for _, series in data[:1] for v in _points(series)[1] if not math.isnan(v)]
    last = values[-1] if values else float("nan")
    color = _threshold_color(panel, last)
    if len(values) > 1:
        ax.fill_between(range(len(values)), values, color=color, alpha=0.15, linewidth=0)
        ax.plot(range(len(values)), values, color=color, linewidth=1, alpha=0.6)
        ax.set_ylim(bottom=min(0, min(values)))
    ax.text(
        0.5,
        0.45,
        format_value(last, panel.unit, panel.decimals),
        color=color if values else MUTED,
        fontsize=20,
        fontweight="bold",
        ha="center",
        va="center",
        transform=ax.transAxes,
    )


# ---------------------------------------------------------------- the dashboard
def render(dashboard: model.Dashboard, fetch: Fetch, start: float, end: float, path) -> None:
    """Draw `dashboard` with data from `fetch` over [start, end] into the PNG `path`."""
    bottom = max(
        [p.grid["y"] + p.grid["h"] for p in dashboard.panels] + [y + 1 for _, y in dashboard.rows]
    )
    header_px = 60
    height_px = bottom * ROW_PX + header_px + ROW_PX // 2
    figure = plt.figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, facecolor=BACKGROUND)
    first, last = datetime.fromtimestamp(start), datetime.fromtimestamp(end)
    stamp = f"{first:%Y-%m-%d %H:%M:%S} – {last:%H:%M:%S}"
    figure.text(0.01, 1 - 22 / height_px, dashboard.title, color=TEXT, fontsize=14, va="center")
    figure.text(0.99, 1 - 22 / height_px, stamp, color=MUTED, fontsize=9, ha="right", va="center")

    def box(x, y, w, h, pad_top=0.0, pad_bottom=0.0, pad_right=0.0):
        left = x / GRID_COLUMNS + 0.004
        top_px = header_px + y * ROW_PX + pad_top
        bottom_px = header_px + (y + h) * ROW_PX - pad_bottom
        return [
            left + 0.028,
            1 - bottom_px / height_px,
            w / GRID_COLUMNS - 0.008 - 0.036 - pad_right,
            (bottom_px - top_px) / height_px,
        ]

    for title, y in dashboard.rows:
        figure.text(
            0.01, 1 - (header_px + y * ROW_PX + ROW_PX / 2) / height_px, title, color=TEXT,
            fontsize=11, fontweight="bold", va="center",
        )  # fmt: skip
    for panel in dashboard.panels:
        data = [
            (model.legend(target.legend, series["metric"]), series)
            for target in panel.targets
            for series in fetch(panel, target)
        ]
        g = panel.grid
        cell = box(g["x"], g["y"], g["w"], g["h"], 2, 2)
        figure.patches.append(
            Rectangle(
                (cell[0] - 0.026, cell[1]), cell[2] + 0.032, cell[3], facecolor=PANEL,
                edgecolor=GRID, linewidth=0.5, transform=figure.transFigure, zorder=-10,
            )
        )  # fmt: skip
        if panel.type == "stat":
            ax = figure.add_axes(box(g["x"], g["y"], g["w"], g["h"], 24, 6))
            _draw_stat(ax, panel, data)
        else:
            columns, shown = legend_shape(panel, len(data))
            legend_rows = math.ceil(shown / columns) if data else 0
            right = 0.025 if panel.right_axis else 0.0
            ax = figure.add_axes(
                box(g["x"], g["y"], g["w"], g["h"], 24, 26 + 11 * legend_rows, right)
            )
            _draw_timeseries(ax, panel, data, start, end)
    figure.savefig(path, facecolor=BACKGROUND)
    plt.close(figure)
