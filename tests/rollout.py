"""What the rolling-deploy tests (tests/swarm, tests/deploy, tests/swarm_multinode) check of
the fault suite's mixed load (testkit/mixed_load.py) and of the database behind it."""

# Fewer threads than the fault suite's 6 + 4: 2 shared cores also run the stack and rollout.
READERS, WRITERS = 4, 2


def item_rows(psql, prefix: str) -> list[tuple[str, int]]:
    """(name, id) of the items named `prefix`..., read with `psql(*args) -> output`."""
    output = psql("-At", "-F,", "-c", f"SELECT name, id FROM items WHERE name LIKE '{prefix}%'")
    rows = (row.split(",") for row in output.split())
    return [(name, int(item_id)) for name, item_id in rows]


def summary(figures, audit) -> dict:
    return {
        "requests": figures.requests,
        "failed_idempotent": figures.failed_idempotent,
        "client_resends": figures.client_resends,
        "writes_acknowledged": audit.acknowledged,
        "lost_writes": len(audit.lost),
        "read_p99_ms": figures.read_p99_ms,
    }


def assert_nothing_failed_or_lost(figures, audit) -> None:
    assert figures.failed_idempotent == 0, figures.failure_samples
    assert figures.read_your_write_misses == 0
    assert (audit.lost, audit.duplicated, audit.unacknowledged) == ([], {}, 0)
