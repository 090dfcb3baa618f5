"""The PostgreSQL dashboard's PgBouncer panels, proven against a real PgBouncer and exporter.

The overload run of test_real_data.py has no PgBouncer, so it leaves these panels out. Here:
a throwaway PostgreSQL, PgBouncer with a server pool of 2 (the stack's image), its exporter
(container, host network) and a native Prometheus scraping it every second, while 8 clients
run short transactions through it (so clients wait for the 2 server connections). Then every
PgBouncer panel query runs as Grafana would run it over that window.
"""

import shutil
import threading
import time
from types import SimpleNamespace

import psycopg2
import pytest

from deploy.grafana.tests.test_real_data import finite, panel_queries
from testkit.docker import Container, docker_available, image_present
from testkit.net import free_port, port_open, wait_until
from testkit.pgbouncer import EXPORTER_IMAGE, IMAGE, PgBouncer
from testkit.postgres import ThrowawayPostgres
from testkit.prometheus import NativePrometheus

pytestmark = [pytest.mark.integration, pytest.mark.docker]

POOL_SIZE, CLIENTS, LOAD_SECONDS = 2, 8, 8


def _missing_prerequisite() -> str | None:
    if shutil.which("prometheus") is None:
        return "prometheus is not installed (scripts/install-test-tools)"
    if not docker_available():
        return "no Docker engine (scripts/install-docker-engine)"
    missing = [image for image in (IMAGE, EXPORTER_IMAGE) if not image_present(image)]
    return f"images {missing} are missing (scripts/build-offline-images)" if missing else None


def run_transactions(port: int, until: float) -> None:
    connection = psycopg2.connect(
        host="127.0.0.1", port=port, user="app", password="test-only", dbname="app"
    )
    try:
        with connection.cursor() as cursor:
            while time.time() < until:
                cursor.execute("SELECT pg_sleep(0.02)")
                connection.commit()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def observed():
    """(prometheus, run window) after CLIENTS clients ran transactions through PgBouncer."""
    reason = _missing_prerequisite()
    if reason:
        pytest.skip(reason)
    postgres = ThrowawayPostgres().start()
    try:
        with PgBouncer(postgres.port, "app", "test-only", DEFAULT_POOL_SIZE=POOL_SIZE) as bouncer:
            exporter_port = free_port()
            connection = f"postgres://stats@127.0.0.1:{bouncer.port}/pgbouncer?sslmode=disable"
            exporter = Container(
                EXPORTER_IMAGE,
                f"--web.listen-address=127.0.0.1:{exporter_port}",
                f"--pgBouncer.connectionString={connection}",
            ).start()
            prometheus = None
            try:
                wait_until(lambda: port_open(exporter_port), 20, "pgbouncer_exporter")
                target = {"targets": [f"127.0.0.1:{exporter_port}"]}
                config = {
                    "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                    "scrape_configs": [{"job_name": "pgbouncer", "static_configs": [target]}],
                }
                prometheus = NativePrometheus(config).start()
                prometheus.wait_for_targets({"pgbouncer"})
                start = time.time()
                clients = [
                    threading.Thread(
                        target=run_transactions, args=(bouncer.port, start + LOAD_SECONDS)
                    )
                    for _ in range(CLIENTS)
                ]
                for client in clients:
                    client.start()
                for client in clients:
                    client.join()
                time.sleep(2)  # the last scrapes of the load
                yield prometheus, SimpleNamespace(start=start, end=time.time())
            finally:
                if prometheus:
                    prometheus.stop()
                exporter.stop()
    finally:
        postgres.stop()


def pgbouncer_series(prometheus, run):
    """{(panel title, ref id): series} of every PgBouncer query of the dashboards."""
    found = {}
    for _, panel, target, expr, step in panel_queries(SimpleNamespace(prometheus=prometheus), run):
        if "pgbouncer_" in expr:
            series = prometheus.query_range(expr, run.start, run.end, step)
            found[panel.title, target.ref_id] = finite(series)
    return found


def test_every_pgbouncer_panel_query_returns_data(observed):
    series = pgbouncer_series(*observed)
    assert len(series) >= 9
    assert [key for key, values in series.items() if not values] == []


def test_clients_wait_for_the_small_server_pool_and_the_panels_show_it(observed):
    series = pgbouncer_series(*observed)
    assert max(series["PgBouncer clients vs max_client_conn", "B"]) > 0  # waiting
    servers = series["PgBouncer server connections vs pool size", "A"]  # active
    assert 0 < max(servers) <= POOL_SIZE
    assert max(series["PgBouncer client wait", "B"]) > 0  # mean wait per transaction
