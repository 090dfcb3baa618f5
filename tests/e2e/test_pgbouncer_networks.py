"""Least privilege with PgBouncer (deploy/pgbouncer/compose.pgbouncer.yml): the API leaves the
database's network for PgBouncer's, so PgBouncer is the only database server it can reach, and
PgBouncer and its exporter run as hardened as the rest (docs/security.md). A stack of its own
(db, migrate, PgBouncer, one API replica): the overlay changes the API's networks."""

import pytest

from tests.e2e.compose import REPO, Stack, docker_unavailable
from tests.least_privilege import capabilities_and_user, netprobe

pytestmark = pytest.mark.docker

PGBOUNCER_OVERLAY = REPO / "deploy/pgbouncer/compose.pgbouncer.yml"


@pytest.fixture(scope="module")
def pooled(stack):  # `stack`: the session's, which builds the API image
    why_not = docker_unavailable()
    if why_not:
        pytest.skip(f"no Docker engine ({why_not})")
    pooled = Stack.for_tests("e2e-pgb", overlays=[PGBOUNCER_OVERLAY])
    try:
        pooled.up("api", "pgbouncer-exporter")
        yield pooled
    finally:
        pooled.down()


def containers(stack) -> dict[str, dict]:
    ids = stack.compose("ps", "-q").stdout.split()
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in stack.inspect(*ids)}


def test_the_api_reaches_pgbouncer_and_not_the_database(pooled):
    api = containers(pooled)["api"]
    targets = [
        "pgbouncer:6432",
        "db:5432",
        f"{pooled.address(containers(pooled)['db'], 'data')}:5432",
    ]
    pgbouncer, by_name, by_address = netprobe(
        api["Config"]["Image"], f"container:{api['Id']}", targets
    )
    assert pgbouncer["outcome"] == "connected"
    assert by_name["outcome"] == "no such name"
    assert by_address["outcome"] in ("ENETUNREACH", "ETIMEDOUT"), by_address


def test_pgbouncer_and_its_exporter_run_unprivileged(pooled):
    found = containers(pooled)
    for service in ("pgbouncer", "pgbouncer-exporter"):
        container = found[service]
        assert container["HostConfig"]["ReadonlyRootfs"] is True, service
        assert container["HostConfig"]["CapDrop"] == ["ALL"], service
        assert container["HostConfig"]["PidsLimit"] > 0, service
        granted = capabilities_and_user(container)
        assert "0" not in granted["uids"] and granted["no_new_privs"], service
        assert granted["CapBnd"] == granted["CapEff"] == 0, service
