"""Fixtures for tests that run the API under real gunicorn, from its own gunicorn.conf.py."""

import pytest

from testkit.gunicorn import GunicornServer


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def start_gunicorn(postgres):
    """start_gunicorn(**env) -> a running GunicornServer; every one is stopped afterwards."""
    servers = []

    def start(**env) -> GunicornServer:
        server = GunicornServer(postgres.url, **env)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def gunicorn_server(start_gunicorn):
    """The API with the default configuration and one worker."""
    return start_gunicorn()
