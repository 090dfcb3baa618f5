"""Turn a results directory into summary.json, the PNGs and report.md, with a verdict."""

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from loadtest.locust import slo

from . import k6, locust, markdown, plots
from . import prometheus as prom
from .knee import Knee, find_knee
from .model import ToolResult

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.md"
TIMELINE_PNG = "timeline.png"
ENDPOINTS_PNG = "endpoints.png"
KNEE_PNG = "knee.png"


@dataclass
class Outcome:
    """What the runner needs back: the one-line verdict and whether the run passed."""

    verdict: str
    passed: bool


def read_tool(results: Path, run: dict) -> ToolResult:
    if run["tool"] == "k6":
        return k6.read(results)
    return locust.read(results, run.get("settings", {}))


def fetch_server(run: dict, start: float, notes: list[str]) -> dict | None:
    """The server-side panels for the run's window, or None (with a note saying why)."""
    url, job = run.get("prometheus_url"), run.get("api_job", "api")
    if not url:
        notes.append("no PROMETHEUS_URL: server-side panels are empty")
        return None
    client = prom.Prometheus(url)
    try:
        interval = client.scrape_interval(job)
        if interval is None:
            notes.append(f"Prometheus at {url} has no targets of job {job!r}")
            return None
        return prom.server_series(url, job, start, run["ended"] + interval, interval)
    except Exception as exc:  # the report must still be written without the server side
        notes.append(f"Prometheus at {url} could not be queried: {exc}")
        return None


def decide(run: dict, result: ToolResult, knee: Knee | None) -> Outcome:
    """The verdict. Thresholds decide, as the tool's exit code says; a stress run passes when
    its knee is at least STRESS_MIN_RATE (default: the first step's rate)."""
    code = run.get("exit_code")
    name = f"{run['tool']} {run['scenario']}"
    crossed = [t for t in result.thresholds if not t.ok]
    if code not in (0, 99):
        return Outcome(f"ERROR: {name} exited with {code} (see the output above)", False)
    if knee is not None:
        minimum = float(run.get("settings", {}).get("STRESS_MIN_RATE") or 0) or (
            result.steps[0].target_rate if result.steps else 0
        )
        passed = knee.knee is not None and knee.rate >= minimum
        word = "PASS" if passed else "FAIL"
        return Outcome(f"{word}: {name}: {knee.describe()} (needed ≥ {minimum:g}/s)", passed)
    t = result.totals
    measured = (
        f"{t.requests} requests at {t.rps:.1f}/s, errors {t.error_rate:.2%}, "
        f"p95 {t.p95_ms or 0:.0f} ms, p99 {t.p99_ms or 0:.0f} ms"
    )
    if code == 0 and not crossed:
        return Outcome(f"PASS: {name}: {measured}; {len(result.thresholds)} thresholds met", True)
    worst = "; ".join(f"{c.metric} {c.rule} ({markdown.measured(c)})" for c in crossed[:3])
    more = f" and {len(crossed) - 3} more" if len(crossed) > 3 else ""
    return Outcome(
        f"FAIL: {name}: {len(crossed)} of {len(result.thresholds)} thresholds crossed: "
        f"{worst}{more}; {measured}",
        False,
    )


def p95_budgets(settings: dict) -> dict[str, float]:
    """Each endpoint's p95 budget, as lib/thresholds.js computes it."""
    objective = slo.Slo.from_env(settings)
    return {e.key: objective.p95_ms + e.delay_ms for e in slo.endpoints(settings)}


def build(results: Path) -> Outcome:
    """Write summary.json, the PNGs and report.md into `results`; return the verdict."""
    run = json.loads((results / RUN_FILE).read_text())
    result = read_tool(results, run)
    notes = list(result.notes)
    server = fetch_server(run, result.series.start or run["started"], notes)
    knee = find_knee(result.steps) if result.steps else None
    outcome = decide(run, result, knee)
    windows = []
    if run["tool"] == "k6":
        windows = k6.Timeline(_options(results)).windows

    title = f"{run['tool']} {run['scenario']} · {run.get('testid', '')} · {run.get('base_url', '')}"
    plots.timeline_png(results / TIMELINE_PNG, title, result.series, server, windows)
    budgets = p95_budgets(run.get("settings", {}))
    if result.endpoints:
        plots.endpoints_png(
            results / ENDPOINTS_PNG, "Latency per endpoint", result.endpoints, budgets
        )
    if knee is not None:
        budget = slo.Slo.from_env(run.get("settings", {})).p95_ms
        plots.knee_png(results / KNEE_PNG, f"Stress steps · {title}", knee, result.steps, budget)

    summary = summarise(run, result, knee, outcome, server, notes)
    (results / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    (results / REPORT_FILE).write_text(markdown.render(summary, result, knee, budgets))
    return outcome


def _options(results: Path) -> dict:
    path = results / k6.OPTIONS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def summarise(run, result: ToolResult, knee, outcome, server, notes) -> dict:
    """The one summary of a run, keyed by the population (scenario) names of both tools."""
    return {
        "tool": run["tool"],
        "scenario": run["scenario"],
        "testid": run.get("testid"),
        "base_url": run.get("base_url"),
        "started": _iso(run["started"]),
        "ended": _iso(run["ended"]),
        "duration_s": round(run["ended"] - run["started"], 1),
        "exit_code": run.get("exit_code"),
        "passed": outcome.passed,
        "verdict": outcome.verdict,
        "settings": run.get("settings", {}),
        "totals": result.totals.to_dict(),
        "populations": {name: s.to_dict() for name, s in result.populations.items()},
        "endpoints": {name: s.to_dict() for name, s in result.endpoints.items()},
        "phases": {name: s.to_dict() for name, s in result.phases.items()},
        "thresholds": [
            {"metric": t.metric, "rule": t.rule, "value": t.value, "ok": t.ok}
            for t in result.thresholds
        ],
        "stress": None
        if knee is None
        else {
            "knee_rate": knee.rate if knee.knee else None,
            "knee_phase": knee.knee.phase if knee.knee else None,
            "broken_phase": knee.broken.phase if knee.broken else None,
            "description": knee.describe(),
            "steps": [
                {
                    "phase": s.phase,
                    "target_rate": s.target_rate,
                    "achieved_rate": s.achieved_rate,
                    "requests": s.requests,
                    "error_rate": s.error_rate,
                    "p95_ms": s.p95_ms,
                    "met_slo": s.met_slo,
                    "problems": s.problems(),
                }
                for s in result.steps
            ],
        },
        "server_peaks": None if server is None else prom.peaks(server),
        "notes": notes,
    }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
