"""The stack operated like production: each fault injected under mixed load through nginx.

Load (testkit/mixed_load.py): 6 readers (`/db`, `/queries`, `/json`, and items just written)
and 4 writers retrying `POST /api/items` with the same Idempotency-Key until acknowledged.
After each scenario the acknowledged writes are checked against the database.

Everywhere: no acknowledged write lost or duplicated, no 409 to a faithful retry, no acknowledged
item unreadable, no pool connection leaked, and the alerts the fault calls for raised (pending
or firing). No failed idempotent request, except in the database scenarios, where the only
acceptable failure is 503 with Retry-After. Every asserted scenario is error-free again within
RECOVERY_BOUND_S. `make chaos` runs this file alone and prints the table.
"""

import time

import pytest

from testkit.mixed_load import MixedLoad
from testkit.net import becomes_true
from tests.chaos.faults import FAULTS, Fault

pytestmark = [pytest.mark.docker, pytest.mark.chaos]

WARM_UP_S = 2  # load before the fault
RECOVERY_BOUND_S = 30
POOL_IDLE_S = 30
ALERT_WAIT_S = 30  # a scrape (5 s) and a rule evaluation (5 s) after the fault, with margin


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_fault_under_load(fault_target, record_scenario, fault: Fault):
    fault_target.restore()
    if fault.prepare:
        fault.prepare(fault_target)
    with MixedLoad(fault_target.stack.base_url, prefix="chaos") as load:
        time.sleep(WARM_UP_S)
        fault_at = time.time()
        fault.inject(fault_target)
        time.sleep(fault.settle_seconds)
    figures = load.figures(fault_at=fault_at)
    audit = load.audit(fault_target.item_rows(load.prefix))
    # With the load stopped, every pool connection must come back: none leaked by the fault.
    pools_idle = becomes_true(lambda: fault_target.pool_connections_in_use() == 0, POOL_IDLE_S)
    # The alerts an operator would see (pending or firing: `for:` is longer than a scenario).
    expected = set(fault.alerts)
    becomes_true(lambda: expected <= fault_target.alerts_since(fault_at), ALERT_WAIT_S)
    active = fault_target.alerts_since(fault_at)
    raised = sorted(active - fault_target.alerts_at(fault_at))  # not left over from before
    record_scenario(
        {
            "scenario": fault.name,
            "what": fault.description,
            "asserted": fault.asserted,
            **figures.as_dict(),
            "acknowledged": audit.acknowledged,
            "lost": len(audit.lost),
            "duplicated": len(audit.duplicated),
            "unacknowledged": audit.unacknowledged,
            "pools_idle_after": pools_idle,
            "alerts": raised,
        }
    )

    assert audit.acknowledged > 0
    assert audit.lost == [] and audit.duplicated == {}
    assert figures.conflicts_409 == 0
    assert figures.read_your_write_misses == 0
    assert audit.unacknowledged == 0  # every write got through once the fault was over
    assert pools_idle, "a pool connection is still checked out with no load"
    assert expected <= active
    if not fault.asserted:
        return
    failures = figures.failed_not_503 if fault.database else figures.failed_idempotent
    assert failures == 0, (figures.status_5xx, fault_target.errors_logged(fault_at - WARM_UP_S))
    assert figures.recovery_seconds <= RECOVERY_BOUND_S
