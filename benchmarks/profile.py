"""Flame graphs of the API's request path: py-spy on one gunicorn worker while wrk drives it.

    python -m benchmarks.profile --label before [--duration 10] [--out docs/profiles]

For each endpoint (/db, /json, GET /api/items/<id>) wrk keeps 64 connections busy while
py-spy samples the worker, once for a flame graph (OUT/LABEL-ENDPOINT.svg) and once for the
raw stacks; OUT/LABEL.md gets the top frames (self time) and the share of each layer.
The server is the API under gunicorn from services/api/gunicorn.conf.py with one worker (the
load generator gets the other core), on a throwaway PostgreSQL. Load goes to 127.0.0.1 only.
"""

import argparse
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from testkit.gunicorn import GunicornServer, migrate_database
from testkit.postgres import ThrowawayPostgres

REPO = Path(__file__).resolve().parents[1]
PY_SPY = Path(sys.executable).with_name("py-spy")
CONNECTIONS = 64
SAMPLE_RATE = 200  # Hz
TOP = 12

# Which layer a frame belongs to, by the first matching part of its file path.
LAYERS = (
    ("psycopg2 (C) + database round trip", ("psycopg2/", "psycogreen/")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("prometheus", ("prometheus_client/", "prometheus_flask_exporter/")),
    ("Flask / werkzeug", ("flask/", "werkzeug/", "jinja2/", "itsdangerous/", "markupsafe/")),
    ("pydantic", ("pydantic/", "pydantic_core/")),
    ("gunicorn", ("gunicorn/",)),
    ("gevent", ("gevent/",)),
    ("the API's own code", ("services/api/api/",)),
)
# SQLAlchemy's calls into psycopg2's C code: their self time is libpq and the round trip.
DBAPI_CALLS = {"do_execute", "do_rollback", "do_commit", "do_begin", "set_isolation_level"}
DBAPI_LAYER = LAYERS[0][0]
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def endpoints(server: GunicornServer) -> dict[str, str]:
    """name -> path; creates the item that GET /api/items/<id> reads."""
    item = requests.post(
        server.url + "/api/items", json={"name": "profiled", "quantity": 1, "price": "9.99"}
    ).json()
    return {"db": "/db", "json": "/json", "item": f"/api/items/{item['id']}"}


def record(pid: int, seconds: int, out: Path, fmt: str) -> None:
    subprocess.run(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            str(SAMPLE_RATE),
            "--nonblocking",  # don't pause the worker per sample: no distortion of timing
            "--format",
            fmt,
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
    )


def layer_of(frames: list[tuple[str, str]]) -> str:
    """The layer of the innermost frame that has one: stdlib time is charged to its caller."""
    function, _ = frames[-1]
    if function.rpartition(".")[2] in DBAPI_CALLS:
        return DBAPI_LAYER
    for _, file in reversed(frames):
        for layer, parts in LAYERS:
            if any(part in file for part in parts):
                return layer
    return "other"


def parse_frame(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    if not match or not match["function"]:
        return ("(no Python frame: native code)", "")
    return match["function"], match["file"]


def _name(function: str, file: str) -> str:
    if not file:
        return function
    return f"{function} ({file.split('site-packages/')[-1].split('services/api/')[-1]})"


def summarise(raw: Path) -> dict:
    """Samples, and shares of the top functions (self, inclusive) and of each layer."""
    self_time: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    layers: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [parse_frame(frame) for frame in stack.split(";")]
        self_time[_name(*frames[-1])] += int(count)
        for name in {_name(*frame) for frame in frames}:
            inclusive[name] += int(count)
        layers[layer_of(frames)] += int(count)
        total += int(count)

    def shares(counter, top=None) -> list[tuple[str, float]]:
        return [(name, n / total) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "self": shares(self_time, TOP),
        "inclusive": shares(inclusive, 3 * TOP),
        "layers": shares(layers),
    }


def markdown(label: str, rates: dict, summaries: dict) -> str:
    lines = [
        f"# Profile `{label}`: where a request's CPU time goes",
        "",
        f"`python -m benchmarks.profile --label {label}`: one gunicorn worker "
        f"(services/api/gunicorn.conf.py), wrk -c{CONNECTIONS}, py-spy at {SAMPLE_RATE} Hz "
        "(idle samples excluded). Self time is the sample's innermost Python frame; time in "
        "psycopg2's C code (libpq, the round trip) shows in the SQLAlchemy frame that called it "
        f"({', '.join(sorted(DBAPI_CALLS))}), counted as the layer '{DBAPI_LAYER}'.",
    ]
    for name, summary in summaries.items():
        lines += [
            "",
            f"## {name}: {rates[name]:,.0f} req/s during the recording, "
            f"{summary['samples']:,} samples",
            "",
            "| layer (stdlib charged to its caller) | self time |",
            "|---|---|",
            *(f"| {layer} | {share:.0%} |" for layer, share in summary["layers"]),
            "",
            "| top frames (self time) | share |",
            "|---|---|",
            *(f"| `{frame}` | {share:.1%} |" for frame, share in summary["self"]),
            "",
            "<details><summary>top frames, inclusive</summary>",
            "",
            "| frame (and what it calls) | share |",
            "|---|---|",
            *(f"| `{frame}` | {share:.1%} |" for frame, share in summary["inclusive"]),
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="file name prefix, e.g. before/after")
    parser.add_argument("--duration", type=int, default=10, help="seconds per recording")
    parser.add_argument("--out", type=Path, default=REPO / "docs/profiles")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the API")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = dict(item.split("=", 1) for item in args.env)

    postgres = ThrowawayPostgres().start()
    server = None
    try:
        migrate_database(postgres.url)
        server = GunicornServer(postgres.url, LOG_LEVEL="WARNING", **env).start()
        (worker,) = server.worker_pids()
        rates, summaries = {}, {}
        for name, path in endpoints(server).items():
            wrk = subprocess.Popen(
                [
                    "wrk",
                    "-t2",
                    f"-c{CONNECTIONS}",
                    f"-d{2 * args.duration + 3}s",
                    server.url + path,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                subprocess.run(["sleep", "2"], check=True)  # warm up first
                record(worker, args.duration, args.out / f"{args.label}-{name}.svg", "flamegraph")
                with tempfile.NamedTemporaryFile(suffix=".txt") as raw:
                    record(worker, args.duration, Path(raw.name), "raw")
                    summaries[name] = summarise(Path(raw.name))
            finally:
                output = wrk.communicate(timeout=2 * args.duration + 60)[0]
            rates[name] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
            print(f"{name}: {rates[name]:.0f} req/s", flush=True)
        (args.out / f"{args.label}.md").write_text(markdown(args.label, rates, summaries))
    finally:
        if server:
            server.stop()
        postgres.stop()
    print(f"written: {args.out}/{args.label}.md and {args.label}-*.svg")


if __name__ == "__main__":
    main()
