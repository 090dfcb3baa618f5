"""The verdict: thresholds decide; a stress run passes when its knee is high enough."""

import pytest

from loadtest.report.build import decide
from loadtest.report.knee import Step, find_knee
from loadtest.report.model import ClientSeries, RequestStats, ThresholdResult, ToolResult


def result(thresholds=(), steps=()) -> ToolResult:
    totals = RequestStats(100, 0, 2.0, 9.0, 20.0, 30.0, 10.0)
    series = ClientSeries(0.0, 1.0, [], {}, [], [], [], {}, [])
    return ToolResult("k6", totals, {}, {}, {}, list(thresholds), series, list(steps))


def run(exit_code, scenario="load", **settings) -> dict:
    return {"tool": "k6", "scenario": scenario, "exit_code": exit_code, "settings": settings}


def test_pass_when_every_threshold_held():
    outcome = decide(run(0), result([ThresholdResult("checks", "rate>0.99", 1.0, True)]), None)
    assert outcome.passed
    assert outcome.verdict.startswith("PASS: k6 load: 100 requests at 10.0/s")


def test_fail_names_the_crossed_thresholds():
    crossed = ThresholdResult("http_req_duration{scenario:tfb_clients}", "p(95)<250", 712.0, False)
    outcome = decide(run(99), result([crossed]), None)
    assert not outcome.passed
    assert (
        "1 of 1 thresholds crossed: http_req_duration{scenario:tfb_clients} p(95)<250 (712 ms)"
        in (outcome.verdict)
    )


def test_a_tool_error_is_an_error_not_a_verdict():
    outcome = decide(run(107), result(), None)
    assert (outcome.passed, outcome.verdict) == (
        False,
        "ERROR: k6 load exited with 107 (see the output above)",
    )


def steps():
    ok = Step("step_01", 50, 50, 100, 0.0, 20.0)
    broken = Step("step_02", 100, 60, 100, 0.0, 900.0, ["p(95)<250 of tfb_clients: 900 ms"])
    return [ok, broken]


@pytest.mark.parametrize(
    ("settings", "passed"),
    [({}, True), ({"STRESS_MIN_RATE": "50"}, True), ({"STRESS_MIN_RATE": "60"}, False)],
)
def test_stress_passes_when_the_knee_reaches_the_minimum_rate(settings, passed):
    outcome = decide(run(99, "stress", **settings), result(steps=steps()), find_knee(steps()))
    assert outcome.passed is passed
    assert "knee at step_01: 50 iterations/s" in outcome.verdict
