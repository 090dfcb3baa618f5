"""What a branch's metrics cost per request, against a baseline commit, in-process.

    .venv/bin/python -m benchmarks.metrics_cost [BASELINE_REF] [ROUNDS]     (main, 21)

The method of docs/benchmarks.md's in-process measurement: the CPU time of REQUESTS requests
straight into the WSGI app (no server, no network, no gevent), so no other load on the machine
disturbs it; the minimum over rounds is the cost. The baseline's services/api comes from
`git archive BASELINE_REF`; the two run in alternating subprocesses (a fresh multiprocess
metrics directory each), on one throwaway PostgreSQL.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from testkit.gunicorn import migrate_database
from testkit.postgres import ThrowawayPostgres

REPO = Path(__file__).resolve().parent.parent
PATHS = ("/db", "/json")
REQUESTS = 3000

# Runs in the variant's services/api: prints {path: CPU µs per request}.
_MEASURE = """
import json, sys, time
from werkzeug.test import EnvironBuilder
from api.app import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "WEB_CONCURRENCY": 1, "DB_POOL_SIZE": 5})
def start_response(status, headers, exc_info=None):
    return None
result = {}
for path in sys.argv[3:]:
    environs = [EnvironBuilder(path=path).get_environ() for _ in range(int(sys.argv[2]) + 300)]
    for environ in environs[:300]:  # warm up: pool connections, cached label children
        b"".join(app(environ, start_response))
    start = time.process_time()
    for environ in environs[300:]:
        b"".join(app(environ, start_response))
    result[path] = (time.process_time() - start) / int(sys.argv[2]) * 1e6
print(json.dumps(result))
"""


def baseline_api(ref: str, into: Path) -> Path:
    archive = into / "baseline.tar"
    subprocess.run(
        ["git", "-C", str(REPO), "archive", "-o", str(archive), ref, "services/api"], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "services" / "api"


def measure(api_dir: Path, database_url: str, scratch: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=scratch) as metrics_dir:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir, "LOG_LEVEL": "WARNING"}
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, database_url, str(REQUESTS), *PATHS],
            cwd=api_dir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.splitlines()[-1])


def main(ref: str = "main", rounds: int = 21) -> None:
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        variants = {ref: baseline_api(ref, scratch), "this": REPO / "services" / "api"}
        postgres = ThrowawayPostgres().start()
        try:
            migrate_database(postgres.url)
            samples = {name: {p: [] for p in PATHS} for name in variants}
            for _ in range(rounds):
                order = list(variants)
                random.shuffle(order)
                for name in order:
                    for path, us in measure(variants[name], postgres.url, scratch).items():
                        samples[name][path].append(us)
        finally:
            postgres.stop()
    for path in PATHS:
        base, this = min(samples[ref][path]), min(samples["this"][path])
        ratios = [t / b for t, b in zip(samples["this"][path], samples[ref][path], strict=True)]
        print(
            f"{path}: {ref} {base:.1f} µs, this {this:.1f} µs per request (min of {rounds}): "
            f"{this - base:+.1f} µs, {this / base - 1:+.1%}; median ratio of rounds "
            f"{statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main(*sys.argv[1:2], *(int(a) for a in sys.argv[2:3]))
