"""PgBouncer (the stack's image) in front of a test PostgreSQL: host network, loopback only.

with PgBouncer(postgres.port, "api", "secret", DEFAULT_POOL_SIZE=5) as bouncer:
    url = bouncer.url_for(database_url)   # the same URL, through PgBouncer
"""

import os

from sqlalchemy.engine import make_url

from .docker import Container, image_present
from .net import free_port, port_open, wait_until

IMAGE = os.environ.get("TEST_PGBOUNCER_IMAGE", "reference-stack/pgbouncer:1.26.1")
EXPORTER_IMAGE = os.environ.get(
    "TEST_PGBOUNCER_EXPORTER_IMAGE", "quay.io/prometheuscommunity/pgbouncer-exporter:v0.12.0"
)


def pgbouncer_unavailable() -> str | None:
    """Why PgBouncer's image cannot run here, or None."""
    if not image_present(IMAGE):
        return f"no image {IMAGE} (scripts/build-offline-images pgbouncer)"
    return None


class PgBouncer:
    """One PgBouncer container; `settings` are PGBOUNCER_* variables without the prefix."""

    def __init__(self, postgres_port: int, user: str, password: str, **settings):
        self.port = free_port()
        env = {
            "PGBOUNCER_LISTEN_ADDR": "127.0.0.1",
            "PGBOUNCER_LISTEN_PORT": str(self.port),
            "PGBOUNCER_DB_HOST": "127.0.0.1",
            "PGBOUNCER_DB_PORT": str(postgres_port),
            "PGBOUNCER_USER": user,
            "PGBOUNCER_PASSWORD": password,
            **{f"PGBOUNCER_{name}": str(value) for name, value in settings.items()},
        }
        self.container = Container(IMAGE, env=env)

    def __enter__(self) -> "PgBouncer":
        self.container.start()
        wait_until(lambda: port_open(self.port), 20, f"PgBouncer on port {self.port}")
        return self

    def __exit__(self, *exc_info) -> None:
        self.container.stop()

    def url_for(self, database_url: str) -> str:
        """`database_url` with PgBouncer's address instead of the server's."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)
