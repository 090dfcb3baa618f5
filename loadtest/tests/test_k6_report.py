"""Reading k6's output: the summary export, the options, and the CSV samples."""

import csv
import gzip
import json

import pytest

from loadtest.report import k6
from loadtest.report.knee import find_knee

# The columns of k6's CSV output with the scenarios' systemTags (lib/thresholds.js).
HEADER = [
    "metric_name",
    "timestamp",
    "metric_value",
    "check",
    "error_code",
    "expected_response",
    "group",
    "method",
    "name",
    "scenario",
    "status",
    "extra_tags",
    "metadata",
]
START_MS = 1_700_000_000_000
WINDOWS = [
    {"phase": "ramp", "start": 0, "end": 1, "rate": 10},
    {"phase": "step_01", "start": 1, "end": 3, "rate": 10},
    {"phase": "ramp", "start": 3, "end": 4, "rate": 20},
    {"phase": "step_02", "start": 4, "end": 6, "rate": 20},
]


def sample(metric, at_s, value, phase="", scenario="tfb_clients", status="200", group=""):
    failed = status not in ("200", "201", "204")
    return {
        "metric_name": metric,
        "timestamp": str(int(START_MS + at_s * 1000)),
        "metric_value": str(value),
        "check": "",
        "error_code": "1503" if failed else "",
        "expected_response": "false" if failed else "true",
        "group": group,
        "method": "GET",
        "name": "/json",
        "scenario": scenario,
        "status": status,
        "extra_tags": f"phase={phase}&testid=t" if phase else "testid=t",
        "metadata": "",
    }


def request(at_s, duration_ms, phase, status="200"):
    return [
        sample("http_reqs", at_s, 1, phase, status=status),
        sample("http_req_duration", at_s, duration_ms, phase, status=status),
        sample("iterations", at_s, 1, phase, status=""),
    ]


@pytest.fixture
def stress_run(tmp_path):
    """Step 1: 20 fast requests in 2 s (target 10/s). Step 2: 20 slow ones, 5 of them 503s,
    in 2 s against a target of 20/s. Plus a setup() request that must be ignored."""
    rows = [sample("http_req_duration", -0.5, 3, scenario="", group="::setup")]
    rows += [r for i in range(20) for r in request(1.05 + i * 0.1, 10, "step_01")]
    rows += [
        r
        for i in range(20)
        for r in request(4.05 + i * 0.1, 400, "step_02", "503" if i % 4 == 0 else "200")
    ]
    rows += [sample("vus", 4.5, 7, scenario=""), sample("vus", 6.5, 0, scenario="")]
    with gzip.open(tmp_path / k6.SAMPLES_FILE, "wt", newline="") as f:
        writer = csv.DictWriter(f, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    summary = {
        "setup_data": {"startedAt": START_MS},
        "metrics": {
            "http_req_duration{phase:step_01,scenario:tfb_clients}": {
                "p(95)": 10.0,
                "count": 20,
                "thresholds": {"p(95)<250": False},  # false: not crossed
            },
            "http_req_duration{phase:step_02,scenario:tfb_clients}": {
                "p(95)": 400.0,
                "count": 20,
                "thresholds": {"p(95)<250": True},
            },
            "http_req_failed{phase:step_02}": {
                "passes": 5,
                "fails": 15,
                "value": 0.25,
                "thresholds": {"rate<0.01": True},
            },
            "http_req_failed{phase:step_03}": {
                "passes": 0,
                "fails": 0,
                "value": 0,
                "thresholds": {"rate<0.01": False},
            },
        },
    }
    (tmp_path / k6.SUMMARY_FILE).write_text(json.dumps(summary))
    options = {
        "scenarios": {
            "tfb_clients": {
                "startRate": 0,
                "timeUnit": "1m0s",
                "env": {"PHASES": json.dumps(WINDOWS)},
            }
        }
    }
    (tmp_path / k6.OPTIONS_FILE).write_text(json.dumps(options))
    return tmp_path


def test_read_counts_every_scenario_request_and_skips_setup(stress_run):
    result = k6.read(stress_run)
    assert result.totals.requests == 40
    assert result.totals.failures == 5
    assert set(result.populations) == {"tfb_clients"}
    assert set(result.endpoints) == {"GET /json"}
    assert result.phases["step_01"].p95_ms == pytest.approx(10)
    assert result.phases["step_02"].error_rate == pytest.approx(0.25)


def test_thresholds_are_ok_unless_crossed_and_empty_ones_have_no_value(stress_run):
    thresholds = {(t.metric, t.rule): t for t in k6.read(stress_run).thresholds}
    assert thresholds["http_req_duration{phase:step_01,scenario:tfb_clients}", "p(95)<250"].ok
    crossed = thresholds["http_req_failed{phase:step_02}", "rate<0.01"]
    assert (crossed.ok, crossed.value) == (False, 0.25)
    assert thresholds["http_req_failed{phase:step_03}", "rate<0.01"].value is None


def test_steps_carry_their_breaches_and_the_knee_is_step_01(stress_run):
    steps = k6.read(stress_run).steps
    assert [s.phase for s in steps] == ["step_01", "step_02"]
    assert steps[0].achieved_rate == pytest.approx(10)
    assert steps[0].met_slo
    assert steps[1].achieved_rate == pytest.approx(10)
    assert "p(95)<250 of tfb_clients: 400 ms" in steps[1].breaches
    assert "rate<0.01 of all requests: 25.00%" in steps[1].breaches
    assert any("achieved 10.0 of 20" in p for p in steps[1].problems())
    assert find_knee(steps).knee.phase == "step_01"


def test_series_are_bucketed_from_the_scenario_start(stress_run):
    series = k6.read(stress_run).series
    assert series.step == 1
    assert sum(series.requests["tfb_clients"]) * series.step == 40
    assert sum(series.errors["503"]) * series.step == 5
    assert series.target[1] == pytest.approx(10)  # during step_01
    assert max(series.active) == 7


@pytest.mark.parametrize(
    ("metric", "tags"),
    [
        ("http_req_failed", {}),
        ("http_req_duration{scenario:tfb_clients}", {"scenario": "tfb_clients"}),
        (
            "http_req_duration{method:GET,name:/api/items/{id}}",
            {"method": "GET", "name": "/api/items/{id}"},
        ),
    ],
)
def test_metric_tags(metric, tags):
    assert k6.metric_tags(metric) == tags


def test_timeline_target_ramps_linearly_then_holds():
    timeline = k6.Timeline(
        {
            "scenarios": {
                "a": {
                    "startRate": 0,
                    "timeUnit": "1m0s",
                    "env": {
                        "PHASES": json.dumps(
                            [
                                {"phase": "ramp_up", "start": 0, "end": 10, "rate": 100},
                                {"phase": "steady", "start": 10, "end": 20, "rate": 100},
                            ]
                        )
                    },
                }
            }
        }
    )
    assert [timeline.target(t) for t in (0, 5, 15, 25)] == [0, 50, 100, 0]
    assert timeline.seconds_of("steady", until=15) == 5
