"""What PgBouncer costs and what it buys, measured on this machine (docs/pgbouncer.md).

    .venv/bin/python -m benchmarks.pgbouncer.run [--rounds 5] [--duration 5]

1. The hop: one API worker (real gunicorn) on GET /db, straight to PostgreSQL and through
   PgBouncer (transaction pooling), wrk -c32; interleaved rounds, medians, their ratio.
2. The gain: a budget of 24 server connections (what max_connections=37 leaves, minus
   superusers and tools) shared by R replicas (--replicas, R = 1, 2, 3, 6). Straight, each
   worker's pool is its share, 24/R; through PgBouncer the pools are client connections (20
   each: 20 R in all, more than max_connections from R = 2) and PgBouncer's 24 server
   connections go to whichever replica is busy. One replica takes the load (GET
   /db/sleep?ms=20, wrk -c64): an uneven share, as after a scale-up or with long keep-alive
   connections. Throughput, and the requests shed (503 after DB_POOL_TIMEOUT).

Everything on 127.0.0.1: a throwaway PostgreSQL, PgBouncer (the stack's image, host network),
gunicorn from services/api/gunicorn.conf.py. Every wrk run is bounded by --duration.
"""

import argparse
import json
import shutil
import statistics
import sys

from benchmarks.matrix.run import wrk
from testkit.gunicorn import GunicornServer, migrate_database
from testkit.pgbouncer import PgBouncer, pgbouncer_unavailable
from testkit.postgres import ThrowawayPostgres

OWNER, PASSWORD = "app", "test-only"  # testkit.postgres's database owner
SERVER_CONNECTIONS = 24


def servers(postgres, bouncer, direct_env: dict, pooled_env: dict) -> dict[str, GunicornServer]:
    common = {"WEB_CONCURRENCY": 1, "DB_POOL_TIMEOUT": 2}
    return {
        "direct": GunicornServer(postgres.url, **common, **direct_env),
        "pgbouncer": GunicornServer(
            bouncer.url_for(postgres.url), DB_POOLER="pgbouncer", **common, **pooled_env
        ),
    }


def interleaved(named: dict[str, GunicornServer], path: str, concurrency, rounds, duration):
    """{name: [wrk result per round]}, the order alternating between rounds."""
    results = {name: [] for name in named}
    for server in named.values():
        wrk(f"{server.url}{path}", concurrency, 1)  # warm-up: opens the pools
    for number in range(rounds):
        order = list(named) if number % 2 == 0 else list(reversed(named))
        for name in order:
            results[name].append(wrk(f"{named[name].url}{path}", concurrency, duration))
    return results


def summary(results: dict[str, list[dict]], baseline: str) -> dict:
    """Medians per server, and the median of the per-round throughput ratios to `baseline`."""
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50", "p99")}
        | {"errors": sum(r["errors"] for r in runs), "rounds": [round(r["rps"]) for r in runs]}
        for name, runs in results.items()
    }
    for name, values in medians.items():
        pairs = zip(results[name], results[baseline], strict=True)
        values["rps_ratio"] = round(statistics.median(r["rps"] / b["rps"] for r, b in pairs), 3)
    return medians


def run_scenario(postgres, bouncer_settings, direct_env, pooled_env, path, concurrency, args):
    with PgBouncer(postgres.port, OWNER, PASSWORD, **bouncer_settings) as bouncer:
        named = servers(postgres, bouncer, direct_env, pooled_env)
        try:
            for server in named.values():
                server.start()
            return summary(
                interleaved(named, path, concurrency, args.rounds, args.duration), "direct"
            )
        finally:
            for server in named.values():
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--replicas", default="1,2,3,6", help="R values of the gain scenario")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run scripts/install-test-tools (Debian's wrk package)")
    if why_not := pgbouncer_unavailable():
        sys.exit(why_not)
    postgres = ThrowawayPostgres().start()
    try:
        migrate_database(postgres.url)
        hop = run_scenario(
            postgres,
            {"DEFAULT_POOL_SIZE": 20},
            {"DB_POOL_SIZE": 20},
            {"DB_POOL_SIZE": 20},
            "/db",
            32,
            args,
        )
        results = {"hop /db c=32": hop}
        for replicas in map(int, args.replicas.split(",")):
            results[f"24 server connections, {replicas} replicas, /db/sleep?ms=20 c=64"] = (
                run_scenario(
                    postgres,
                    {"DEFAULT_POOL_SIZE": SERVER_CONNECTIONS},
                    {"DB_CONNECTION_BUDGET": SERVER_CONNECTIONS, "API_REPLICAS": replicas},
                    {"DB_CONNECTION_BUDGET": 20 * replicas, "API_REPLICAS": replicas},
                    "/db/sleep?ms=20",
                    64,
                    args,
                )
            )
    finally:
        postgres.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
