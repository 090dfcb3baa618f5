"""migrate's budget check behind PgBouncer: what must fit, named when it does not."""

import pytest

from api.pooler import PoolerError, check_pooled_budget


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"pool_mode": "session"}, "needs pool_mode=transaction"),
        (
            {"default_pool_size": "250", "reserve_pool_size": "50"},
            "reserve_pool_size=50 exceeds the 287",
        ),
    ],
)
def test_pooled_budget_check_names_what_does_not_fit(config, message):
    pgbouncer = {
        "pool_mode": "transaction",
        "max_client_conn": "1000",
        "default_pool_size": "20",
        "reserve_pool_size": "0",
        **config,
    }
    with pytest.raises(PoolerError, match=message):
        check_pooled_budget(400, 287, pgbouncer)


def test_pooled_budget_may_exceed_max_connections():
    pgbouncer = {"pool_mode": "transaction", "max_client_conn": "1000"}
    pgbouncer |= {"default_pool_size": "20", "reserve_pool_size": "5"}
    assert "25 server connections <= 87 usable" in check_pooled_budget(800, 87, pgbouncer)
