"""Read a k6 run: the end-of-test summary, the options, and every sample (CSV output).

Files (written by the runner into the results directory):
  k6-options.json     `k6 inspect` of the script: scenarios (with the phase windows) and thresholds
  k6-summary.json     `--summary-export`: every threshold's verdict, setup() data
  k6-samples.csv.gz   `--out csv`: one row per metric sample, timestamps in ms
"""

import csv
import gzip
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np

from . import series as series_lib
from .knee import Step
from .model import ClientSeries, RequestStats, ThresholdResult, ToolResult

OPTIONS_FILE = "k6-options.json"
SUMMARY_FILE = "k6-summary.json"
SAMPLES_FILE = "k6-samples.csv.gz"

STEP_PHASE = re.compile(r"^step_\d+$")
RULE = re.compile(r"^\s*(p\(\d+(?:\.\d+)?\)|avg|min|max|med|rate|count|value)\s*(<=|>=|==|!=|<|>)")
# k6 error codes worth a word when there is no HTTP status (k6 docs, "Error codes").
ERROR_CODES = {"1050": "timeout", "1211": "dial timeout", "1212": "refused", "1220": "reset"}


class Samples:
    """The samples the report uses, as numpy arrays (times in ms since the epoch)."""

    def __init__(self):
        self.req_time, self.req_duration, self.req_failed = [], [], []
        self.req_what, self.req_endpoint, self.req_population, self.req_phase = [], [], [], []
        self.iter_time, self.iter_population, self.iter_phase = [], [], []
        self.vus_time, self.vus_value = [], []
        self.dropped_time, self.dropped_value = [], []

    def finish(self) -> "Samples":
        for name, value in vars(self).items():
            setattr(self, name, np.asarray(value))
        return self


def read_samples(path: Path) -> Samples:
    """Parse k6's CSV output; samples of setup() and teardown() (no scenario) are skipped."""
    samples = Samples()
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            metric = row["metric_name"]
            if metric == "vus":
                samples.vus_time.append(float(row["timestamp"]))
                samples.vus_value.append(float(row["metric_value"]))
                continue
            scenario = row.get("scenario", "")
            if not scenario:
                continue
            phase = dict(parse_qsl(row.get("extra_tags", ""))).get("phase", "")
            if metric == "http_req_duration":
                failed = row["expected_response"] == "false"
                status = row["status"]
                if status in ("", "0"):
                    code = row.get("error_code", "")
                    status = ERROR_CODES.get(code, f"error {code}")
                samples.req_time.append(float(row["timestamp"]))
                samples.req_duration.append(float(row["metric_value"]))
                samples.req_failed.append(failed)
                samples.req_what.append(status if failed else "")
                samples.req_endpoint.append(f"{row['method']} {row['name']}")
                samples.req_population.append(scenario)
                samples.req_phase.append(phase)
            elif metric == "iterations":
                samples.iter_time.append(float(row["timestamp"]))
                samples.iter_population.append(scenario)
                samples.iter_phase.append(phase)
            elif metric == "dropped_iterations":
                samples.dropped_time.append(float(row["timestamp"]))
                samples.dropped_value.append(float(row["metric_value"]))
    return samples.finish()


def read_thresholds(summary: dict) -> list[ThresholdResult]:
    """Every threshold and k6's verdict. In the summary export `true` means *crossed*."""
    results = []
    for metric, values in summary["metrics"].items():
        for rule, crossed in values.get("thresholds", {}).items():
            results.append(
                ThresholdResult(metric, rule, threshold_value(values, rule), not crossed)
            )
    return sorted(results, key=lambda r: (r.metric, r.rule))


def threshold_value(values: dict, rule: str) -> float | None:
    """The measured value a rule compares, or None if no sample matched the submetric."""
    if values.get("count") == 0 or ("passes" in values and values["passes"] + values["fails"] == 0):
        return None
    match = RULE.match(rule)
    if not match:
        return None
    aggregate = match.group(1)
    if aggregate == "rate" and "value" in values:
        return float(values["value"])
    return float(values[aggregate]) if aggregate in values else None


def metric_tags(metric: str) -> dict[str, str]:
    """{'phase': 'step_01', 'scenario': 'tfb_clients'} of 'http_req_duration{phase:…,…}'."""
    if "{" not in metric:
        return {}
    inner = metric[metric.index("{") + 1 : metric.rindex("}")]
    return dict(part.split(":", 1) for part in inner.split(","))


class Timeline:
    """The phase windows of the scenarios (lib/timeline.js) and the target rate over time."""

    def __init__(self, options: dict):
        scenarios = options.get("scenarios") or {}
        first = next(iter(scenarios.values()), {})
        self.windows = json.loads((first.get("env") or {}).get("PHASES", "[]"))
        per = _seconds(first.get("timeUnit", "1s")) if first else 1.0
        self.start_rate = sum(s.get("startRate") or 0 for s in scenarios.values()) / per

    def target(self, t: float) -> float:
        """Target iterations/s at `t` seconds after the scenarios started."""
        previous = self.start_rate
        for window in self.windows:
            if t < window["end"]:
                span = window["end"] - window["start"]
                fraction = (t - window["start"]) / span if span else 1.0
                return previous + (window["rate"] - previous) * max(0.0, fraction)
            previous = window["rate"]
        return 0.0

    def seconds_of(self, phase: str, until: float) -> float:
        """How long `phase` lasted (all its windows), up to `until` s after the start."""
        return sum(
            max(0.0, min(w["end"], until) - w["start"]) for w in self.windows if w["phase"] == phase
        )


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(
        float(amount) * units[unit]
        for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    )


def read(results: Path, samples: Samples | None = None) -> ToolResult:
    """Everything the report needs from a k6 run's files (`samples`: already read)."""
    summary = json.loads((results / SUMMARY_FILE).read_text())
    options_path = results / OPTIONS_FILE
    options = json.loads(options_path.read_text()) if options_path.exists() else {}
    timeline = Timeline(options)
    thresholds = read_thresholds(summary)
    if samples is None:
        samples = read_samples(results / SAMPLES_FILE)

    if samples.req_time.size == 0:
        empty = RequestStats(0, 0, None, None, None, None, 0.0)
        no_series = ClientSeries(0.0, 1.0, [], {}, [], [], [], {}, [])
        return ToolResult("k6", empty, {}, {}, {}, thresholds, no_series, notes=["no requests"])

    started_ms = (summary.get("setup_data") or {}).get("startedAt") or float(samples.req_time.min())
    # k6 samples `vus` every second until the test ends (or aborts); the scenarios end with
    # the timeline at the latest (teardown runs after them).
    last_ms = max(samples.req_time.max(), samples.vus_time.max(initial=0))
    elapsed = (float(last_ms) - started_ms) / 1000
    if timeline.windows:
        elapsed = min(elapsed, timeline.windows[-1]["end"])
    offsets = (samples.req_time - started_ms) / 1000

    def stats(mask, seconds=elapsed) -> RequestStats:
        return RequestStats.from_samples(
            samples.req_duration[mask], samples.req_failed[mask], seconds
        )

    everything = np.ones(samples.req_time.size, dtype=bool)
    populations = {
        str(p): stats(samples.req_population == p) for p in np.unique(samples.req_population)
    }
    endpoints = {str(e): stats(samples.req_endpoint == e) for e in np.unique(samples.req_endpoint)}
    seen = {str(phase) for phase in np.unique(samples.req_phase) if phase}
    in_order = list(dict.fromkeys(w["phase"] for w in timeline.windows)) + sorted(seen)
    phases = {
        phase: stats(samples.req_phase == phase, timeline.seconds_of(phase, elapsed))
        for phase in dict.fromkeys(in_order)
        if phase in seen
    }
    client = series_lib.bucket(
        offsets=offsets,
        durations=samples.req_duration,
        failed=samples.req_failed,
        what=samples.req_what,
        group=samples.req_population,
        length=elapsed,
    )
    step = client.step
    client.start = started_ms / 1000
    client.iterations = series_lib.rate_per_bucket(
        (samples.iter_time - started_ms) / 1000, np.ones(samples.iter_time.size), step, elapsed
    )
    client.dropped = series_lib.rate_per_bucket(
        (samples.dropped_time - started_ms) / 1000, samples.dropped_value, step, elapsed
    )
    client.active = series_lib.max_per_bucket(
        (samples.vus_time - started_ms) / 1000, samples.vus_value, step, elapsed
    )
    if timeline.windows:
        client.target = [timeline.target(t + step / 2) for t in client.times]

    notes = []
    dropped = int(samples.dropped_value.sum()) if samples.dropped_value.size else 0
    if dropped:
        notes.append(
            f"k6 dropped {dropped} iterations: no free VU when one was due (MAX_VUS reached)"
        )
    return ToolResult(
        tool="k6",
        totals=stats(everything),
        populations=populations,
        endpoints=endpoints,
        phases=phases,
        thresholds=thresholds,
        series=client,
        steps=stress_steps(samples, timeline, thresholds, started_ms, elapsed),
        notes=notes,
    )


def stress_steps(samples, timeline, thresholds, started_ms, elapsed) -> list[Step]:
    """The stress steps (phases step_NN) with what the knee computation needs."""
    breaches = defaultdict(list)
    for result in thresholds:
        phase = metric_tags(result.metric).get("phase")
        if phase and not result.ok:
            breaches[phase].append(describe_breach(result))
    steps = []
    for window in timeline.windows:
        phase = window["phase"]
        if not STEP_PHASE.match(phase):
            continue
        in_step = samples.req_phase == phase
        seconds = timeline.seconds_of(phase, elapsed)
        iterations = int(np.count_nonzero(samples.iter_phase == phase))
        durations = samples.req_duration[in_step]
        steps.append(
            Step(
                phase=phase,
                target_rate=float(window["rate"]),
                achieved_rate=iterations / seconds if seconds > 0 else 0.0,
                requests=int(durations.size),
                error_rate=float(samples.req_failed[in_step].mean()) if durations.size else 0.0,
                p95_ms=float(np.percentile(durations, 95)) if durations.size else None,
                breaches=breaches[phase],
            )
        )
    return steps


def describe_breach(result: ThresholdResult) -> str:
    """'p(95)<250 of item_writers: 712 ms' for a step's threshold that failed."""
    tags = metric_tags(result.metric)
    who = tags.get("scenario", "all requests")
    if result.value is None:
        measured = "no data"
    elif result.unit == "ratio":
        measured = f"{result.value:.2%}"
    else:
        measured = f"{result.value:.0f} ms" if math.isfinite(result.value) else "n/a"
    return f"{result.rule} of {who}: {measured}"
