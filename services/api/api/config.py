"""Every setting of the API and its gunicorn server, read from the environment in one place.

Field names are the environment variable names. Values derived from others (workers from the
CPUs, the pool size from the connection budget) are properties: `workers`, `pool_size`.
docs/configuration.md explains each one.
"""

import functools
import importlib.util
import math
import os
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only good enough for a laptop: refused when APP_ENV=production.
DEVELOPMENT_PASSWORD = "changethis"
# DATABASE_URL scheme -> the SQLAlchemy driver it selects (psycopg2 unless psycopg 3 is named).
DRIVERS = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgresql+psycopg": "postgresql+psycopg",
}


class ConfigError(Exception):
    """A setting is invalid; the message is one line naming the setting."""


# Where a container's CPU limit (`--cpus`, compose `cpus:`) shows: cgroup v2, then v1.
_CPU_QUOTA_FILES = (
    ("/sys/fs/cgroup/cpu.max", None),
    ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
)


def _cpu_quota() -> float | None:
    """The CPU limit of this process's cgroup, in CPUs, or None if unlimited or unknown."""
    for quota_file, period_file in _CPU_QUOTA_FILES:
        try:
            with open(quota_file) as f:
                values = f.read().split()
            if period_file:
                with open(period_file) as f:
                    values.append(f.read().strip())
        except OSError:
            continue
        quota, period = values[0], values[1]
        return None if quota in ("max", "-1") else int(quota) / int(period)
    return None


def cpu_limit() -> float:
    """The CPU time this process may use, in CPUs: its affinity, capped by a cgroup quota."""
    cpus = float(len(os.sched_getaffinity(0)))
    quota = _cpu_quota()
    return cpus if quota is None else min(cpus, quota)


def available_cpus() -> int:
    """Return the CPUs this process may use, whole: a quota of 1.5 CPUs counts as 2."""
    return max(1, math.ceil(cpu_limit()))


class Settings(BaseSettings):
    """The API's configuration; see docs/configuration.md for when to change each value."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

    APP_ENV: Literal["development", "production"] = "development"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Database and the per-worker connection pool. The API connects as a role with DML rights
    # only; `python -m api migrate` connects as the owner (MIGRATE_DATABASE_URL) and keeps the
    # API's role and its grants up to date. *_PASSWORD_FILE: the password, from a file
    # (Docker/Swarm secrets), replacing the URL's.
    DATABASE_URL: str = f"postgresql+psycopg2://app:{DEVELOPMENT_PASSWORD}@127.0.0.1:5432/app"
    DATABASE_PASSWORD_FILE: str = ""
    MIGRATE_DATABASE_URL: str = ""  # empty: DATABASE_URL (one role for both)
    MIGRATE_DATABASE_PASSWORD_FILE: str = ""
    DB_CONNECTION_BUDGET: int = Field(80, ge=1)
    API_REPLICAS: int = Field(1, ge=1)
    DB_POOL_SIZE: int | None = Field(None, ge=1)  # None: derived from the budget
    DB_MAX_OVERFLOW: int = Field(0, ge=0)
    DB_POOL_TIMEOUT: float = Field(2.0, gt=0, le=60)  # seconds a request may wait for a connection
    DB_POOL_RECYCLE: int = Field(1800, ge=-1)  # seconds; -1 never recycles
    DB_STATEMENT_TIMEOUT_MS: int = Field(5000, ge=0)  # 0 disables
    # "pgbouncer": DATABASE_URL points at PgBouncer in transaction pooling (docs/pgbouncer.md):
    # no per-connection startup options, and migrate checks the budget against PgBouncer's
    # limits (max_client_conn; its server pool against max_connections).
    DB_POOLER: Literal["none", "pgbouncer"] = "none"
    DB_CONNECT_TIMEOUT: int = Field(5, ge=2)  # seconds; libpq's minimum is 2
    DB_COOPERATIVE_IO: bool = True  # psycogreen wait callback in gevent workers

    # HTTP server (gunicorn); the names follow gunicorn's own settings.
    GUNICORN_BIND: str = "127.0.0.1:8000"
    WEB_CONCURRENCY: int | None = Field(None, ge=1)  # None: one worker per available CPU
    GUNICORN_WORKER_CLASS: Literal["gevent", "sync", "gthread"] = "gevent"
    GUNICORN_THREADS: int = Field(1, ge=1)  # gthread only
    GUNICORN_WORKER_CONNECTIONS: int = Field(1000, ge=1)
    GUNICORN_BACKLOG: int = Field(2048, ge=1)
    GUNICORN_TIMEOUT: int = Field(30, ge=1)
    GUNICORN_GRACEFUL_TIMEOUT: int = Field(30, ge=1)
    GUNICORN_KEEPALIVE: int = Field(75, ge=1)
    GUNICORN_MAX_REQUESTS: int = Field(0, ge=0)
    GUNICORN_MAX_REQUESTS_JITTER: int = Field(0, ge=0)
    GUNICORN_PRELOAD_APP: bool = False
    GUNICORN_ACCESS_LOG: bool = False
    GUNICORN_CONTROL_SOCKET: str = ""  # empty: no control socket
    FORWARDED_ALLOW_IPS: str = "127.0.0.1,::1"

    # Observability.
    METRICS_ENABLED: bool = True
    METRICS_HOST: str = "127.0.0.1"
    METRICS_PORT: int = Field(9200, ge=1, le=65535)
    PROMETHEUS_MULTIPROC_DIR: str = ""  # empty: a fresh temporary directory
    EVENT_LOOP_BLOCKED_THRESHOLD_MS: int = Field(100, ge=0)  # 0 disables the watchdog thread

    # Requests.
    API_MAX_BODY_BYTES: int = Field(65536, ge=1024)
    # Seconds one read or write of a request may wait (a body shorter than announced).
    API_BODY_TIMEOUT: float = Field(10.0, gt=0, le=300)
    IDEMPOTENCY_KEY_TTL_HOURS: int = Field(24, ge=1)  # a key is remembered at least this long
    IDEMPOTENCY_CLEANUP_INTERVAL_SECONDS: int = Field(3600, ge=0)  # 0: no automatic cleanup

    @field_validator("DATABASE_URL", "MIGRATE_DATABASE_URL", mode="before")
    @classmethod
    def _explicit_driver(cls, url: str, info: ValidationInfo) -> str:
        if info.field_name == "MIGRATE_DATABASE_URL" and not url:
            return url  # DATABASE_URL's, filled in by _check
        scheme, sep, rest = str(url).partition("://")
        if not sep or scheme not in DRIVERS:
            raise ValueError(
                f"{info.field_name} must be a postgresql://, postgresql+psycopg2:// "
                "or postgresql+psycopg:// URL"
            )
        # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; this API defaults to psycopg2.
        return f"{DRIVERS[scheme]}://{rest}"

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        # frozen=True: the URLs with their password files applied, through __dict__, once.
        if not self.MIGRATE_DATABASE_URL:
            self.__dict__["MIGRATE_DATABASE_URL"] = self.DATABASE_URL
            self.__dict__["MIGRATE_DATABASE_PASSWORD_FILE"] = self.DATABASE_PASSWORD_FILE
        for name in ("DATABASE_URL", "MIGRATE_DATABASE_URL"):
            url = getattr(self, name)
            password_file = getattr(self, name.replace("URL", "PASSWORD_FILE"))
            if password_file:
                url = _with_password(
                    url, _read_secret(name.replace("URL", "PASSWORD_FILE"), password_file)
                )
            if self.APP_ENV == "production" and urlsplit(url).password in (
                DEVELOPMENT_PASSWORD,
                None,
            ):
                raise ValueError(
                    f"{name} carries the development password (or none) while APP_ENV=production"
                )
            self.__dict__[name] = url
        if self.DATABASE_URL.startswith("postgresql+psycopg://"):
            if importlib.util.find_spec("psycopg") is None:
                raise ValueError("DATABASE_URL names psycopg 3, which is not installed")
            if self.GUNICORN_PRELOAD_APP:
                # psycopg 3 picks its wait function at import: in the unpatched master it
                # would block each worker's event loop on every query.
                raise ValueError("GUNICORN_PRELOAD_APP=true cannot be used with psycopg 3")
        return self
        return self

    @functools.cached_property
    def workers(self) -> int:
        """WEB_CONCURRENCY, or one worker per available CPU."""
        return self.WEB_CONCURRENCY or available_cpus()

    @functools.cached_property
    def pool_size(self) -> int:
        """DB_POOL_SIZE, or this worker's share of the connection budget."""
        if self.DB_POOL_SIZE is not None:
            return self.DB_POOL_SIZE
        per_worker = self.DB_CONNECTION_BUDGET // (self.API_REPLICAS * self.workers)
        # More connections than concurrent requests could never be used.
        return max(1, min(per_worker - self.DB_MAX_OVERFLOW, self.concurrency_per_worker))

    @property
    def concurrency_per_worker(self) -> int:
        """How many requests one worker serves at once, by worker class."""
        return {
            "gevent": self.GUNICORN_WORKER_CONNECTIONS,
            "gthread": self.GUNICORN_THREADS,
            "sync": 1,
        }[self.GUNICORN_WORKER_CLASS]

    @property
    def connections_needed(self) -> int:
        """The most database connections all replicas together can open."""
        return self.API_REPLICAS * self.workers * (self.pool_size + self.DB_MAX_OVERFLOW)

    def effective(self) -> dict[str, Any]:
        """Every setting, with the derived values in place of the unset ones."""
        return {
            **self.model_dump(),
            "WEB_CONCURRENCY": self.workers,
            "DB_POOL_SIZE": self.pool_size,
        }

    def check_connection_budget(self) -> None:
        """Raise ConfigError if replicas × workers × (pool + overflow) exceeds the budget."""
        if self.connections_needed > self.DB_CONNECTION_BUDGET:
            raise ConfigError(
                f"DB_CONNECTION_BUDGET={self.DB_CONNECTION_BUDGET} is too small: "
                f"API_REPLICAS={self.API_REPLICAS} × workers={self.workers} × "
                f"(DB_POOL_SIZE={self.pool_size} + DB_MAX_OVERFLOW={self.DB_MAX_OVERFLOW}) "
                f"= {self.connections_needed} connections"
            )


@functools.cache
def get_settings() -> Settings:
    """This process's settings, read from the environment once.

    gunicorn.conf.py calls it in the master; forked workers inherit the object, so the server
    and every worker's app use the very same values.
    """
    return load_settings()


def _with_password(url: str, password: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(password=password).render_as_string(hide_password=False)


def _read_secret(name: str, path: str) -> str:
    """A secret file's content without its trailing newline; ValueError naming the setting."""
    try:
        with open(path) as f:
            return f.read().rstrip("\r\n")
    except OSError as exc:
        raise ValueError(f"{name}={path!r} cannot be read: {exc.strerror}") from None


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read the settings from the environment, with `overrides` taking precedence."""
    try:
        return Settings(**dict(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    """Name each invalid setting, its value and what is wrong, on one line."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "configuration"
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            problems.append(f"{name}={error['input']!r}: {message}")
        else:
            problems.append(message)
    return "invalid configuration: " + "; ".join(problems)
