"""k6 and locust send the same mix and judge it by the same SLO (loadtest/locust/slo.py)."""

import ast
import re
from pathlib import Path

import pytest

from loadtest.locust import slo
from loadtest.report import runner

LOADTEST = Path(__file__).resolve().parent.parent
MIX_JS = (LOADTEST / "k6" / "lib" / "mix.js").read_text()
CONFIG_JS = (LOADTEST / "k6" / "lib" / "config.js").read_text()
LOCUSTFILE = (LOADTEST / "locust" / "locustfile.py").read_text()


def test_python_endpoints_match_the_k6_mix():
    k6_endpoints = set(re.findall(r"population: '(\w+)', method: '(\w+)', name: '([^']+)'", MIX_JS))
    assert k6_endpoints == {(e.population, e.method, e.name) for e in slo.endpoints()}


def test_populations_are_named_alike_in_k6_and_locust():
    k6_mix = re.search(r"MIX = normalise\(\{(.*?)\}\)", CONFIG_JS, re.S).group(1)
    assert tuple(re.findall(r"^\s+(\w+):", k6_mix, re.M)) == slo.POPULATIONS
    user_classes = [
        node.name
        for node in ast.parse(LOCUSTFILE).body
        if isinstance(node, ast.ClassDef)
        and any(getattr(b, "id", "") == "MixUser" for b in node.bases)
    ]
    assert tuple(user_classes) == slo.POPULATIONS
    for population in slo.POPULATIONS:
        assert f"export function {population}(" in MIX_JS


def test_locust_reads_only_settings_k6_knows():
    locust_settings = set(re.findall(r'env_(?:int|number|seconds)\("([A-Z0-9_]+)"', LOCUSTFILE))
    assert locust_settings
    assert locust_settings <= set(runner.script_settings())


def test_endpoint_delays_and_budgets_follow_the_settings():
    env = {"UPSTREAM_MS": "80", "SLO_P95_MS": "100"}
    delays = {e.key: e.delay_ms for e in slo.endpoints(env)}
    assert delays["GET /sleep"] == 80
    assert delays["GET /db/sleep"] == 50
    assert slo.Slo.from_env(env) == slo.Slo(p95_ms=100, p99_ms=750, error_rate=0.01)


@pytest.mark.parametrize(
    ("histogram", "fraction", "expected"),
    [
        ({}, 0.95, 0),
        ({10: 100}, 0.5, 10),
        # as locust counts: the slowest 5 % reach into the 100 ms bucket
        ({1: 50, 2: 45, 100: 5}, 0.90, 2),
        ({1: 50, 2: 45, 100: 5}, 0.95, 100),
    ],
)
def test_histogram_percentile(histogram, fraction, expected):
    assert slo.histogram_percentile(histogram, fraction) == expected


def entry(method, name, requests, failures, histogram):
    return {
        "method": method,
        "name": name,
        "num_requests": requests,
        "num_failures": failures,
        "response_times": {str(k): v for k, v in histogram.items()},
    }


def test_summarise_merges_endpoints_into_populations_and_total():
    stats = slo.summarise(
        [
            entry("GET", "/json", 90, 0, {2: 90}),
            entry("GET", "/db", 10, 1, {400: 10}),
            entry("GET", "/sleep", 10, 0, {60: 10}),
        ]
    )
    assert stats["tfb_clients"].requests == 100
    assert stats["tfb_clients"].failures == 1
    assert stats["tfb_clients"].p95_ms == 400
    assert stats["total"].requests == 110
    assert stats["slow_callers"].p50_ms == 60


def test_evaluate_judges_like_the_k6_thresholds():
    stats = slo.summarise(
        [entry("GET", "/json", 100, 0, {2: 100}), entry("GET", "/db/sleep", 100, 5, {400: 100})]
    )
    failed = {(t.subject, t.rule) for t in slo.evaluate(stats, slo.Slo(250, 750, 0.01)) if not t.ok}
    assert failed == {
        ("total", "rate<0.01"),
        ("slow_callers", "p(95)<300"),
        ("slow_callers", "rate<0.01"),
        ("GET /db/sleep", "p(95)<300"),
    }
