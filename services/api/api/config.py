"""Every setting of the API and its gunicorn server, read from the environment in one place.

Field names are the environment variable names. Defaults that depend on each other (workers
from the CPUs, pool size from the connection budget) are derived after validation, so the
settings object always holds concrete values. docs/configuration.md explains each one.
"""

import math
import os
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only good enough for a laptop: refused when APP_ENV=production.
DEVELOPMENT_PASSWORD = "changethis"


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

    # Database and the per-worker connection pool.
    DATABASE_URL: str = f"postgresql+psycopg2://app:{DEVELOPMENT_PASSWORD}@127.0.0.1:5432/app"
    DB_CONNECTION_BUDGET: int = Field(80, ge=1)
    API_REPLICAS: int = Field(1, ge=1)
    DB_POOL_SIZE: int | None = Field(None, ge=1)  # None: derived from the budget
    DB_MAX_OVERFLOW: int = Field(0, ge=0)
    DB_POOL_TIMEOUT: float = Field(2.0, gt=0, le=60)  # seconds a request may wait for a connection
    DB_POOL_RECYCLE: int = Field(1800, ge=-1)  # seconds; -1 never recycles
    DB_STATEMENT_TIMEOUT_MS: int = Field(5000, ge=0)  # 0 disables
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
    EVENT_LOOP_BLOCKED_THRESHOLD_MS: int = Field(100, ge=0)  # 0 disables the monitor thread

    # Requests.
    API_MAX_BODY_BYTES: int = Field(65536, ge=1024)

    @model_validator(mode="after")
    def _derive_and_check(self) -> "Settings":
        # frozen=True: fill derived defaults through __dict__, once, here.
        if self.WEB_CONCURRENCY is None:
            self.__dict__["WEB_CONCURRENCY"] = available_cpus()
        if self.DB_POOL_SIZE is None:
            per_worker = self.DB_CONNECTION_BUDGET // (self.API_REPLICAS * self.WEB_CONCURRENCY)
            # More connections than concurrent requests could never be used.
            self.__dict__["DB_POOL_SIZE"] = max(
                1, min(per_worker - self.DB_MAX_OVERFLOW, self.concurrency_per_worker)
            )
        scheme = urlsplit(self.DATABASE_URL).scheme
        if scheme not in ("postgresql", "postgres", "postgresql+psycopg2"):
            raise ValueError("DATABASE_URL must be a postgresql:// or postgresql+psycopg2:// URL")
        if scheme != "postgresql+psycopg2":
            # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; this API runs psycopg2.
            driver_url = "postgresql+psycopg2" + self.DATABASE_URL[len(scheme) :]
            self.__dict__["DATABASE_URL"] = driver_url
        if self.APP_ENV == "production" and urlsplit(self.DATABASE_URL).password in (
            DEVELOPMENT_PASSWORD,
            None,
        ):
            raise ValueError(
                "DATABASE_URL carries the development password (or none) while APP_ENV=production"
            )
        return self

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
        return self.API_REPLICAS * self.WEB_CONCURRENCY * (self.DB_POOL_SIZE + self.DB_MAX_OVERFLOW)

    def check_connection_budget(self) -> None:
        """Raise ConfigError if replicas × workers × (pool + overflow) exceeds the budget."""
        if self.connections_needed > self.DB_CONNECTION_BUDGET:
            raise ConfigError(
                f"DB_CONNECTION_BUDGET={self.DB_CONNECTION_BUDGET} is too small: "
                f"API_REPLICAS={self.API_REPLICAS} × workers={self.WEB_CONCURRENCY} × "
                f"(DB_POOL_SIZE={self.DB_POOL_SIZE} + DB_MAX_OVERFLOW={self.DB_MAX_OVERFLOW}) "
                f"= {self.connections_needed} connections"
            )


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
