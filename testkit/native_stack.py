"""The stack without Docker: PostgreSQL, the API under gunicorn and Prometheus, all native.

For load-test development and tests where no Compose stack runs. There is no nginx: clients
talk to gunicorn directly. Run it by hand with

    .venv/bin/python -m testkit.native_stack [--workers N] [--max-seconds S]

which prints BASE_URL and PROMETHEUS_URL, and stops everything on Ctrl-C or after S seconds.
"""

import argparse
import contextlib
import signal
import time

from .gunicorn import GunicornServer, migrate_database
from .postgres import ThrowawayPostgres
from .prometheus import NativePrometheus


class NativeStack:
    """start() PostgreSQL (migrated), gunicorn and Prometheus (job `api`); stop() all three."""

    def __init__(self, workers: int = 1, scrape_interval: str = "1s", **api_env: str | int):
        self.workers = workers
        self.scrape_interval = scrape_interval
        self.api_env = api_env
        self.postgres: ThrowawayPostgres | None = None
        self.api: GunicornServer | None = None
        self.prometheus: NativePrometheus | None = None

    @property
    def base_url(self) -> str:
        return self.api.url

    @property
    def prometheus_url(self) -> str:
        return self.prometheus.url

    def prometheus_config(self) -> dict:
        """Scrape the API's metrics (served by the gunicorn master) as job `api`."""
        return {
            "global": {"scrape_interval": self.scrape_interval},
            "scrape_configs": [
                {
                    "job_name": "api",
                    "static_configs": [{"targets": [f"127.0.0.1:{self.api.metrics_port}"]}],
                }
            ],
        }

    def start(self) -> "NativeStack":
        try:
            self.postgres = ThrowawayPostgres().start()
            migrate_database(self.postgres.url)
            self.api = GunicornServer(
                self.postgres.url, WEB_CONCURRENCY=self.workers, **self.api_env
            ).start()
            self.prometheus = NativePrometheus(self.prometheus_config()).start()
            self.prometheus.wait_for_targets({"api"})
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for part in (self.prometheus, self.api, self.postgres):
            if part is not None:
                part.stop()

    def __enter__(self) -> "NativeStack":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers")
    parser.add_argument("--scrape-interval", default="1s")
    parser.add_argument("--max-seconds", type=float, default=3600, help="stop after this long")
    args = parser.parse_args()
    # SIGTERM (kill PID) stops everything as Ctrl-C does, instead of orphaning the servers.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with NativeStack(args.workers, args.scrape_interval) as stack:
        print(f"BASE_URL={stack.base_url}", flush=True)
        print(f"PROMETHEUS_URL={stack.prometheus_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(args.max_seconds)


if __name__ == "__main__":
    main()
