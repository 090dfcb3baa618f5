"""The grafana dashboard-linter's rules that apply here, as a Python check (its Go build needs a
newer Go than Debian has). `problems(dashboard_json)` lists every violation as one line.

Rules: a `datasource` variable that every panel and target uses; `job` and `instance` variables;
every scraped metric selected with job=~"$job" and instance=~"$instance"; every range selector
[$__rate_interval]; counters only inside rate()/increase()/irate(); a title, a description and a
unit on every panel.

Exclusions, each with its reason (as the linter's .lint file gives them):
"""

import re

from .common import DATASOURCE_UID

EXCLUSIONS = {
    "k6_": "k6 metrics arrive by remote write: they have no job or instance, and are selected "
    'by the load test id (testid=~"$testid") instead',
    "job:": "recorded per-job series (SLO burn rates) aggregate the instances away on purpose: "
    "the SLO is per service; they keep the job matcher",
}
__doc__ += "".join(f"\n- {prefix}*: {reason}." for prefix, reason in EXCLUSIONS.items())

RATE_FUNCTIONS = {"rate", "increase", "irate"}
KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "inf",
    "nan",
}
HISTOGRAMS = (
    "flask_http_request_duration_seconds",
    "api_event_loop_lag_seconds",
    "api_db_pool_checkout_seconds",
)
# Counters whose names do not say so (postgres_exporter keeps PostgreSQL's column names).
COUNTER_PATTERNS = [
    r".*_total",
    r".*_bucket",
    "(" + "|".join(HISTOGRAMS) + r")_(sum|count)",
    r"pg_stat_database_(xact_commit|xact_rollback|blks_hit|blks_read|tup_\w+|deadlocks"
    r"|conflicts\w*|temp_\w+|blk_\w+_time)",
    r"nginx_connections_(accepted|handled)",
    r"k6_http_req_\w+_seconds|k6_iteration_duration_seconds",  # native histograms
]
_COUNTER = re.compile("|".join(f"(?:{p})" for p in COUNTER_PATTERNS))
# Grafana unit ids used here (and any custom "suffix:" unit).
UNITS = {"short", "percentunit", "s", "reqps", "ops", "cps", "bytes", "none"}

_SELECTOR = re.compile(r"([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_RANGE = re.compile(r"\[([^\]]*)\]")


def is_counter(metric: str) -> bool:
    return bool(_COUNTER.fullmatch(metric))


def selectors(expr: str) -> list[tuple[str, str, int]]:
    """(metric, matchers, position) of every `metric{...}` selector in a PromQL expression."""
    return [(m.group(1), m.group(2), m.start()) for m in _SELECTOR.finditer(expr)]


def bare_metrics(expr: str) -> list[str]:
    """Metric names used without a {...} selector (they could not carry job/instance)."""
    text = re.sub(r'"[^"]*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = _RANGE.sub("", text)
    names = re.findall(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?!\s*[({\w:])", text)
    return [name for name in names if name.lower() not in KEYWORDS]


def enclosing_function(expr: str, position: int) -> str:
    """The name of the innermost function call whose parentheses enclose `position`."""
    depth = 0
    for index in range(position - 1, -1, -1):
        char = expr[index]
        if char == ")":
            depth += 1
        elif char == "(":
            if depth == 0:
                match = re.search(r"([A-Za-z_]\w*)\s*$", expr[:index])
                return match.group(1) if match else ""
            depth -= 1
    return ""


def _has_matcher(matchers: str, label: str, variable: str) -> bool:
    return re.search(rf'\b{label}\s*=~\s*"\${variable}"', matchers) is not None


def expr_problems(expr: str) -> list[str]:
    found = []
    for window in _RANGE.findall(expr):
        if window != "$__rate_interval":
            found.append(f"range [{window}] instead of [$__rate_interval]")
    for name in bare_metrics(expr):
        found.append(f"{name} has no {{...}} selector (no job/instance matchers)")
    for metric, matchers, position in selectors(expr):
        if metric.startswith("k6_"):
            if not _has_matcher(matchers, "testid", "testid"):
                found.append(f'{metric} lacks testid=~"$testid"')
        else:
            if not _has_matcher(matchers, "job", "job"):
                found.append(f'{metric} lacks job=~"$job"')
            if not metric.startswith("job:") and not _has_matcher(matchers, "instance", "instance"):
                found.append(f'{metric} lacks instance=~"$instance"')
        if is_counter(metric) and enclosing_function(expr, position) not in RATE_FUNCTIONS:
            found.append(f"counter {metric} outside rate()/increase()")
    return found


def _variable_problems(dashboard: dict) -> list[str]:
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    found = []
    source = variables.get("datasource")
    if not source or source["type"] != "datasource" or source.get("query") != "prometheus":
        found.append("no `datasource` variable of type prometheus")
    elif source.get("current", {}).get("value") != DATASOURCE_UID:
        found.append(f"the datasource variable does not default to uid {DATASOURCE_UID!r}")
    for name in ("job", "instance"):
        variable = variables.get(name)
        if not variable or variable["type"] != "query":
            found.append(f"no `{name}` query variable")
            continue
        if variable.get("datasource", {}).get("uid") != "${datasource}":
            found.append(f"variable {name} does not query $datasource")
        if not (variable.get("multi") and variable.get("includeAll")):
            found.append(f"variable {name} is not multi-value with All")
    return found


def problems(dashboard: dict) -> list[str]:
    """Every violation of the rules in `dashboard` (its JSON model), one line each."""
    found = [f"dashboard: {p}" for p in _variable_problems(dashboard)]
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        where = f"panel {panel.get('title') or panel.get('id')!r}"
        if not panel.get("title"):
            found.append(f"{where}: no title")
        if not panel.get("description"):
            found.append(f"{where}: no description")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        if unit not in UNITS and not unit.startswith("suffix:"):
            found.append(f"{where}: unit {unit!r} is not set or not a Grafana unit")
        if panel.get("datasource", {"uid": "${datasource}"}).get("uid") != "${datasource}":
            found.append(f"{where}: panel datasource is not $datasource")
        if not panel.get("targets"):
            found.append(f"{where}: no queries")
        for target in panel.get("targets", []):
            if target.get("datasource", {}).get("uid") != "${datasource}":
                found.append(f"{where} {target.get('refId')}: datasource is not $datasource")
            found += [f"{where} {target.get('refId')}: {p}" for p in expr_problems(target["expr"])]
    return found
