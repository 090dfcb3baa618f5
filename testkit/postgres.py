"""A throwaway PostgreSQL server: a fresh cluster in a temporary directory on a free port.

Uses the server binaries on the machine (pg_ctl); where they are missing but a Docker engine
answers, a `postgres` container; where neither exists, ThrowawayPostgresUnavailable says
what to install. As root, the server runs as the `postgres` user (initdb refuses root).
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile

from .net import free_port, port_open, wait_until

DOCKER_IMAGE = os.environ.get("TEST_POSTGRES_IMAGE", "postgres:17.12")
USER, PASSWORD, DATABASE = "app", "test-only", "app"
# pg_stat_statements lets tests count the statements an endpoint runs (TFB's query counts).
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "shared_preload_libraries": "pg_stat_statements",
    "fsync": "off",  # a throwaway cluster: durability buys nothing, costs CI time
    "synchronous_commit": "off",
}


class ThrowawayPostgresUnavailable(RuntimeError):
    """Neither PostgreSQL server binaries nor a Docker engine are available."""


def _pg_bin() -> str | None:
    """The directory of the newest PostgreSQL server binaries on this machine, if any."""
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major_version)
    return os.path.dirname(candidates[-1]) if candidates else None


def _major_version(path: str) -> int:
    return int(path.split("/")[-3])


class ThrowawayPostgres:
    """Start with start(), use .url (SQLAlchemy) / .psql_url, stop with stop()."""

    def __init__(self, max_connections: int = 300):
        self.options = {**SERVER_OPTIONS, "max_connections": str(max_connections)}
        self.port = free_port()
        self.url = f"postgresql+psycopg2://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"
        self.admin_url = (
            f"postgresql+psycopg2://postgres:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"
        )
        self._dir = None
        self._container = None
        self._bin = None

    def start(self) -> "ThrowawayPostgres":
        self._bin = _pg_bin()
        if self._bin:
            self._start_native()
        elif (
            shutil.which("docker")
            and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
        ):
            self._start_container()
        else:
            raise ThrowawayPostgresUnavailable(
                "the tests need PostgreSQL: install its server (apt-get install postgresql) "
                "or start a Docker engine (scripts/install-docker-engine)"
            )
        wait_until(lambda: port_open(self.port), 30, f"PostgreSQL on port {self.port}")
        self._wait_accepting()
        return self

    def _as_postgres_user(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _start_native(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="throwaway-pg-")
        data = os.path.join(self._dir, "data")
        pwfile = os.path.join(self._dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD)
        if os.geteuid() == 0:
            uid = pwd.getpwnam("postgres").pw_uid
            for path in (self._dir, pwfile):
                os.chown(path, uid, -1)
        as_pg = self._as_postgres_user()
        subprocess.run(
            as_pg
            + [
                f"{self._bin}/initdb",
                "-D",
                data,
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
        options = " ".join(f"-c {key}={value}" for key, value in self.options.items())
        subprocess.run(
            as_pg
            + [
                f"{self._bin}/pg_ctl",
                "-D",
                data,
                "-l",
                os.path.join(self._dir, "log"),
                "-o",
                f"-p {self.port} -k {self._dir} {options}",
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def _start_container(self) -> None:
        command = [
            "docker",
            "run",
            "-d",
            "--rm",
            "-p",
            f"127.0.0.1:{self.port}:5432",
            "-e",
            f"POSTGRES_PASSWORD={PASSWORD}",
            DOCKER_IMAGE,
            "postgres",
        ]
        for key, value in self.options.items():
            if key != "listen_addresses":
                command += ["-c", f"{key}={value}"]
        self._container = subprocess.run(
            command, check=True, capture_output=True, text=True
        ).stdout.strip()

    def _wait_accepting(self) -> None:
        import psycopg2

        def ready() -> bool:
            try:
                psycopg2.connect(self._dsn("postgres", "postgres")).close()
                return True
            except psycopg2.OperationalError:
                return False

        wait_until(ready, 30, "PostgreSQL accepting connections")
        self.execute_admin(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'", "postgres")
        self.execute_admin(f"CREATE DATABASE {DATABASE} OWNER {USER}", "postgres")
        self.execute_admin("CREATE EXTENSION pg_stat_statements", DATABASE)

    def _dsn(self, user: str, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={user} password={PASSWORD} dbname={database}"

    def execute_admin(self, sql: str, database: str = DATABASE) -> list[tuple]:
        """Run one statement as the superuser, autocommit; return its rows (if any)."""
        import psycopg2

        connection = psycopg2.connect(self._dsn("postgres", database))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def stop(self) -> None:
        if self._container:
            subprocess.run(["docker", "stop", "-t", "5", self._container], capture_output=True)
        if self._dir:
            subprocess.run(
                self._as_postgres_user()
                + [
                    f"{self._bin}/pg_ctl",
                    "-D",
                    os.path.join(self._dir, "data"),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
            )
            shutil.rmtree(self._dir, ignore_errors=True)
