"""The healthcheck reads three settings without api.config: their defaults must agree."""

from api import healthcheck
from api.config import Settings


def test_healthcheck_defaults_are_the_settings_defaults():
    for name, value in healthcheck.DEFAULTS.items():
        assert str(Settings.model_fields[name].default).lower() == value.lower(), name


def test_gauge_sums_the_samples_of_one_metric_only():
    exposition = (
        "# HELP api_workers Live workers\n"
        "api_workers 2.0\n"
        "api_workers_total 7.0\n"
        'api_listen_backlog{listener="0.0.0.0:8000"} 3.0\n'
        'api_listen_backlog{listener="[::]:8000"} 1.0\n'
    )
    assert healthcheck._gauge(exposition, "api_workers") == 2
    assert healthcheck._gauge(exposition, "api_listen_backlog") == 4
    assert healthcheck._gauge(exposition, "api_db_pool_size") == 0
