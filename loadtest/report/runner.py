"""Run a k6 scenario or the locustfile against the stack, then build the report.

Natively (the k6 and locust of .venv) or in the Compose profiles (LOADTEST_RUNNER=compose).
The tool's own progress goes straight to the terminal. Everything lands in
loadtest/results/<UTC timestamp>-<scenario>/, whose name is also the run's testid.

Settings (environment variables; make passes its command-line variables through):
  BASE_URL          the stack as the load generator sees it: http://127.0.0.1:8080 natively,
                    http://nginx:8080 from a Compose container
  PROMETHEUS_URL    Prometheus as this process sees it (http://127.0.0.1:9090); empty: none
  API_JOB           the API's scrape job (api)
  REMOTE_WRITE      auto | on | off: k6's Prometheus remote-write output (auto: if accepted)
  LOADTEST_RUNNER   native | compose
  LOADTEST_RESULTS  where results directories go (loadtest/results)
  STRESS_MIN_RATE   a stress run passes if its knee is at least this (default: first step)
Plus every scenario setting of loadtest/k6/lib/config.js (RATE, DURATION, SLO_P95_MS, ...),
which is passed on to k6 or locust.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import build, k6
from .prometheus import Prometheus

REPO = Path(__file__).resolve().parents[2]
K6_DIR = REPO / "loadtest" / "k6"
LOCUST_DIR = REPO / "loadtest" / "locust"
SCENARIOS = ("smoke", "load", "stress", "spike", "soak")
TREND_STATS = "p(50),p(95),p(99),max"  # what the Load test dashboard plots per endpoint
MAX_SCRAPE_WAIT = 20  # seconds to wait after the run for Prometheus's last scrape
SETTING = re.compile(r"\benv(?:Number|Duration)?\(\s*'([A-Z0-9_]+)'")


def script_settings() -> list[str]:
    """The environment variables the scenarios read (from lib/config.js, their one source)."""
    names = SETTING.findall((K6_DIR / "lib" / "config.js").read_text())
    return sorted(set(names) | {"STRESS_MIN_RATE"})


@dataclass
class Run:
    """One run: which tool and scenario, where it goes, and how to reach the stack."""

    tool: str  # k6 | locust
    scenario: str
    mode: str = "native"  # native | compose
    base_url: str = ""
    prometheus_url: str = ""
    api_job: str = "api"
    remote_write: str = "auto"
    results_root: Path = REPO / "loadtest" / "results"
    settings: dict = field(default_factory=dict)  # the scenario settings set for this run
    testid: str = ""
    out: Path = Path()

    @classmethod
    def from_env(cls, tool: str, scenario: str, env=os.environ) -> "Run":
        mode = env.get("LOADTEST_RUNNER") or "native"
        if mode not in ("native", "compose"):
            raise SystemExit(f"LOADTEST_RUNNER must be native or compose, not {mode!r}")
        if tool == "k6" and scenario not in SCENARIOS:
            raise SystemExit(f"unknown scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
        default_base = "http://nginx:8080" if mode == "compose" else "http://127.0.0.1:8080"
        run = cls(
            tool=tool,
            scenario=scenario,
            mode=mode,
            base_url=(env.get("BASE_URL") or default_base).rstrip("/"),
            prometheus_url=env.get("PROMETHEUS_URL", "http://127.0.0.1:9090").rstrip("/"),
            api_job=env.get("API_JOB") or "api",
            remote_write=env.get("REMOTE_WRITE") or "auto",
            results_root=Path(env.get("LOADTEST_RESULTS") or cls.results_root).resolve(),
            settings={n: env[n] for n in script_settings() if env.get(n)},
        )
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        run.testid = f"{stamp}-{scenario if tool == 'k6' else 'locust'}"
        run.out = run.results_root / run.testid
        return run

    def record(self, **extra) -> dict:
        """Write run.json (what the report reads) and return it."""
        path = self.out / build.RUN_FILE
        data = json.loads(path.read_text()) if path.exists() else {}
        data.update(
            tool=self.tool,
            scenario=self.scenario,
            mode=self.mode,
            testid=self.testid,
            base_url=self.base_url,
            prometheus_url=self.prometheus_url,
            api_job=self.api_job,
            settings=self.settings,
            **extra,
        )
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return data


# ---------------------------------------------------------------- commands
def tool_env(run: Run, remote_write: bool) -> dict[str, str]:
    """What the load generator's environment needs on top of the scenario settings."""
    env = {**run.settings, "BASE_URL": run.base_url, "TESTID": run.testid}
    if run.tool == "k6":
        env["K6_CSV_TIME_FORMAT"] = "unix_milli"
        env["K6_NO_USAGE_REPORT"] = "true"  # k6 would otherwise phone home at the end
        if remote_write:
            in_compose = "http://prometheus:9090/api/v1/write"
            env["K6_PROMETHEUS_RW_SERVER_URL"] = os.environ.get(
                "K6_PROMETHEUS_RW_SERVER_URL",
                in_compose if run.mode == "compose" else f"{run.prometheus_url}/api/v1/write",
            )
            env["K6_PROMETHEUS_RW_TREND_STATS"] = os.environ.get(
                "K6_PROMETHEUS_RW_TREND_STATS", TREND_STATS
            )
    return env


def compose_mount(service: str, source: Path, fallback: str) -> str:
    """Where docker-compose.yml mounts `source` into `service` (the stack owns that file)."""
    try:
        config = json.loads(
            subprocess.run(
                ["docker", "compose", "--profile", "*", "config", "--format", "json"],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for volume in config["services"][service].get("volumes", []):
            if Path(volume.get("source", "")).resolve() == source.resolve():
                return volume["target"]
    except (subprocess.CalledProcessError, KeyError, json.JSONDecodeError, OSError):
        pass
    return fallback


def compose_prefix(run: Run, service: str, env: dict, tty: bool) -> list[str]:
    profile = "loadtest" if service == "k6" else "locust"
    command = ["docker", "compose", "--profile", profile, "run", "--rm"]
    command += ["--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{run.out}:/results"]
    command += [] if tty else ["-T"]
    for name, value in sorted(env.items()):
        command += ["-e", f"{name}={value}"]
    return command + [service]


def k6_commands(run: Run, env: dict, tty: bool) -> tuple[list[str], list[str]]:
    """(k6 inspect, k6 run) for the run's scenario, native or in the Compose profile."""
    if run.mode == "compose":
        scripts = compose_mount("k6", K6_DIR, "/scripts")
        script, out = f"{scripts}/scenarios/{run.scenario}.js", "/results"
        inspect = compose_prefix(run, "k6", env, tty=False) + ["inspect"]
        prefix = compose_prefix(run, "k6", env, tty)
    else:
        binary = os.environ.get("LOADTEST_K6") or _venv_binary("k6")
        script, out = str(K6_DIR / "scenarios" / f"{run.scenario}.js"), str(run.out)
        inspect = [binary, "inspect"]
        prefix = [binary]
    # Unlike `k6 run`, `k6 inspect` ignores the environment unless told otherwise.
    inspect += ["--include-system-env-vars", script]
    command = prefix + [
        "run",
        "--summary-export",
        f"{out}/{k6.SUMMARY_FILE}",
        "--out",
        f"csv={out}/{k6.SAMPLES_FILE}",
    ]
    if "K6_PROMETHEUS_RW_SERVER_URL" in env:
        command += ["--out", "experimental-prometheus-rw"]
    return inspect, command + [script]


def locust_command(run: Run, env: dict, tty: bool) -> list[str]:
    if run.mode == "compose":
        mount = compose_mount("locust", LOCUST_DIR, "/mnt/locust")
        prefix, locustfile, out = compose_prefix(run, "locust", env, tty), mount, "/results"
    else:
        prefix, locustfile, out = [_venv_binary("locust")], str(LOCUST_DIR), str(run.out)
    return prefix + [
        "-f",
        f"{locustfile}/locustfile.py",
        "--headless",
        "--host",
        run.base_url,
        "--csv",
        f"{out}/locust",
        "--csv-full-history",
        "--html",
        f"{out}/locust.html",
        "--json-file",
        f"{out}/locust",
    ]


def _venv_binary(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def run_tool(command: list[str], env: dict) -> int:
    """Run the load generator in the foreground; Ctrl-C stops it gracefully (k6 and locust
    both finish and write their results on SIGINT)."""
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=REPO)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


# ---------------------------------------------------------------- the whole run
def prometheus_status(run: Run) -> tuple[bool, float | None]:
    """(remote write on?, the API's scrape interval or None) as Prometheus answers now."""
    if not run.prometheus_url:
        return run.remote_write == "on", None
    prometheus = Prometheus(run.prometheus_url)
    if not prometheus.ready():
        print(f"loadtest: Prometheus at {run.prometheus_url} does not answer: no server side")
        return run.remote_write == "on", None
    remote_write = run.remote_write == "on" or (
        run.remote_write == "auto" and prometheus.accepts_remote_write()
    )
    if run.tool == "k6" and not remote_write and run.remote_write == "auto":
        print("loadtest: Prometheus refuses remote write (no --web.enable-remote-write-receiver)")
    try:
        interval = prometheus.scrape_interval(run.api_job)
    except Exception:
        interval = None
    return remote_write, interval


def execute(tool: str, scenario: str, settings_env=None) -> int:
    """Run, report, and return the exit status: non-zero when the thresholds failed. The
    settings come from `settings_env` (os.environ by default)."""
    run = Run.from_env(tool, scenario, os.environ if settings_env is None else settings_env)
    run.out.mkdir(parents=True, exist_ok=True)
    remote_write, interval = prometheus_status(run)
    env = tool_env(run, remote_write and tool == "k6")
    tty = sys.stdin.isatty()
    print(f"loadtest: {tool} {scenario} against {run.base_url}, testid {run.testid}")
    print(f"loadtest: results in {run.out}")

    if tool == "k6":
        inspect, command = k6_commands(run, env, tty)
        options = subprocess.run(
            inspect, env={**os.environ, **env}, capture_output=True, text=True, cwd=REPO
        )
        if options.returncode != 0:
            print(options.stderr, file=sys.stderr)
            return options.returncode
        (run.out / k6.OPTIONS_FILE).write_text(options.stdout)
    else:
        command = locust_command(run, env, tty)
    run.record(command=command, remote_write=bool(remote_write and tool == "k6"))

    started = time.time()
    run.record(started=started)
    code = run_tool(command, env)
    ended = time.time()
    run.record(ended=ended, exit_code=code)

    if interval:  # let Prometheus scrape the end of the run
        time.sleep(min(interval + 1, MAX_SCRAPE_WAIT))
    try:
        outcome = build.build(run.out)
    except Exception as exc:
        print(f"loadtest: the report could not be built: {exc!r}", file=sys.stderr)
        return code or 1
    print(f"\n{outcome.verdict}\nreport: {run.out / build.REPORT_FILE}")
    if code not in (0, 99):
        return code
    return 0 if outcome.passed else 99
