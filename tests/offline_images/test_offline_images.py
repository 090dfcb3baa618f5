"""Checks that the images built by scripts/build-offline-images offer the interfaces the stack
relies on from the official images (deploy/offline-images/README.md).

Everything runs in containers on a private user-defined Docker network; the only traffic is
between those containers. Every container, volume and network is labelled with this run's id
and removed by fixture finalizers, also when a test fails. Skips (one line) when no Docker
daemon answers; an image whose tag is absent skips the tests that need it.

    python -m pytest -m docker tests/offline_images -q
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

PYTHON = "python:3.11-slim-bookworm"
POSTGRES = "postgres:17.12"
NGINX = "nginx:1.30.6"
PROMETHEUS = "prom/prometheus:v3.5.3"
NGINX_EXPORTER = "nginx/nginx-prometheus-exporter:1.5.1"
PG_EXPORTER = "quay.io/prometheuscommunity/postgres-exporter:v0.19.1"
K6 = "grafana/k6:1.1.0"
LOCUST = "locustio/locust:2.47.0"

RUN_ID = uuid.uuid4().hex[:8]
LABEL = f"offline-images-test={RUN_ID}"
PREFIX = f"oit-{RUN_ID}"


def _docker_answers() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        r = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"docker info failed: {e}"
    if r.returncode != 0:
        return (r.stderr.strip().splitlines() or ["docker info failed"])[-1]
    return None


_why_not = _docker_answers()
if _why_not:
    pytest.skip(
        f"no Docker daemon answers ({_why_not}); start one with scripts/install-docker-engine",
        allow_module_level=True,
    )


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def docker(
    *args: str, check: bool = True, timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess:
    r = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, input=input
    )
    if check and r.returncode != 0:
        cmd = " ".join(args)
        raise AssertionError(
            f"docker {cmd} -> exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )
    return r


def docker_run_once(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """`docker run --rm` of a labelled throwaway container (cleaned up by the label)."""
    return docker("run", "--rm", "--label", LABEL, *args, **kwargs)


def image_present(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


def need(*tags: str) -> None:
    missing = [t for t in tags if not image_present(t)]
    if missing:
        pytest.skip(f"image(s) not built: {', '.join(missing)} (run scripts/build-offline-images)")


def inspect_config(tag: str) -> dict:
    return json.loads(docker("image", "inspect", tag).stdout)[0]["Config"]


def wait_for(fn, timeout: float, what: str, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (AssertionError, subprocess.TimeoutExpired) as e:  # not ready yet
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last}")


class Stack:
    """Containers of this test run, on one private network."""

    def __init__(self) -> None:
        self.network = f"{PREFIX}-net"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
        docker("network", "create", "--label", LABEL, self.network)

    def create(
        self,
        name: str,
        image: str,
        *args: str,
        alias: str | None = None,
        env: dict[str, str] | None = None,
        entrypoint: str | None = None,
    ) -> str:
        cname = f"{PREFIX}-{name}"
        cmd = [
            "create",
            "--name",
            cname,
            "--label",
            LABEL,
            "--network",
            self.network,
            "--network-alias",
            alias or name,
        ]
        for k, v in (env or {}).items():
            cmd += ["-e", f"{k}={v}"]
        if entrypoint is not None:
            cmd += ["--entrypoint", entrypoint]
        docker(*cmd, image, *args)
        return cname

    def copy_in(self, cname: str, content: str, dest: str, mode: int = 0o644) -> None:
        src = self.tmp / f"{cname}-{Path(dest).name}"
        src.write_text(content)
        src.chmod(mode)
        docker("cp", str(src), f"{cname}:{dest}")

    def start(self, cname: str) -> str:
        docker("start", cname)
        return cname

    def run(self, name: str, image: str, *args: str, **kw) -> str:
        return self.start(self.create(name, image, *args, **kw))

    def run_once(
        self,
        image: str,
        *args: str,
        timeout: float = 60,
        entrypoint: str | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        cmd = ["run", "--rm", "--label", LABEL, "--network", self.network]
        if input is not None:
            cmd.append("-i")
        for k, v in (env or {}).items():
            cmd += ["-e", f"{k}={v}"]
        if entrypoint is not None:
            cmd += ["--entrypoint", entrypoint]
        return docker(*cmd, image, *args, timeout=timeout, input=input, check=check)

    def exec(
        self, cname: str, *args: str, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess:
        return docker("exec", cname, *args, check=check, timeout=timeout)

    def logs(self, cname: str) -> str:
        r = docker("logs", cname, check=False)
        return r.stdout + r.stderr

    def cleanup(self) -> None:
        ids = docker("ps", "-aq", "--filter", f"label={LABEL}", check=False).stdout.split()
        if ids:
            docker("rm", "-f", "-v", *ids, check=False, timeout=120)
        vols = docker(
            "volume", "ls", "-q", "--filter", f"label={LABEL}", check=False
        ).stdout.split()
        if vols:
            docker("volume", "rm", "-f", *vols, check=False)
        docker("network", "rm", self.network, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def stack():
    s = Stack()
    try:
        yield s
    finally:
        s.cleanup()


def proc_uids(stack: Stack, cname: str) -> dict[str, set[int]]:
    """{process name: {real uids}} of every process in the container (no ps needed)."""
    out = stack.exec(
        cname,
        "sh",
        "-c",
        "for s in /proc/[0-9]*/status; do "
        "awk '/^Name:/{n=$2} /^Uid:/{print n, $2}' \"$s\" 2>/dev/null; done",
    ).stdout
    res: dict[str, set[int]] = {}
    for line in out.splitlines():
        n, u = line.split()
        res.setdefault(n, set()).add(int(u))
    return res


# --------------------------------------------------------------------------------------------
# image metadata: the same ENTRYPOINT/CMD/USER/WORKDIR/STOPSIGNAL conventions as the official images
# --------------------------------------------------------------------------------------------
EXPECTED_CONFIG = {
    PYTHON: {"Entrypoint": None, "Cmd": ["python3"]},
    POSTGRES: {
        "Entrypoint": ["docker-entrypoint.sh"],
        "Cmd": ["postgres"],
        "StopSignal": "SIGINT",
        "Volumes": ["/var/lib/postgresql/data"],
        "ExposedPorts": ["5432/tcp"],
    },
    NGINX: {
        "Entrypoint": ["/docker-entrypoint.sh"],
        "Cmd": ["nginx", "-g", "daemon off;"],
        "StopSignal": "SIGQUIT",
        "ExposedPorts": ["80/tcp"],
    },
    PROMETHEUS: {
        "Entrypoint": ["/bin/prometheus"],
        "Cmd": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        "User": "nobody",
        "WorkingDir": "/prometheus",
        "Volumes": ["/prometheus"],
        "ExposedPorts": ["9090/tcp"],
    },
    NGINX_EXPORTER: {"Entrypoint": ["/usr/bin/nginx-prometheus-exporter"], "User": "1001:1001"},
    PG_EXPORTER: {
        "Entrypoint": ["/bin/postgres_exporter"],
        "User": "nobody",
        "ExposedPorts": ["9187/tcp"],
    },
    K6: {"Entrypoint": ["k6"], "User": "12345", "WorkingDir": "/home/k6"},
    LOCUST: {
        "Entrypoint": ["locust"],
        "User": "locust",
        "WorkingDir": "/home/locust",
        "ExposedPorts": ["5557/tcp", "8089/tcp"],
    },
}


@pytest.mark.parametrize("tag", list(EXPECTED_CONFIG))
def test_image_config_matches_official(tag):
    need(tag)
    cfg = inspect_config(tag)
    for key, want in EXPECTED_CONFIG[tag].items():
        have = cfg.get(key)
        if key in ("Volumes", "ExposedPorts"):
            have = sorted((have or {}).keys())
        assert have == want, f"{tag}: {key} is {have!r}, the official image has {want!r}"


# --------------------------------------------------------------------------------------------
# python:3.11-slim-bookworm
# --------------------------------------------------------------------------------------------
PY_CHECK = r"""
set -eu
for c in python python3 pip pip3; do test "$(command -v $c)" = "/usr/local/bin/$c"; done
test "$LANG" = C.UTF-8
python -c 'import sys, ssl, sqlite3; assert sys.version_info[:2] == (3, 11)'
test -s /etc/ssl/certs/ca-certificates.crt
# a tiny local project: venv + pip install, system pip install, --prefix layout (all offline)
mkdir -p /tmp/proj/offline_probe
printf 'VALUE = 42\n' > /tmp/proj/offline_probe/__init__.py
cat > /tmp/proj/pyproject.toml <<'EOF'
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
[project]
name = "offline-probe"
version = "1.0"
EOF
pip wheel -q --no-index --no-build-isolation --no-deps -w /tmp/whl /tmp/proj
python -m venv /opt/venv
/opt/venv/bin/pip install -q --no-index /tmp/whl/offline_probe-1.0-*.whl
/opt/venv/bin/python -c 'import offline_probe; assert offline_probe.VALUE == 42'
pip install -q --no-index --prefix=/install /tmp/whl/offline_probe-1.0-*.whl
test -f /install/lib/python3.11/site-packages/offline_probe/__init__.py
pip install -q --no-index /tmp/whl/offline_probe-1.0-*.whl
python - <<'EOF'
import os, offline_probe
p = os.path.realpath(offline_probe.__file__)
assert p.startswith("/usr/local/lib/python3.11/site-packages/"), p
EOF
echo PY-OK
"""


def test_python_base(stack):
    need(PYTHON)
    r = stack.run_once(PYTHON, "sh", "-c", PY_CHECK, env={"PIP_ROOT_USER_ACTION": "ignore"})
    assert "PY-OK" in r.stdout, r.stdout + r.stderr


# --------------------------------------------------------------------------------------------
# postgres:17.12
# --------------------------------------------------------------------------------------------
PG_ENV = {"POSTGRES_USER": "app", "POSTGRES_PASSWORD": "s3cret-pw", "POSTGRES_DB": "appdb"}


@pytest.fixture(scope="module")
def db(stack):
    need(POSTGRES)
    c = stack.create(
        "db",
        POSTGRES,
        "postgres",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=256MB",
        env=PG_ENV,
    )
    stack.copy_in(
        c,
        "CREATE TABLE init_probe (id int); INSERT INTO init_probe VALUES (7);\n",
        "/docker-entrypoint-initdb.d/10-probe.sql",
    )
    stack.copy_in(
        c, "#!/bin/sh\necho INIT-SH-RAN\n", "/docker-entrypoint-initdb.d/20-probe.sh", mode=0o755
    )
    stack.start(c)
    # ready over TCP = past initdb and the temporary (socket-only) server
    wait_for(
        lambda: (
            stack.exec(
                c, "pg_isready", "-h", "127.0.0.1", "-U", "app", "-d", "appdb", check=False
            ).returncode
            == 0
        ),
        60,
        "postgres to accept TCP connections",
    )
    return c


def psql(stack, sql: str, password: str = PG_ENV["POSTGRES_PASSWORD"], check: bool = True):
    return stack.run_once(
        POSTGRES,
        "psql",
        "-h",
        "db",
        "-U",
        "app",
        "-d",
        "appdb",
        "-v",
        "ON_ERROR_STOP=1",
        "-tAc",
        sql,
        env={"PGPASSWORD": password},
        check=check,
    )


def test_postgres_init_and_tcp_password_auth(stack, db):
    logs = stack.logs(db)
    assert "INIT-SH-RAN" in logs and "10-probe.sql" in logs, logs[-2000:]
    assert psql(stack, "SELECT id FROM init_probe").stdout.strip() == "7"
    assert psql(stack, "SHOW max_connections").stdout.strip() == "200"
    assert psql(stack, "SHOW shared_buffers").stdout.strip() == "256MB"
    assert psql(stack, "SHOW listen_addresses").stdout.strip() == "*"
    assert psql(stack, "SHOW server_version").stdout.strip().startswith("17.12")
    assert (
        psql(stack, "SELECT current_database() || ' ' || current_user").stdout.strip()
        == "appdb app"
    )
    rules = psql(
        stack, "SELECT auth_method FROM pg_hba_file_rules WHERE address = 'all'"
    ).stdout.split()
    assert rules == ["scram-sha-256"], rules
    bad = psql(stack, "SELECT 1", password="wrong", check=False)
    assert bad.returncode != 0 and "password authentication failed" in bad.stderr, bad.stderr
    uids = proc_uids(stack, db)
    assert uids.get("postgres") == {999}, uids  # runs as postgres (uid 999), not root


def test_postgres_graceful_stop_and_restart_keeps_data(stack, db):
    t = time.monotonic()
    docker("stop", "-t", "20", db, timeout=40)
    took = time.monotonic() - t
    state = json.loads(docker("inspect", db).stdout)[0]["State"]
    assert state["ExitCode"] == 0, state
    assert took < 10, f"docker stop took {took:.1f}s (SIGINT = fast shutdown should be quick)"
    assert "database system is shut down" in stack.logs(db)
    stack.start(db)
    wait_for(
        lambda: stack.exec(db, "pg_isready", "-h", "127.0.0.1", check=False).returncode == 0,
        30,
        "postgres after restart",
    )
    assert "Skipping initialization" in stack.logs(db)
    assert psql(stack, "SELECT id FROM init_probe").stdout.strip() == "7"


def test_postgres_entrypoint_accepts_dash_args():
    need(POSTGRES)
    r = docker_run_once(POSTGRES, "-V")
    assert r.stdout.startswith("postgres (PostgreSQL) 17.12"), r.stdout


# --------------------------------------------------------------------------------------------
# nginx:1.30.6 with "server NAME resolve" against Docker's DNS
# --------------------------------------------------------------------------------------------
NGINX_CONF = """
resolver 127.0.0.11 valid=1s ipv6=off;

upstream api {
    zone api 64k;
    server backend:8000 resolve;
    keepalive 8;
}

server {
    listen 8080;
    location / {
        proxy_pass http://api;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }
}

server {
    listen 8081;
    location = /stub_status { stub_status; }
}
"""


@pytest.fixture(scope="module")
def web(stack):
    need(NGINX, PYTHON)
    c = stack.create("web", NGINX)
    stack.copy_in(c, NGINX_CONF, "/etc/nginx/conf.d/default.conf")
    stack.start(c)
    wait_for(
        lambda: (
            stack.exec(
                c, "curl", "-fsS", "http://127.0.0.1:8081/stub_status", check=False
            ).returncode
            == 0
        ),
        20,
        "nginx stub_status",
    )
    return c


def test_nginx_resolve_follows_docker_dns(stack, web):
    # nginx started before any "backend" existed: requests fail now ...
    r = stack.exec(
        web, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8080/id"
    )
    assert r.stdout in ("502", "503"), r.stdout
    # ... and reach every replica once two containers answer to "backend" (no reload)
    for i in (1, 2):
        stack.run(
            f"backend{i}",
            PYTHON,
            "sh",
            "-c",
            f"mkdir -p /srv && echo replica{i} > /srv/id && cd /srv"
            " && exec python -m http.server 8000",
            alias="backend",
        )

    seen: set[str] = set()

    def both_seen():
        for _ in range(6):
            r = stack.exec(web, "curl", "-fsS", "http://127.0.0.1:8080/id", check=False)
            if r.returncode == 0:
                seen.add(r.stdout.strip())
        return seen >= {"replica1", "replica2"}

    wait_for(both_seen, 30, "nginx to re-resolve backend to both replicas")


def test_nginx_official_layout(stack, web):
    conf = stack.exec(web, "nginx", "-T").stdout
    assert "include /etc/nginx/conf.d/*.conf;" in conf and "user  nginx;" in conf
    assert "--with-http_stub_status_module" in stack.exec(web, "nginx", "-V").stderr
    links = stack.exec(
        web, "readlink", "/var/log/nginx/access.log", "/var/log/nginx/error.log"
    ).stdout.split()
    assert links == ["/dev/stdout", "/dev/stderr"], links
    uids = proc_uids(stack, web)
    assert uids.get("nginx") == {0, 101}, uids  # master root, workers as user nginx (101)
    stack.exec(web, "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8081/stub_status")
    assert "GET /stub_status" in stack.logs(web)  # access log -> container stdout


def test_nginx_default_page():
    need(NGINX)
    # the image's own default config, without ours
    r = docker_run_once(
        "--entrypoint",
        "sh",
        NGINX,
        "-c",
        "/docker-entrypoint.sh nginx -t 2>&1 && nginx && sleep 0.3 && curl -fsS http://127.0.0.1/",
    )
    assert "Welcome to nginx" in r.stdout, r.stdout + r.stderr


def test_nginx_templates_envsubst():
    need(NGINX)
    # official entrypoint behaviour: /etc/nginx/templates/*.template -> conf.d with env substituted
    r = docker_run_once(
        "-e",
        "PROBE_PORT=8123",
        "--entrypoint",
        "sh",
        NGINX,
        "-c",
        "mkdir -p /etc/nginx/templates && echo 'server { listen ${PROBE_PORT}; return 204; }'"
        " > /etc/nginx/templates/p.conf.template"
        " && /docker-entrypoint.sh nginx -T 2>&1",
    )
    assert "listen 8123;" in r.stdout, r.stdout


# --------------------------------------------------------------------------------------------
# exporters
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nginx_exporter(stack, web):
    need(NGINX_EXPORTER)
    return stack.run(
        "nginx-exporter", NGINX_EXPORTER, "--nginx.scrape-uri=http://web:8081/stub_status"
    )


def test_nginx_exporter_metrics(stack, web, nginx_exporter):
    def metrics():
        r = stack.exec(web, "curl", "-fsS", "http://nginx-exporter:9113/metrics", check=False)
        return r.stdout if r.returncode == 0 and "nginx_up 1" in r.stdout else None

    m = wait_for(metrics, 20, "nginx-exporter /metrics with nginx_up 1")
    assert "nginx_connections_active" in m and "nginx_http_requests_total" in m
    assert "nginx_exporter_build_info" in m and 'version="1.5.1"' in m
    uids = proc_uids(stack, nginx_exporter)
    assert set().union(*uids.values()) == {1001}, uids


@pytest.fixture(scope="module")
def pg_exporter(stack, db):
    need(PG_EXPORTER)
    return stack.run(
        "postgres-exporter",
        PG_EXPORTER,
        env={
            "DATA_SOURCE_NAME": f"postgresql://app:{PG_ENV['POSTGRES_PASSWORD']}@db:5432/appdb?sslmode=disable"
        },
    )


def _pg_up(stack, cname):
    r = stack.exec(cname, "wget", "-qO-", "http://127.0.0.1:9187/metrics", check=False)
    return r.stdout if r.returncode == 0 and "\npg_up 1" in r.stdout else None


def test_postgres_exporter_data_source_name(stack, pg_exporter):
    m = wait_for(
        lambda: _pg_up(stack, pg_exporter), 20, "postgres-exporter pg_up 1 (DATA_SOURCE_NAME)"
    )
    assert "pg_stat_database_" in m and 'version="0.19.1"' in m
    uids = proc_uids(stack, pg_exporter)
    assert set().union(*uids.values()) == {65534}, uids  # nobody


def test_postgres_exporter_data_source_uri_user_pass(stack, db):
    need(PG_EXPORTER)
    c = stack.run(
        "postgres-exporter2",
        PG_EXPORTER,
        env={
            "DATA_SOURCE_URI": "db:5432/appdb?sslmode=disable",
            "DATA_SOURCE_USER": "app",
            "DATA_SOURCE_PASS": PG_ENV["POSTGRES_PASSWORD"],
        },
    )
    wait_for(lambda: _pg_up(stack, c), 20, "postgres-exporter pg_up 1 (DATA_SOURCE_URI/USER/PASS)")


# --------------------------------------------------------------------------------------------
# prom/prometheus:v3.5.3
# --------------------------------------------------------------------------------------------
PROM_CONF = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ["localhost:9090"]}]
  - job_name: nginx
    static_configs: [{targets: ["nginx-exporter:9113"]}]
  - job_name: postgres
    static_configs: [{targets: ["postgres-exporter:9187"]}]
  - job_name: backend-dns
    dns_sd_configs: [{names: ["backend"], type: A, port: 8000, refresh_interval: 1s}]
"""


def test_prometheus_default_cmd_and_tools():
    need(PROMETHEUS)
    r = docker_run_once(
        "--entrypoint",
        "/bin/promtool",
        PROMETHEUS,
        "check",
        "config",
        "/etc/prometheus/prometheus.yml",
    )
    assert "SUCCESS" in r.stdout + r.stderr
    r = docker_run_once(
        "--entrypoint",
        "sh",
        PROMETHEUS,
        "-c",
        "id -u; pwd; touch /prometheus/w && echo writable; command -v wget",
    )
    assert r.stdout.split() == ["65534", "/prometheus", "writable", "/usr/local/bin/wget"], r.stdout


def test_prometheus_scrapes_exporters(stack, web, nginx_exporter, pg_exporter):
    need(PROMETHEUS)
    c = stack.create(
        "prometheus", PROMETHEUS
    )  # default CMD: --config.file=/etc/prometheus/prometheus.yml ...
    stack.copy_in(c, PROM_CONF, "/etc/prometheus/prometheus.yml")
    stack.start(c)
    wait_for(
        lambda: (
            "Ready"
            in stack.exec(c, "wget", "-qO-", "http://127.0.0.1:9090/-/ready", check=False).stdout
        ),
        30,
        "prometheus /-/ready",
    )

    def up_by_job():
        r = stack.exec(
            c, "wget", "-qO-", "http://127.0.0.1:9090/api/v1/query?query=up", check=False
        )
        if r.returncode != 0:
            return None
        res = json.loads(r.stdout)["data"]["result"]
        ups = {(s["metric"]["job"], s["metric"]["instance"]): s["value"][1] for s in res}
        wanted = {"prometheus", "nginx", "postgres"}
        if all(any(j == w and v == "1" for (j, _), v in ups.items()) for w in wanted):
            return ups
        return None

    ups = wait_for(up_by_job, 30, "up == 1 for prometheus, nginx and postgres jobs", interval=1)
    # dns_sd_configs type A on a name with two containers -> one target per replica
    # (the python http.server has no /metrics, so those targets are down; only their number matters)
    backend_targets = {i for (j, i) in ups if j == "backend-dns"}
    if len(backend_targets) < 2:
        ups = wait_for(
            lambda: (lambda u: u if len({i for (j, i) in u if j == "backend-dns"}) >= 2 else None)(
                up_by_job() or {}
            ),
            15,
            "two backend-dns targets",
            interval=1,
        )
        backend_targets = {i for (j, i) in ups if j == "backend-dns"}
    assert len(backend_targets) == 2, ups
    # Debian's package has no web UI: / shows a placeholder page, the API works (see README)
    assert "Prometheus" in stack.exec(c, "wget", "-qO-", "http://127.0.0.1:9090/").stdout


# --------------------------------------------------------------------------------------------
# grafana/k6:1.1.0 and locustio/locust:2.47.0
# --------------------------------------------------------------------------------------------
K6_SCRIPT = """
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: 1, iterations: 5, thresholds: { checks: ['rate==1'] } };
export default function () {
  const r = http.get('http://web:8081/stub_status');
  check(r, { 'status 200': (x) => x.status === 200 });
}
"""


def test_k6_version():
    need(K6)
    r = docker_run_once(K6, "version")
    assert r.stdout.startswith("k6 v1.1.0"), r.stdout


def test_k6_runs_script_against_stack(stack, web):
    need(K6)
    r = stack.run_once(K6, "run", "--quiet", "--no-color", "-", input=K6_SCRIPT, timeout=60)
    assert "checks_succeeded" in r.stdout and "100.00%" in r.stdout, r.stdout + r.stderr


LOCUSTFILE = """
from locust import HttpUser, constant, task

class Probe(HttpUser):
    wait_time = constant(0.2)

    @task
    def status(self):
        self.client.get("/stub_status")
"""


def test_locust_version():
    need(LOCUST)
    r = docker_run_once(LOCUST, "--version")
    assert "locust 2.47.0" in r.stdout + r.stderr, r.stdout + r.stderr


def test_locust_headless_against_stack(stack, web):
    need(LOCUST)
    c = stack.create(
        "locust",
        LOCUST,
        "-f",
        "/home/locust/locustfile.py",
        "--headless",
        "-u",
        "1",
        "-r",
        "1",
        "-t",
        "3s",
        "-H",
        "http://web:8081",
        "--only-summary",
        "--exit-code-on-error",
        "1",
    )
    stack.copy_in(c, LOCUSTFILE, "/home/locust/locustfile.py")
    r = docker("start", "-a", c, timeout=60)
    out = r.stdout + r.stderr
    state = json.loads(docker("inspect", c).stdout)[0]["State"]
    assert state["ExitCode"] == 0, out
    assert "/stub_status" in out and "Aggregated" in out, out


# --------------------------------------------------------------------------------------------
# the pip CA bundle passed as a BuildKit secret must not end up in any image
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", [K6, LOCUST])
def test_no_build_secret_in_image(tag):
    need(tag)
    hist = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout
    assert "ca-certificates.crt" not in hist
    r = docker_run_once(
        "--entrypoint",
        "sh",
        tag,
        "-c",
        "ls -A /run/secrets 2>/dev/null | wc -l; env | grep -c PIP_CERT || true",
    )
    assert r.stdout.split() == ["0", "0"], r.stdout


def test_locust_web_ui(stack, web):
    need(LOCUST)
    c = stack.create(
        "locust-ui", LOCUST, "-f", "/home/locust/locustfile.py", "-H", "http://web:8081"
    )
    stack.copy_in(c, LOCUSTFILE, "/home/locust/locustfile.py")
    stack.start(c)

    def page():
        r = stack.exec(web, "curl", "-fsS", "http://locust-ui:8089/", check=False)
        return r.stdout if r.returncode == 0 else None

    assert "locust" in wait_for(page, 30, "locust web UI on :8089").lower()
