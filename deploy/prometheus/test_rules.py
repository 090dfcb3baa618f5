"""Prometheus configuration and rules: promtool checks, rule unit tests, and the house shape.

`make test` runs these through plain pytest; `make rules-check` runs the same promtool commands.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RULE_FILES = sorted((HERE / "rules").glob("*.rules.yml"))
TEST_FILES = sorted((HERE / "tests").glob("*.test.yml"))
CONFIG = HERE / "prometheus.yml"
DATASOURCES = REPO / "deploy" / "grafana" / "provisioning" / "datasources"
# One area per file; every alert of the file starts with the area's prefix.
AREA_PREFIX = {
    "api": "Api",
    "postgres": "Postgres",
    "edge": "Nginx",
    "targets": "Target",
    "capacity": "Capacity",
}
ALERT_KEYS = ["alert", "expr", "for", "labels", "annotations"]
ANNOTATION_KEYS = ["summary", "description", "runbook_url"]

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (scripts/install-test-tools installs it)",
)


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=REPO)


def alerts() -> list[tuple[Path, dict]]:
    return [
        (path, rule)
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_rule_files_exist_per_area():
    assert {path.name.removesuffix(".rules.yml") for path in RULE_FILES} == set(AREA_PREFIX)
    assert {path.name.removesuffix(".test.yml") for path in TEST_FILES} == set(AREA_PREFIX)


def test_rules_pass_promtool_check():
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass():
    result = promtool("test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_one_group_per_file_named_after_the_area(path):
    groups = yaml.safe_load(path.read_text())["groups"]
    assert [group["name"] for group in groups] == [path.name.removesuffix(".rules.yml")]


@pytest.mark.parametrize("path,rule", alerts(), ids=[rule["alert"] for _, rule in alerts()])
def test_alert_has_the_house_shape(path, rule):
    area = path.name.removesuffix(".rules.yml")
    name = rule["alert"]
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name), "CamelCase"
    assert name.startswith(AREA_PREFIX[area])
    assert list(rule) == ALERT_KEYS, "fields in the order alert, expr, for, labels, annotations"
    assert rule["labels"] == {"severity": rule["labels"]["severity"]}
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert list(rule["annotations"]) == ANNOTATION_KEYS
    assert rule["annotations"]["runbook_url"] == f"docs/runbooks/{name}.md"
    assert (REPO / rule["annotations"]["runbook_url"]).is_file()
    description = rule["annotations"]["description"]
    assert "$value" in description or "$labels" in description


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    fires, quiet = set(), set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for _, rule in alerts()}
    assert names - fires == set(), "alerts with no test where they fire"
    assert names - quiet == set(), "alerts with no test where they must not fire"


def test_every_runbook_belongs_to_an_alert():
    names = {rule["alert"] for _, rule in alerts()}
    runbooks = {path.stem for path in (REPO / "docs" / "runbooks").glob("*.md")}
    assert runbooks - names - {"README"} == set()


def test_prometheus_config_passes_promtool_check():
    if not CONFIG.exists():
        pytest.skip("deploy/prometheus/prometheus.yml is not written yet (the Compose stack's)")
    result = promtool("check", "config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(CONFIG.read_text())
    assert any("rules" in pattern for pattern in config.get("rule_files", [])), "loads rules/"


def test_grafana_time_interval_is_the_scrape_interval():
    datasources = sorted(DATASOURCES.glob("*.y*ml")) if DATASOURCES.exists() else []
    if not (CONFIG.exists() and datasources):
        pytest.skip("prometheus.yml or the Grafana datasource provisioning is not written yet")
    scrape_interval = yaml.safe_load(CONFIG.read_text())["global"]["scrape_interval"]
    prometheus = [
        source
        for path in datasources
        for source in yaml.safe_load(path.read_text()).get("datasources", [])
        if source.get("type") == "prometheus"
    ]
    assert [source.get("uid") for source in prometheus] == ["prometheus"]
    # $__rate_interval is computed from timeInterval: it must be the real scrape interval.
    assert prometheus[0].get("jsonData", {}).get("timeInterval") == scrape_interval
