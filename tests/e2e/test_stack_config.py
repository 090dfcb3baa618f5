"""Numbers that docker-compose.yml, nginx, Prometheus, Grafana and the API must agree on, and
the variable list in .env.example; checked from the files, no Docker needed."""

import re

import yaml

from api.config import Settings
from tests.e2e.compose import COMPOSE_FILE, REPO

NGINX_CONF = (REPO / "deploy/nginx/conf.d/stack.conf").read_text()
COMPOSE_TEXT = COMPOSE_FILE.read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]


def api_default(name: str):
    return Settings.model_fields[name].default


def seconds(value: str) -> int:
    """'35s' or '1m' -> seconds."""
    number, unit = re.fullmatch(r"(\d+)([sm])", value).groups()
    return int(number) * (60 if unit == "m" else 1)


def compose_default(name: str) -> str:
    """The default of ${NAME:-default} in docker-compose.yml."""
    [default] = set(re.findall(r"\$\{" + name + r":-([^}]*)\}", COMPOSE_TEXT))
    return default


def nginx_value(directive: str) -> str:
    [value] = re.findall(rf"^\s*{directive}\s+([^;]+);", NGINX_CONF, re.M)
    return value


def test_compose_is_a_compose_specification_file():
    assert "version" not in COMPOSE
    assert "container_name" not in SERVICES["api"]
    assert "ports" not in SERVICES["api"] and "ports" not in SERVICES["db"]


def test_nginx_body_limit_matches_the_api():
    # The public server's (4 spaces in): the problem pages' location has none (0).
    [limit] = re.findall(r"^    client_max_body_size\s+([^;]+);", NGINX_CONF, re.M)
    assert limit == f"{api_default('API_MAX_BODY_BYTES') // 1024}k"


def test_nginx_upstream_keepalive_ends_before_gunicorns():
    upstream = NGINX_CONF[NGINX_CONF.index("upstream api {") :]
    timeout = re.search(r"keepalive_timeout\s+(\w+);", upstream).group(1)
    assert seconds(timeout) < api_default("GUNICORN_KEEPALIVE")


def test_api_stop_grace_period_outlasts_gunicorns_graceful_timeout():
    grace = seconds(compose_default("API_STOP_GRACE_PERIOD"))
    assert grace > api_default("GUNICORN_GRACEFUL_TIMEOUT")


def test_postgres_max_connections_covers_the_connection_budget():
    # api/cli.py (migrate): max_connections - 3 superuser-reserved - 10 for tools >= budget.
    max_connections = int(compose_default("POSTGRES_MAX_CONNECTIONS"))
    assert max_connections - 3 - 10 >= int(compose_default("DB_CONNECTION_BUDGET"))


def test_grafana_time_interval_is_the_scrape_interval():
    prometheus = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    provisioning = REPO / "deploy/grafana/provisioning/datasources/prometheus.yml"
    [datasource] = yaml.safe_load(provisioning.read_text())["datasources"]
    assert datasource["uid"] == "prometheus" and datasource["isDefault"] is True
    assert datasource["jsonData"]["timeInterval"] == prometheus["global"]["scrape_interval"]


def test_env_example_lists_every_compose_and_api_variable():
    env_example = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", env_example, re.M))
    read_by_compose = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_TEXT))
    fixed_in_container = {
        "DATABASE_URL",
        "GUNICORN_BIND",
        "METRICS_HOST",
        "METRICS_PORT",
        "PROMETHEUS_MULTIPROC_DIR",
    }
    # The owner's URL and password: migrate's alone, never the API's (least privilege).
    migrate_only = {"MIGRATE_DATABASE_URL", "MIGRATE_DATABASE_PASSWORD_FILE"}
    api_settings = set(Settings.model_fields) - fixed_in_container - {"MIGRATE_DATABASE_URL"}
    assert read_by_compose - listed == set()
    assert api_settings - listed == set()
    # ... and compose passes each API setting on to the containers.
    assert api_settings - migrate_only - set(COMPOSE["x-api-environment"]) == set()
    assert migrate_only <= set(COMPOSE["services"]["migrate"]["environment"])
    assert not migrate_only & set(COMPOSE["services"]["api"]["environment"])
