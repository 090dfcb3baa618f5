"""Run the serving-mode matrix: every mode × workload × concurrency, interleaved over rounds.

    python -m benchmarks.matrix.run [--rounds 3] [--duration 5] [--modes a,b] [--out DIR]
        [--concurrency 16,64] [--cells db@64,json@64] [--baseline-ref REF]

Each round visits the modes in a new random order; a mode is started, warmed up, measured
with wrk on every cell (workload × concurrency, or the --cells given), then stopped.
--baseline-ref adds each selected mode that runs this project's gunicorn.conf.py once more, as
the code of a git commit runs it (`NAME@REF`): before and after, measured in the same run.
Results (every round) go to DIR/raw.json; `python -m benchmarks.matrix.report DIR` turns them
into medians and plots.
Load goes to 127.0.0.1 only, and every wrk run is bounded by --duration.
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

from testkit.gunicorn import migrate_database
from testkit.net import free_port, port_open, wait_until
from testkit.postgres import ThrowawayPostgres

from .modes import (
    ALL_WORKLOADS,
    MEINHELD_VENV,
    MODES,
    MODES_BY_NAME,
    REPO,
    WORKLOAD_PATHS,
    Mode,
)
from .servers.nginx import Nginx

CONCURRENCIES = (16, 64, 256)
# Enough for a few modes up at once, each holding its pools (budget 80 by default).
MAX_CONNECTIONS = 600
WRK_TIMEOUT_SECONDS = 5


def prepare_meinheld() -> str:
    """Build meinheld's venv once; return what happened (the result is part of the answer)."""
    if (MEINHELD_VENV / "bin/python").exists():
        return "installed earlier"
    subprocess.run([sys.executable, "-m", "venv", str(MEINHELD_VENV)], check=True)
    pip = [str(MEINHELD_VENV / "bin/python"), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + ["-r", str(REPO / "services/api/requirements.txt")], check=True)
    strict = subprocess.run(pip + ["meinheld==1.0.2"], capture_output=True, text=True)
    if strict.returncode == 0:
        return "pip install meinheld==1.0.2 succeeded"
    reason = (strict.stderr.strip().splitlines() or ["?"])[-1]
    # meinheld pins greenlet<0.5, which does not build on Python 3.11; without its
    # dependencies it builds against greenlet 3, whose structures it no longer matches.
    subprocess.run(pip + ["--no-deps", "meinheld==1.0.2"], check=True)
    return f"plain install failed ({reason}); installed with --no-deps on greenlet 3"


class Server:
    """A mode's process(es) on a free port."""

    def __init__(self, mode: Mode, database_url: str):
        self.mode = mode
        self.port = free_port()
        self.nginx: Nginx | None = None
        self.process: subprocess.Popen | None = None
        self._database_url = database_url
        self._metrics_dir = tempfile.mkdtemp(prefix="matrix-metrics-")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  (open for the server's lifetime)

    def start(self) -> None:
        if self.mode.name == "nginx-static":
            self.nginx = Nginx(self.port)
            self.nginx.start()
        else:
            app_port = free_port() if self.mode.name.endswith("via-nginx") else self.port
            env = {
                **os.environ,
                "PYTHONPATH": f"{REPO}:{self.mode.api_dir}",
                "DATABASE_URL": self._database_url.replace(
                    "postgresql+psycopg2://", f"{self.mode.driver}://"
                ),
                "METRICS_PORT": str(free_port()),
                "PROMETHEUS_MULTIPROC_DIR": self._metrics_dir,
                "LOG_LEVEL": "WARNING",
                **{k: v.format(port=app_port) for k, v in self.mode.env.items()},
            }
            self.process = subprocess.Popen(
                self.mode.argv(app_port),
                cwd=self.mode.api_dir,
                env=env,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            wait_until(lambda: self._answers(app_port), 60, f"{self.mode.name} on {app_port}")
            if app_port != self.port:
                self.nginx = Nginx(self.port, upstream_port=app_port)
                self.nginx.start()
        wait_until(lambda: self._answers(self.port), 30, f"{self.mode.name} on {self.port}")

    def _answers(self, port: int) -> bool:
        if self.process and self.process.poll() is not None:
            self._log.seek(0)
            tail = self._log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{self.mode.name} exited with {self.process.returncode}: {tail}")
        if not port_open(port):
            return False
        try:
            return requests.get(f"http://127.0.0.1:{port}/plaintext", timeout=2).ok
        except requests.RequestException:
            return False

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the server's processes (master and workers), if native."""
        if not self.process:
            return None
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[2]) == self.process.pid:  # its process group: the server's own
                total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        return total

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the server and its workers
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self._metrics_dir, ignore_errors=True)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_LATENCY_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * _LATENCY_UNITS[unit]


def parse_wrk(output: str) -> dict:
    """Requests/s, p50/p99 latency (s), and errors (socket errors + non-2xx) from wrk --latency."""
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}%\s+(\S+)", output, re.MULTILINE)
        result[f"p{percentile}"] = _seconds(match.group(1)) if match else None
    errors = (
        sum(
            int(n)
            for n in re.findall(
                r"(?:connect|read|write|timeout) (\d+)", output.split("Socket errors:")[-1]
            )
        )
        if "Socket errors:" in output
        else 0
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["errors"] = errors + (int(non_2xx.group(1)) if non_2xx else 0)
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    return result


class Results:
    """Every wrk run's result, with progress printed as they come."""

    def __init__(self, total: int):
        self.rows: list[dict] = []
        self.total, self.done, self.started = total, 0, time.monotonic()

    def measure(self, server: "Server", cell: tuple[str, int], round_number: int, duration: int):
        workload, concurrency = cell
        url = f"http://127.0.0.1:{server.port}{WORKLOAD_PATHS[workload]}"
        cpu_before = server.cpu_seconds()
        result = wrk(url, concurrency, duration)
        if cpu_before is not None and result["requests"]:
            # The server's CPU per request: unlike req/s, barely moved by load from elsewhere.
            result["cpu_us"] = (server.cpu_seconds() - cpu_before) / result["requests"] * 1e6
        self.rows.append(
            {
                "round": round_number,
                "mode": server.mode.name,
                "workload": workload,
                "concurrency": concurrency,
                **result,
            }
        )
        self.skip(1)
        eta = (time.monotonic() - self.started) / self.done * (self.total - self.done) / 60
        p99 = f"{result['p99'] * 1000:.0f} ms" if result["p99"] else "-"
        cpu = f"{result['cpu_us']:.0f} us" if "cpu_us" in result else "-"
        print(
            f"[{self.done}/{self.total} round {round_number}] {server.mode.name:30} "
            f"{workload:9} c={concurrency:<4} {result['rps']:9.0f} req/s "
            f"p99 {p99:>8}  cpu/req {cpu:>7}  errors {result['errors']:<6} eta {eta:.0f} min",
            flush=True,
        )

    def skip(self, runs: int) -> None:
        self.done += runs


def start(mode: Mode, database_url: str, notes: dict) -> "Server | None":
    """A started and warmed-up server, or None (noted) if the mode failed to start."""
    server = Server(mode, database_url)
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        notes.setdefault(mode.name, f"failed to start: {exc}"[:500])
        print(f"  {mode.name}: failed to start", flush=True)
        return None
    wrk(f"http://127.0.0.1:{server.port}/json", 16, 1)  # warm-up
    return server


def one_mode_at_a_time(modes, cells, args, database_url, results: Results, notes) -> None:
    """Each round, every mode in a new random order: started, measured on its cells, stopped."""
    for round_number in range(1, args.rounds + 1):
        for mode in random.sample(modes, len(modes)):
            server = start(mode, database_url, notes)
            if server is None:
                results.skip(len(mode_cells(mode, cells)))
                continue
            try:
                for cell in mode_cells(mode, cells):
                    results.measure(server, cell, round_number, args.duration)
            finally:
                server.stop()


def all_modes_up(modes, cells, args, database_url, results: Results, notes) -> None:
    """Every mode running at once; each round takes the cells in a new random order, and
    each cell on every mode in a new random order, so load from elsewhere hits all alike."""
    servers = []
    try:
        for mode in modes:
            server = start(mode, database_url, notes)
            if server is None:
                results.skip(len(mode_cells(mode, cells)) * args.rounds)
            else:
                servers.append(server)
        for round_number in range(1, args.rounds + 1):
            for cell in random.sample(cells, len(cells)):
                for server in random.sample(servers, len(servers)):
                    if cell in mode_cells(server.mode, cells):
                        results.measure(server, cell, round_number, args.duration)
    finally:
        for server in servers:
            server.stop()


def mode_cells(mode: Mode, cells: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The cells a mode can serve."""
    return [(workload, c) for workload, c in cells if workload in mode.workloads]


def wrk(url: str, concurrency: int, duration: int) -> dict:
    threads = min(2, concurrency)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{duration}s",
        "--latency",
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        url,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + WRK_TIMEOUT_SECONDS + 30
    )
    return parse_wrk(completed.stdout)


def measure_cooperative_io(database_url: str, rounds: int) -> dict:
    """Wall time of 20 concurrent 200 ms queries on one worker, with and without psycogreen."""
    timings: dict[str, list[float]] = {"with psycogreen": [], "without psycogreen": []}
    for _ in range(rounds):
        for label, cooperative in (("with psycogreen", "true"), ("without psycogreen", "false")):
            mode = Mode(
                label,
                "variant",
                label,
                MODES_BY_NAME["gunicorn-gevent"].command,
                {
                    "GUNICORN_BIND": "127.0.0.1:{port}",
                    "WEB_CONCURRENCY": "1",
                    "DB_POOL_SIZE": "20",
                    "DB_COOPERATIVE_IO": cooperative,
                },
            )
            server = Server(mode, database_url)
            server.start()
            try:
                urls = [f"http://127.0.0.1:{server.port}/db/sleep?ms=200"] * 20
                with ThreadPoolExecutor(20) as pool:
                    list(pool.map(requests.get, urls))  # opens the pool's connections
                    start = time.perf_counter()
                    list(pool.map(requests.get, urls))
                    timings[label].append(time.perf_counter() - start)
            finally:
                server.stop()
    return timings


def export_tree(ref: str) -> Path:
    """The repository as of git `ref`, in a new temporary directory (removed by the caller)."""
    tree = Path(tempfile.mkdtemp(prefix="matrix-baseline-"))
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def parse_cells(text: str) -> list[tuple[str, int]]:
    """ "db@64,json@64" -> [("db", 64), ("json", 64)]."""
    cells = []
    for item in text.split(","):
        workload, _, concurrency = item.partition("@")
        if workload not in WORKLOAD_PATHS or not concurrency.isdigit():
            sys.exit(f"--cells: {item!r} is not WORKLOAD@CONNECTIONS ({', '.join(WORKLOAD_PATHS)})")
        cells.append((workload, int(concurrency)))
    return cells


def machine() -> dict:
    def version(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unavailable"

    with open("/proc/cpuinfo") as cpuinfo:
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?"
        )
    return {
        "cpu": model,
        "cpus": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": version(["wrk", "--version"]),
        "postgres": version(["postgres", "--version"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--modes", default=",".join(mode.name for mode in MODES))
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCIES)))
    parser.add_argument("--cells", help="WORKLOAD@CONNECTIONS,...: instead of the cross product")
    parser.add_argument(
        "--baseline-ref", help="also run each mode of this project as of this git commit"
    )
    parser.add_argument(
        "--no-cooperative-io", action="store_true", help="skip the psycogreen timing"
    )
    parser.add_argument(
        "--all-up",
        action="store_true",
        help="keep every mode running and take each cell on every mode in turn (finer "
        "interleaving on a busy machine; for a few modes: each holds its connection pool)",
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    parser.add_argument("--out", type=Path, default=REPO / f"benchmarks/results/{stamp}")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run scripts/install-test-tools (Debian's wrk package)")
    modes = [MODES_BY_NAME[name] for name in args.modes.split(",")]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    cells = (
        parse_cells(args.cells)
        if args.cells
        else [(w, c) for w in ALL_WORKLOADS for c in concurrencies]
    )
    baseline_tree = export_tree(args.baseline_ref) if args.baseline_ref else None
    if baseline_tree:
        modes += [m.at(args.baseline_ref, baseline_tree) for m in modes if m.runs_the_project]
    args.out.mkdir(parents=True, exist_ok=True)

    notes = {}
    if any(mode.name == "meinheld" for mode in modes):
        notes["meinheld"] = prepare_meinheld()
        print(f"meinheld: {notes['meinheld']}", flush=True)

    runs = sum(len(mode_cells(m, cells)) for m in modes) * args.rounds
    print(
        f"{len(modes)} modes, {runs} wrk runs of {args.duration:g} s: "
        f"about {runs * (args.duration + 1.5) / 60:.0f} min",
        flush=True,
    )
    postgres = ThrowawayPostgres(max_connections=MAX_CONNECTIONS).start()
    results, cooperative = Results(runs), {}
    try:
        migrate_database(postgres.url)
        postgres.execute_admin(
            "INSERT INTO items (name, quantity, price) VALUES ('benchmark', 1, 9.99)"
        )  # GET /api/items/1
        if not args.no_cooperative_io:
            cooperative = measure_cooperative_io(postgres.url, args.rounds)
            print(f"cooperative I/O, 20 x 200 ms on one worker: {cooperative}", flush=True)
        schedule = all_modes_up if args.all_up else one_mode_at_a_time
        schedule(modes, cells, args, postgres.url, results, notes)
    finally:
        postgres.stop()
        if baseline_tree:
            shutil.rmtree(baseline_tree, ignore_errors=True)
        (args.out / "raw.json").write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "duration": args.duration,
                    "rounds": args.rounds,
                    "notes": notes,
                    "cooperative_io": cooperative,
                    "modes": {
                        m.name: {"group": m.group, "description": m.description} for m in modes
                    },
                    "results": results.rows,
                },
                indent=2,
            )
        )
    print(f"raw results: {args.out / 'raw.json'}")


if __name__ == "__main__":
    main()
