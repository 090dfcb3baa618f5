"""Settings: defaults derived from each other, one-line errors, the connection budget."""

import pytest

from api.config import DEVELOPMENT_PASSWORD, ConfigError, load_settings


def test_pool_size_is_derived_from_the_budget():
    settings = load_settings({"DB_CONNECTION_BUDGET": 100, "API_REPLICAS": 2, "WEB_CONCURRENCY": 5})
    assert settings.pool_size == 10
    assert settings.connections_needed == 100


def test_derived_pool_size_leaves_room_for_overflow():
    settings = load_settings(
        {"DB_CONNECTION_BUDGET": 100, "WEB_CONCURRENCY": 2, "DB_MAX_OVERFLOW": 10}
    )
    assert settings.pool_size == 40
    settings.check_connection_budget()


def test_derived_pool_size_never_exceeds_the_requests_a_worker_serves():
    settings = load_settings(
        {"DB_CONNECTION_BUDGET": 1000, "WEB_CONCURRENCY": 1, "GUNICORN_WORKER_CLASS": "sync"}
    )
    assert settings.pool_size == 1


def test_workers_default_to_the_available_cpus():
    import os

    assert len(os.sched_getaffinity(0)) == load_settings().workers


def test_over_budget_configuration_is_refused_with_the_numbers():
    settings = load_settings(
        {"DB_CONNECTION_BUDGET": 50, "API_REPLICAS": 2, "WEB_CONCURRENCY": 2, "DB_POOL_SIZE": 20}
    )
    with pytest.raises(ConfigError) as excinfo:
        settings.check_connection_budget()
    message = str(excinfo.value)
    assert "\n" not in message
    assert "DB_CONNECTION_BUDGET=50" in message
    assert "API_REPLICAS=2 × workers=2 × (DB_POOL_SIZE=20 + DB_MAX_OVERFLOW=0) = 80" in message


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"GUNICORN_BACKLOG": "lots"}, "GUNICORN_BACKLOG='lots'"),
        ({"DB_POOL_TIMEOUT": 0}, "DB_POOL_TIMEOUT=0"),
        ({"GUNICORN_WORKER_CLASS": "eventlet"}, "GUNICORN_WORKER_CLASS='eventlet'"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be a postgresql"),
        ({"METRICS_PORT": 70000}, "METRICS_PORT=70000"),
    ],
)
def test_invalid_setting_is_named_on_one_line(overrides, named):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(overrides)
    assert named in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKER_CONNECTIONS", "250")
    monkeypatch.setenv("DB_COOPERATIVE_IO", "false")
    settings = load_settings()
    assert settings.GUNICORN_WORKER_CONNECTIONS == 250
    assert settings.DB_COOPERATIVE_IO is False


def test_production_refuses_the_development_password():
    url = f"postgresql://app:{DEVELOPMENT_PASSWORD}@db/app"
    with pytest.raises(ConfigError, match="development password"):
        load_settings({"APP_ENV": "production", "DATABASE_URL": url})
    load_settings({"APP_ENV": "production", "DATABASE_URL": "postgresql://app:s3cret@db/app"})


def test_error_message_never_contains_the_database_password():
    with pytest.raises(ConfigError) as excinfo:
        load_settings({"APP_ENV": "production", "DATABASE_URL": "postgresql://app@db/app"})
    assert DEVELOPMENT_PASSWORD not in str(excinfo.value)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "150000 100000"}, 1.5),  # cgroup v2, --cpus 1.5
        ({"cpu.max": "max 100000"}, None),
        ({"quota": "100000", "period": "100000"}, 1.0),  # cgroup v1, --cpus 1
        ({"quota": "-1", "period": "100000"}, None),
        ({}, None),
    ],
)
def test_container_cpu_limit_is_read_from_cgroup_v2_or_v1(tmp_path, monkeypatch, files, expected):
    from api import config

    for name, content in files.items():
        (tmp_path / name).write_text(content + "\n")
    monkeypatch.setattr(
        config,
        "_CPU_QUOTA_FILES",
        ((str(tmp_path / "cpu.max"), None), (str(tmp_path / "quota"), str(tmp_path / "period"))),
    )
    assert config._cpu_quota() == expected


def test_database_password_can_come_from_a_file(tmp_path):
    secret = tmp_path / "api_db_password"
    secret.write_text("from-the-secret\n")
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://api:ignored@db:5432/app",
            "DATABASE_PASSWORD_FILE": str(secret),
        }
    )
    assert settings.DATABASE_URL == "postgresql+psycopg2://api:from-the-secret@db:5432/app"
    assert settings.MIGRATE_DATABASE_URL == settings.DATABASE_URL  # one role unless told


def test_owner_password_can_come_from_its_own_file(tmp_path):
    secret = tmp_path / "postgres_password"
    secret.write_text("owner-secret")
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://api:apipass@db/app",
            "MIGRATE_DATABASE_URL": "postgresql://app:x@db/app",
            "MIGRATE_DATABASE_PASSWORD_FILE": str(secret),
        }
    )
    assert settings.MIGRATE_DATABASE_URL == "postgresql+psycopg2://app:owner-secret@db/app"
    assert settings.DATABASE_URL == "postgresql+psycopg2://api:apipass@db/app"


def test_unreadable_password_file_is_one_line_naming_it():
    with pytest.raises(ConfigError) as error:
        load_settings({"DATABASE_PASSWORD_FILE": "/nonexistent/secret"})
    assert "DATABASE_PASSWORD_FILE='/nonexistent/secret' cannot be read" in str(error.value)
    assert "\n" not in str(error.value)


def test_production_refuses_the_development_password_of_the_owner_too():
    with pytest.raises(ConfigError, match="MIGRATE_DATABASE_URL carries the development"):
        load_settings(
            {
                "APP_ENV": "production",
                "DATABASE_URL": "postgresql://api:s3cret@db/app",
                "MIGRATE_DATABASE_URL": "postgresql://app:changethis@db/app",
            }
        )
