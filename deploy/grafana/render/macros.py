"""Grafana's query-time expansion for Prometheus panels: run queries exactly as Grafana does.

- $__interval: range / max data points (the panel's width in pixels), rounded with Grafana's
  table (rangeutil.roundInterval), never below the datasource's timeInterval (the scrape
  interval).
- $__rate_interval: max($__interval + scrape interval, 4 × scrape interval).
- $__range / $__range_s / $__range_ms: the dashboard's time range.
- Template variables (multi-value, with "All"): values regex-escaped, several as "(a|b)"
  (the Prometheus datasource's formatting); "All" with a custom all value as that value.
"""

import re
from collections.abc import Mapping

# Grafana's dashboard is 24 columns; a typical 1920-px screen leaves ~1800 px for them.
SCREEN_WIDTH_PX = 1800

# rangeutil.roundInterval: (upper bound in ms, interval in ms).
_ROUNDING = [
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1_500, 1_000),
    (3_500, 2_000),
    (7_500, 5_000),
    (12_500, 10_000),
    (17_500, 15_000),
    (25_000, 20_000),
    (45_000, 30_000),
    (90_000, 60_000),
    (210_000, 120_000),
    (450_000, 300_000),
    (750_000, 600_000),
    (1_050_000, 900_000),
    (1_500_000, 1_200_000),
    (2_700_000, 1_800_000),
    (5_400_000, 3_600_000),
    (9_000_000, 7_200_000),
    (16_200_000, 10_800_000),
    (32_400_000, 21_600_000),
    (86_400_000, 43_200_000),
    (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000),
    (3_628_800_000, 2_592_000_000),
]


def round_interval(ms: float) -> int:
    for bound, interval in _ROUNDING:
        if ms < bound:
            return interval
    return 31_536_000_000


def max_data_points(grid_width: int) -> int:
    """Grafana's default max data points: the panel's width in pixels."""
    return max(1, round(SCREEN_WIDTH_PX * grid_width / 24))


def interval_ms(range_s: float, grid_width: int, scrape_interval_s: float) -> int:
    """$__interval in ms for a panel `grid_width` columns wide."""
    ms = round_interval(range_s * 1000 / max_data_points(grid_width))
    return max(ms, round(scrape_interval_s * 1000))


def duration(ms: int) -> str:
    """A Prometheus duration string for `ms` (whole units where possible)."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def regex_escape(value: str) -> str:
    """The Prometheus datasource's prometheusSpecialRegexEscape: escaped inside a PromQL string,
    so a regex `\\.` is written `\\\\.`."""
    value = value.replace("\\", "\\\\\\\\")
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value)


def format_variable(values: str | list[str]) -> str:
    """How the Prometheus datasource interpolates a multi-value variable into a query: a raw
    string (a custom "All" value) as is; values regex-escaped, several as "(a|b)"."""
    if isinstance(values, str):
        return values
    escaped = [regex_escape(value) for value in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def expand(
    expr: str,
    *,
    range_s: float,
    grid_width: int,
    scrape_interval_s: float,
    variables: Mapping[str, str | list[str]] | None = None,
) -> tuple[str, float]:
    """Return the query Grafana sends for `expr`, and its step in seconds ($__interval)."""
    interval = interval_ms(range_s, grid_width, scrape_interval_s)
    scrape_ms = round(scrape_interval_s * 1000)
    rate_interval = max(interval + scrape_ms, 4 * scrape_ms)
    builtins = {
        "__rate_interval": duration(rate_interval),
        "__interval_ms": str(interval),
        "__interval": duration(interval),
        "__range_ms": str(round(range_s * 1000)),
        "__range_s": str(round(range_s)),
        "__range": f"{round(range_s)}s",
    }
    values = {k: format_variable(v) for k, v in (variables or {}).items()} | builtins

    def substitute(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in {expr!r}")
        return values[name]

    # ${name} and $name; longest names first, so $__interval_ms is not read as $__interval.
    names = "|".join(sorted(map(re.escape, values), key=len, reverse=True))
    pattern = re.compile(r"\$\{(" + names + r")\}|\$(" + names + r")(?![A-Za-z0-9_])")
    expanded = pattern.sub(substitute, expr)
    leftover = re.search(r"\$\{?[A-Za-z_]\w*", expanded)
    if leftover:
        raise KeyError(f"unexpanded variable {leftover.group(0)} in {expr!r}")
    return expanded, interval / 1000
