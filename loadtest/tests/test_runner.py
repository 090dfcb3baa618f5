"""How the runner calls k6 and locust, natively and in the Compose profiles."""

import pytest

from loadtest.report import runner


@pytest.fixture
def compose_mounts(monkeypatch):
    """The mounts docker-compose.yml declares, without asking Docker."""
    mounts = {"k6": "/scripts", "locust": "/mnt/locust"}
    monkeypatch.setattr(
        runner, "compose_mount", lambda service, _source, _fallback: mounts[service]
    )


def make_run(tool="k6", scenario="load", **env) -> runner.Run:
    return runner.Run.from_env(tool, scenario, {"LOADTEST_RESULTS": "/tmp/results", **env})


def test_settings_come_from_config_js():
    names = runner.script_settings()
    assert {"BASE_URL", "RATE", "DURATION", "START_RATE", "SLO_P95_MS", "MAX_VUS"} <= set(names)
    assert {"STRESS_MIN_RATE", "STRESS_ABORT_P95_MS"} <= set(names)  # multi-line calls too


def test_native_defaults_target_the_published_stack():
    run = make_run(RATE="200", PATH="/usr/bin")
    assert run.base_url == "http://127.0.0.1:8080"
    assert run.prometheus_url == "http://127.0.0.1:9090"
    assert run.settings == {"RATE": "200"}  # only the scenario settings, not the environment
    assert run.out.parent.as_posix() == "/tmp/results"
    assert run.out.name == run.testid
    assert run.testid.endswith("-load")


def test_native_k6_writes_summary_samples_and_remote_write():
    run = make_run()
    env = runner.tool_env(run, remote_write=True)
    assert env["K6_PROMETHEUS_RW_SERVER_URL"] == "http://127.0.0.1:9090/api/v1/write"
    assert env["K6_PROMETHEUS_RW_TREND_STATS"] == "p(50),p(95),p(99),max"
    assert env["TESTID"] == run.testid
    inspect, command = runner.k6_commands(run, env, tty=True)
    assert inspect[1:3] == ["inspect", "--include-system-env-vars"]
    assert command[1:3] == ["run", "--summary-export"]
    assert f"csv={run.out}/k6-samples.csv.gz" in command
    assert command[-3:] == [
        "--out",
        "experimental-prometheus-rw",
        f"{runner.K6_DIR}/scenarios/load.js",
    ]


def test_no_remote_write_output_when_prometheus_refuses_it():
    run = make_run()
    _, command = runner.k6_commands(run, runner.tool_env(run, remote_write=False), tty=True)
    assert "experimental-prometheus-rw" not in command


def test_compose_k6_runs_in_the_loadtest_profile_on_the_stack_network(compose_mounts):
    run = make_run(LOADTEST_RUNNER="compose", SLO_P95_MS="300")
    env = runner.tool_env(run, remote_write=True)
    assert env["BASE_URL"] == "http://nginx:8080"
    assert env["K6_PROMETHEUS_RW_SERVER_URL"] == "http://prometheus:9090/api/v1/write"
    inspect, command = runner.k6_commands(run, env, tty=False)
    assert command[:5] == ["docker", "compose", "--profile", "loadtest", "run"]
    assert ["-v", f"{run.out}:/results"] == command[command.index("-v") : command.index("-v") + 2]
    assert "SLO_P95_MS=300" in command
    assert "-T" in command
    assert command[command.index("k6") + 1 :][:3] == [
        "run",
        "--summary-export",
        "/results/k6-summary.json",
    ]
    assert command[-1] == "/scripts/scenarios/load.js"
    assert inspect[-3:] == ["inspect", "--include-system-env-vars", "/scripts/scenarios/load.js"]


def test_compose_locust_runs_headless_in_the_locust_profile(compose_mounts):
    run = make_run("locust", "step_load", LOADTEST_RUNNER="compose")
    command = runner.locust_command(run, runner.tool_env(run, False), tty=False)
    assert command[:4] == ["docker", "compose", "--profile", "locust"]
    service = command.index("-f") - 1
    assert command[service : service + 4] == [
        "locust",
        "-f",
        "/mnt/locust/locustfile.py",
        "--headless",
    ]
    assert command[command.index("--host") : command.index("--host") + 2] == [
        "--host",
        "http://nginx:8080",
    ]
    assert command[-2:] == ["--json-file", "/results/locust"]


def test_unknown_runner_or_scenario_is_refused():
    with pytest.raises(SystemExit, match="LOADTEST_RUNNER"):
        make_run(LOADTEST_RUNNER="kubernetes")
    with pytest.raises(SystemExit, match="unknown scenario"):
        make_run(scenario="breakpoint")
