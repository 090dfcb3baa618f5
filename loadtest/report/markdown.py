"""report.md: the verdict first, then the plots, then the tables behind them."""

from .knee import Knee
from .model import RequestStats, ThresholdResult, ToolResult

PEAK_LABELS = {
    "saturation": ("Saturation (in-flight / worker_connections)", "%"),
    "open_connections": ("Open client connections", ""),
    "listen_backlog": ("Listen backlog", ""),
    "pool_wait_p95": ("DB pool wait p95", "ms"),
    "event_loop_lag_p95": ("Event-loop lag p95", "ms"),
    "server_rps": ("Requests/s served (per replica)", "/s"),
    "server_errors": ("5xx or pool timeouts per second", "/s"),
}


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def measured(t: ThresholdResult) -> str:
    if t.value is None:
        return "no data"
    return f"{t.value:.2%}" if t.unit == "ratio" else f"{ms(t.value)} ms"


def stats_table(title: str, rows: dict[str, RequestStats], budgets=None) -> list[str]:
    budgets = budgets or {}
    lines = [
        f"| {title} | requests | req/s | errors | p50 ms | p95 ms | p99 ms | max ms |"
        + (" p95 budget |" if budgets else ""),
        "|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if budgets else ""),
    ]
    for name, s in rows.items():
        budget = f" {budgets[name]:g} |" if name in budgets else (" |" if budgets else "")
        lines.append(
            f"| `{name}` | {s.requests:,} | {s.rps:,.1f} | {s.error_rate:.2%} | {ms(s.p50_ms)} "
            f"| {ms(s.p95_ms)} | {ms(s.p99_ms)} | {ms(s.max_ms)} |{budget}"
        )
    return lines + [""]


def render(summary: dict, result: ToolResult, knee: Knee | None, budgets: dict) -> str:
    s = summary
    lines = [
        f"# Load test report: {s['scenario']} ({s['tool']})",
        "",
        f"**Verdict: {s['verdict']}**",
        "",
        "| | |",
        "|---|---|",
        f"| target | `{s['base_url']}` |",
        f"| testid (Grafana's Load test dashboard) | `{s['testid']}` |",
        f"| window (UTC) | {s['started']} → {s['ended']} ({s['duration_s']} s) |",
        f"| exit code | {s['exit_code']} |",
        "| settings | "
        + (", ".join(f"`{k}={v}`" for k, v in sorted(s["settings"].items())) or "defaults")
        + " |",
        "",
        "## Client and server over time",
        "",
        "![timeline](timeline.png)",
        "",
        "Left: what the load generator measured (requests/s stacked by population with the",
        "target and what the API counted, latency percentiles, failures, concurrency). Right:",
        "the API's own metrics from Prometheus for the same window, one line per replica.",
        "Saturation or backlog rising while client latency rises means the workers are full;",
        "pool wait rising means requests queue for a database connection; event-loop lag",
        "rising means something blocks the gevent hub (CPU-bound work or a blocking call).",
        "",
    ]
    if knee is not None:
        lines += [
            "## Stress steps and the knee",
            "",
            f"**{knee.describe()}**",
            "",
            "![knee](knee.png)",
            "",
            "| step | target it/s | achieved it/s | requests | errors | p95 ms | met the SLO |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for step in result.steps:
            verdict = "yes" if step.met_slo else "no: " + "; ".join(step.problems())
            lines.append(
                f"| {step.phase} | {step.target_rate:g} | {step.achieved_rate:.1f} "
                f"| {step.requests:,} | {step.error_rate:.2%} | {ms(step.p95_ms)} | {verdict} |"
            )
        lines.append("")
    lines += ["## Totals and populations", ""]
    lines += stats_table("population", {"all requests": result.totals, **result.populations})
    if result.endpoints:
        lines += ["## Endpoints", "", "![endpoints](endpoints.png)", ""]
        lines += stats_table("endpoint", result.endpoints, budgets)
    if result.phases:
        lines += ["## Phases", ""]
        lines += stats_table("phase", result.phases)
    lines += ["## Thresholds", ""]
    if result.thresholds:
        lines += ["| metric | rule | measured | held |", "|---|---|---:|---|"]
        for t in result.thresholds:
            lines.append(f"| `{t.metric}` | `{t.rule}` | {measured(t)} | {'✓' if t.ok else '✗'} |")
    else:
        lines.append("None were evaluated.")
    lines.append("")
    if s["server_peaks"]:
        lines += ["## Server peaks (Prometheus)", "", "| metric | peak |", "|---|---:|"]
        for key, value in s["server_peaks"].items():
            label, unit = PEAK_LABELS.get(key, (key, ""))
            shown = "no data" if value is None else f"{value:,.1f} {unit}".strip()
            lines.append(f"| {label} | {shown} |")
        lines.append("")
    if s["notes"]:
        lines += ["## Notes", ""] + [f"- {note}" for note in s["notes"]] + [""]
    return "\n".join(lines)
