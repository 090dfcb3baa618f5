"""Real, short runs of the runner against the API on gunicorn, with Prometheus (a few s each)."""

import pytest

from loadtest.locust import slo

pytestmark = pytest.mark.integration

PNG_MIN_BYTES = 20_000  # an empty figure is smaller


def assert_report(results, *pngs):
    report = (results / "report.md").read_text()
    assert "**Verdict:" in report
    for png in pngs:
        assert (results / png).stat().st_size > PNG_MIN_BYTES, png


def test_k6_smoke_passes_and_reports_client_and_server(run_loadtest, native_stack):
    code, results, summary = run_loadtest("k6", "smoke", RATE=10, DURATION="3s")
    assert code == 0, summary["verdict"]
    assert summary["verdict"].startswith("PASS: k6 smoke")
    assert set(summary["populations"]) == set(slo.POPULATIONS)
    assert summary["totals"]["requests"] > 20
    assert summary["server_peaks"]["open_connections"] > 0
    assert_report(results, "timeline.png", "endpoints.png")
    # k6's remote-write output reached Prometheus, labelled with the run's testid.
    assert native_stack.prometheus.query(f'k6_http_reqs_total{{testid="{summary["testid"]}"}}')


def test_k6_failing_threshold_exits_non_zero(run_loadtest):
    code, results, summary = run_loadtest("k6", "smoke", RATE=4, DURATION="2s", SLO_P95_MS=0)
    assert code == 99
    assert summary["verdict"].startswith("FAIL: k6 smoke")
    assert not summary["passed"]
    assert_report(results, "timeline.png")


def test_k6_stress_names_the_knee(run_loadtest):
    code, results, summary = run_loadtest(
        "k6", "stress", START_RATE=10, STEP_RATE=10, STEPS=2, STEP_DURATION="3s", RAMP="1s"
    )
    assert code == 0, summary["verdict"]
    assert summary["stress"]["knee_phase"] == "step_02"  # both steps are far below any limit
    assert [s["target_rate"] for s in summary["stress"]["steps"]] == [10, 20]
    assert_report(results, "timeline.png", "knee.png")


def test_locust_step_load_reports_the_same_populations(run_loadtest):
    code, results, summary = run_loadtest(
        "locust", START_RATE=4, STEP_RATE=4, STEPS=2, STEP_DURATION="2s", RAMP="1s"
    )
    assert code == 0, summary["verdict"]
    assert set(summary["populations"]) == set(slo.POPULATIONS)
    assert (results / "locust.html").exists()
    assert (results / "locust_stats.csv").exists()
    assert_report(results, "timeline.png", "endpoints.png")
