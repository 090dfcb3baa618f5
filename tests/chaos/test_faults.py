"""The stack operated like production: each fault injected under mixed load through nginx.

Load (testkit/mixed_load.py): 6 readers (`/db`, `/queries`, `/json`, and items just written)
and 4 writers retrying `POST /api/items` with the same Idempotency-Key until acknowledged.
After each scenario the acknowledged writes are checked against the database.

Everywhere: no acknowledged write lost or duplicated, no 409 to a faithful retry, no acknowledged
item unreadable, no pool connection leaked. No failed idempotent request, except in the database
scenarios, where the only acceptable failure is 503 with Retry-After. Every asserted scenario is
error-free again within RECOVERY_BOUND_S. `make chaos` runs this file alone and prints the table.
"""

import time

import pytest

from testkit.mixed_load import MixedLoad
from testkit.net import wait_until
from tests.chaos.faults import FAULTS, Fault

pytestmark = [pytest.mark.docker, pytest.mark.chaos]

WARM_UP_S = 2  # load before the fault
RECOVERY_BOUND_S = 30


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
    wait_until(lambda: fault_target.pool_connections_in_use() == 0, 30, "pools back to idle")
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
        }
    )

    assert audit.acknowledged > 0
    assert audit.lost == [] and audit.duplicated == {}
    assert figures.conflicts_409 == 0
    assert figures.read_your_write_misses == 0
    assert audit.unacknowledged == 0  # every write got through once the fault was over
    if not fault.asserted:
        return
    if fault.database:
        assert figures.failed_not_503 == 0, figures.status_5xx
    else:
        assert figures.failed_idempotent == 0, figures.status_5xx
    assert figures.recovery_seconds <= RECOVERY_BOUND_S
