"""The serving modes the matrix compares, each a command that serves the API on a port."""

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
API_DIR = REPO / "services/api"
GUNICORN_CONF = API_DIR / "gunicorn.conf.py"
SERVERS = REPO / "benchmarks/matrix/servers"
MEINHELD_VENV = REPO / "benchmarks/.venv-meinheld"
CPUS = len(os.sched_getaffinity(0))
SEED_WORKERS = 2 * CPUS + 1  # the seed article's `multiprocessing.cpu_count() * 2 + 1`
# The pool each of this project's workers gets from the default budget (80 // workers): the
# requests a thread-per-request server can usefully run at once.
POOL_PER_WORKER = 80 // CPUS

ALL_WORKLOADS = ("plaintext", "json", "db", "db_sleep")
WORKLOAD_PATHS = {
    "plaintext": "/plaintext",
    "json": "/json",
    "db": "/db",
    "db_sleep": "/db/sleep?ms=50",
    # Not in the default matrix; `--cells` asks for them (make bench-goals).
    "item": "/api/items/1",  # the runner creates item 1
    "sleep": "/sleep?ms=100",
}


@dataclass(frozen=True)
class Mode:
    """How to start one server. `{port}` in the command is replaced by the port to serve on."""

    name: str
    group: str  # "serving" (the research question), "variant" (of this project), "ceiling"
    description: str
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    workloads: tuple[str, ...] = tuple(WORKLOAD_PATHS)  # what it can serve
    python: Path = Path(sys.executable)
    api_dir: Path = API_DIR  # the services/api tree it runs (another commit's, for a baseline)
    driver: str = "postgresql+psycopg2"  # the DATABASE_URL scheme it is given

    def argv(self, port: int) -> list[str]:
        return [part.format(port=port, python=self.python) for part in self.command]

    @property
    def runs_the_project(self) -> bool:
        """Whether it runs this project's gunicorn.conf.py (so another commit's can run too)."""
        return str(GUNICORN_CONF) in self.command

    def at(self, ref: str, tree: Path) -> "Mode":
        """This mode as the code of git `ref` (exported to `tree`) runs it."""
        api_dir = tree / API_DIR.relative_to(REPO)
        command = tuple(
            str(api_dir / "gunicorn.conf.py") if part == str(GUNICORN_CONF) else part
            for part in self.command
        )
        return dataclasses.replace(
            self,
            name=f"{self.name}@{ref}",
            description=f"{self.description}, as of {ref}",
            command=command,
            api_dir=api_dir,
        )


def _gunicorn(conf: Path = GUNICORN_CONF, app: str = "api.wsgi:app") -> tuple:
    return ("{python}", "-m", "gunicorn", "-c", str(conf), app)


def _gunicorn_env(**overrides: str | int) -> dict[str, str]:
    return {"GUNICORN_BIND": "127.0.0.1:{port}", **{k: str(v) for k, v in overrides.items()}}


BASELINE = "gunicorn-gevent"

MODES = [
    Mode(
        "flask-dev-threaded",
        "serving",
        "Flask development server, app.run(threaded=True): a thread per connection",
        ("{python}", "-m", "benchmarks.matrix.servers.flask_dev", "{port}", "threaded"),
    ),
    Mode(
        "flask-dev-processes",
        "serving",
        f"Flask development server, app.run(processes={SEED_WORKERS}): a fork per request",
        (
            "{python}",
            "-m",
            "benchmarks.matrix.servers.flask_dev",
            "{port}",
            f"processes={SEED_WORKERS}",
        ),
    ),
    Mode(
        "gevent-pywsgi",
        "serving",
        "gevent.pywsgi.WSGIServer + monkey.patch_all(), one process, as in the seed article",
        ("{python}", "-m", "benchmarks.matrix.servers.gevent_pywsgi", "{port}"),
    ),
    Mode(
        "gunicorn-sync",
        "serving",
        f"gunicorn sync workers ({SEED_WORKERS} = 2 x cores + 1)",
        _gunicorn(),
        _gunicorn_env(GUNICORN_WORKER_CLASS="sync", WEB_CONCURRENCY=SEED_WORKERS),
    ),
    Mode(
        "gunicorn-gthread",
        "serving",
        f"gunicorn gthread, {SEED_WORKERS} workers x {2 * CPUS} threads (the seed's numbers)",
        _gunicorn(),
        _gunicorn_env(
            GUNICORN_WORKER_CLASS="gthread", WEB_CONCURRENCY=SEED_WORKERS, GUNICORN_THREADS=2 * CPUS
        ),
    ),
    Mode(
        "gunicorn-gevent-no-psycogreen",
        "serving",
        f"gunicorn gevent, {CPUS} workers, psycopg2 without a wait callback",
        _gunicorn(),
        _gunicorn_env(DB_COOPERATIVE_IO="false"),
    ),
    Mode(
        BASELINE,
        "serving",
        f"this project: gunicorn gevent, {CPUS} workers (one per core), psycogreen",
        _gunicorn(),
        _gunicorn_env(),
    ),
    Mode(
        "meinheld",
        "serving",
        f"gunicorn + meinheld worker, {SEED_WORKERS} workers (installed with --no-deps)",
        _gunicorn(SERVERS / "worker_class.conf.py"),
        _gunicorn_env(
            GUNICORN_WORKER_CLASS="sync",
            WEB_CONCURRENCY=SEED_WORKERS,
            BENCH_WORKER_CLASS="meinheld.gmeinheld.MeinheldWorker",
        ),
        python=MEINHELD_VENV / "bin/python",
    ),
    Mode(
        "granian",
        "serving",
        f"granian (Rust HTTP server) WSGI, {CPUS} workers x {POOL_PER_WORKER} blocking threads "
        f"(= the pool), --backpressure {POOL_PER_WORKER}",
        (
            "{python}",
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--workers",
            str(CPUS),
            "--blocking-threads",
            str(POOL_PER_WORKER),
            "--backpressure",  # accept no more than the threads can run
            str(POOL_PER_WORKER),
            "--backlog",
            "2048",  # the project's GUNICORN_BACKLOG
            "--no-ws",
            "--log-level",
            "warning",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "api.wsgi:app",
        ),
        {"WEB_CONCURRENCY": str(CPUS), "DB_POOL_SIZE": str(POOL_PER_WORKER)},
    ),
    Mode(
        "gunicorn-gevent-psycopg3",
        "serving",
        f"this project on psycopg 3 ({CPUS} gevent workers; cooperative without psycogreen, "
        "SQLAlchemy 2.1's default driver)",
        _gunicorn(),
        _gunicorn_env(),
        driver="postgresql+psycopg",
    ),
    Mode(
        "gunicorn-gevent-2xcores+1",
        "variant",
        f"this project with {SEED_WORKERS} workers (2 x cores + 1) instead of {CPUS}",
        _gunicorn(),
        _gunicorn_env(WEB_CONCURRENCY=SEED_WORKERS),
    ),
    Mode(
        "gunicorn-gevent-stock-worker",
        "variant",
        "this project on gunicorn's own gevent worker (-k gevent): no fair turns between "
        "keep-alive requests",
        _gunicorn(SERVERS / "worker_class.conf.py"),
        _gunicorn_env(BENCH_WORKER_CLASS="gevent"),
    ),
    Mode(
        "gunicorn-gevent-metrics-off",
        "variant",
        "this project with METRICS_ENABLED=false",
        _gunicorn(),
        _gunicorn_env(METRICS_ENABLED="false"),
    ),
    Mode(
        "gunicorn-gevent-via-nginx",
        "variant",
        "this project behind nginx (keep-alive upstream, buffering), the stack's request path",
        _gunicorn(),
        _gunicorn_env(),
    ),
    Mode(
        "raw-wsgi-gevent",
        "ceiling",
        "a framework-free WSGI app on this project's gunicorn gevent configuration",
        _gunicorn(
            SERVERS / "raw_gunicorn.conf.py",
            "benchmarks.matrix.servers.raw_wsgi:app",
        ),
        _gunicorn_env(),
        workloads=ALL_WORKLOADS,
    ),
    Mode(
        "flask-bare-gevent",
        "ceiling",
        "a bare Flask app (raw-wsgi-gevent's database access, no project layers) on this "
        "project's gunicorn gevent configuration",
        _gunicorn(SERVERS / "raw_gunicorn.conf.py", "benchmarks.matrix.servers.bare_flask:app"),
        _gunicorn_env(),
        workloads=ALL_WORKLOADS,
    ),
    Mode(
        "nginx-static",
        "ceiling",
        "nginx returning a fixed body (no application at all)",
        (),
        workloads=("plaintext", "json"),
    ),
]
MODES_BY_NAME = {mode.name: mode for mode in MODES}
