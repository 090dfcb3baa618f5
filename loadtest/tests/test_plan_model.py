"""The model and the planner on synthetic costs: known costs give a known plan."""

import math

import pytest

from loadtest.plan import output, planner
from loadtest.plan.costs import Costs, EndpointCost, with_mix
from loadtest.plan.model import Config, Environment, Model

LOW_LOAD_MS = (5.0,) * 200  # every request 5 ms beyond its designed delay at no contention


def endpoint(share=1.0, app_ms=1.0, held_ms=0.0, designed_ms=0.0, in_db=False):
    return EndpointCost(
        share, app_ms / 1000, held_ms / 1000, designed_ms / 1000, in_db, LOW_LOAD_MS
    )


def costs(endpoints=None, cpu_ms=2.0, node_ms=None, background=0.0, checkouts=1.0, db_ms=0.5):
    return Costs(
        endpoints=endpoints or {"GET /work": endpoint()},
        api_cpu_s=cpu_ms / 1000,
        db_active_s=db_ms / 1000,
        node_cpu_s=None if node_ms is None else node_ms / 1000,
        stack_cpu_s=None if node_ms is None else node_ms / 1000,
        node_background_cores=background,
        checkouts_per_request=checkouts,
        requests_per_iteration=1.0,
        measured_stretch=1.0,
    )


def config(replicas=1, cpus=1.0, slots=1000, pool=10):
    return Config(replicas, max(1, math.ceil(cpus)), cpus, slots, pool)


HERE = Environment(cores_per_node=16, database_cpus=16)


def test_a_worker_saturates_when_its_core_is_full():
    # 2 ms of CPU per request: one core serves 500 requests/s.
    assert Model(costs(), config(), HERE).saturation_rate("cpu") == pytest.approx(500, rel=1e-6)
    assert Model(costs(), config(replicas=3), HERE).saturation_rate("cpu") == pytest.approx(1500)


def test_a_worker_limited_to_half_a_core_saturates_at_half_the_rate():
    model = Model(costs(), config(cpus=0.5), HERE)
    assert model.saturation_rate("cpu") == pytest.approx(250)


def test_the_pool_saturates_at_connections_over_hold_time():
    # 10 ms per checkout, 10 connections: 1000 checkouts/s, minus the small CPU stretch.
    held = costs({"GET /db": endpoint(app_ms=0.01, held_ms=10)}, cpu_ms=0.01)
    rate = Model(held, config(pool=10), HERE).saturation_rate("pool")
    assert rate == pytest.approx(1000, rel=0.02)


def test_a_designed_wait_in_the_database_holds_the_connection_without_stretching():
    slow = costs({"GET /db/sleep": endpoint(designed_ms=50, in_db=True)}, cpu_ms=0.01)
    model = Model(slow, config(pool=5), HERE)
    assert model.offered_pool_load(100, stretch=3.0) == pytest.approx(5.0)  # 100/s × 50 ms


def test_requests_in_flight_follow_littles_law():
    waiting = costs({"GET /sleep": endpoint(app_ms=0, designed_ms=50)}, cpu_ms=0.01)
    prediction = Model(waiting, config(), HERE).predict(100)
    assert prediction.inflight_per_worker == pytest.approx(5.0, rel=0.01)


def test_p99_at_no_contention_is_the_low_load_p99():
    prediction = Model(costs(cpu_ms=0.001), config(), HERE).predict(1)
    assert prediction.p99_excess_ms == pytest.approx(5.0, rel=0.01)


def test_p99_grows_with_the_cpu_stretch():
    prediction = Model(costs(), config(), HERE).predict(250)  # ρ = 0.5: twice as long
    assert prediction.stretch == pytest.approx(2.0)
    assert prediction.p99_excess_ms == pytest.approx(10.0, rel=0.01)


def test_past_saturation_the_prediction_says_so():
    prediction = Model(costs(), config(), HERE).predict(600)
    assert prediction.saturated and prediction.p99_excess_ms == math.inf


def test_the_plan_adds_replicas_until_the_cpu_has_headroom():
    # 600 req/s + 30 % = 780: one 500 req/s worker is too few, two are enough.
    plan = planner.plan(costs(), planner.Target(600, 250), HERE)
    assert plan.feasible
    assert plan.config.replicas == 2
    assert plan.binding == "cpu"
    assert plan.capacity_rps == pytest.approx(1000, rel=0.06)
    assert plan.connection_budget == 2 * plan.config.pool_size
    assert plan.postgres_max_connections == plan.connection_budget + 13


def test_a_tight_p99_budget_needs_more_replicas_than_the_cpu_does():
    # One replica at 300 req/s: ρ = 0.6, p99 5 ms × 2.5 = 12.5 ms; two: ρ = 0.3, 7.1 ms.
    assert planner.plan(costs(), planner.Target(300, 20), HERE).config.replicas == 1
    assert planner.plan(costs(), planner.Target(300, 10), HERE).config.replicas == 2


def test_the_pool_lasts_until_the_cpu_is_80_percent_busy():
    db_heavy = costs({"GET /db": endpoint(app_ms=1, held_ms=20)}, cpu_ms=2)
    plan = planner.plan(db_heavy, planner.Target(200, 250), HERE)
    cpu_at_80 = Model(db_heavy, plan.config, HERE).saturation_rate("cpu", at=0.8)
    assert cpu_at_80 == pytest.approx(400)
    assert plan.saturation_rates["pool"] >= cpu_at_80
    smaller = Model(db_heavy, config(pool=plan.config.pool_size - 1), HERE)
    assert smaller.saturation_rate("pool") < cpu_at_80  # the smallest pool that does


def test_a_busy_node_binds_and_the_plan_says_what_stops_it():
    # Two cores, one busy with other work, 4 ms of node CPU per request: 250 req/s at most.
    node = Environment(cores_per_node=2, background_cores=1.0, node_cpu_per_request=0.004)
    plan = planner.plan(costs(node_ms=4), planner.Target(300, 250), node)
    assert not plan.feasible
    assert plan.binding == "node"
    assert plan.saturation_rates["node"] == pytest.approx(250)
    assert any("node saturates" in problem for problem in plan.problems)


def test_a_database_with_few_connections_gets_pgbouncer():
    db_heavy = costs({"GET /db": endpoint(app_ms=1, held_ms=20)}, cpu_ms=2)
    plan = planner.plan(db_heavy, planner.Target(600, 250, db_max_connections=100), HERE)
    assert plan.connection_budget + 13 > 100  # every pool's connections would not fit
    assert plan.pgbouncer_pool is not None
    assert plan.postgres_max_connections == plan.pgbouncer_pool + 13 <= 100
    # plan.env runs it: PgBouncer's overlay, its server pool, every pool as its clients.
    env = output.env_values(plan)
    assert env["COMPOSE_FILE"] == "docker-compose.yml:deploy/pgbouncer/compose.pgbouncer.yml"
    assert env["PGBOUNCER_DEFAULT_POOL_SIZE"] == plan.pgbouncer_pool
    assert env["PGBOUNCER_MAX_CLIENT_CONN"] == plan.connection_budget


@pytest.mark.parametrize(
    ("rates", "cause"),
    [
        ({"cpu": 100, "pool": 99, "connections": 99}, "cpu"),  # holds stretched by the CPU
        ({"cpu": 100, "pool": 50, "connections": 50}, "pool"),  # the pool on its own
        ({"node": 80, "cpu": 100, "pool": 79}, "node"),
    ],
)
def test_the_binding_resource_is_the_cause_of_the_first_saturation(rates, cause):
    assert planner.binding_resource(rates) == cause


def two_populations() -> Costs:
    return costs(
        {
            "GET /json": EndpointCost(0.5, 0.001, 0, 0, False, LOW_LOAD_MS),
            "GET /sleep": EndpointCost(0.5, 0.001, 0, 0.05, False, LOW_LOAD_MS),
        }
    )


def test_the_same_mix_gives_the_same_costs():
    measured = {"tfb_clients": 0.5, "item_readers": 0, "item_writers": 0, "slow_callers": 0.5}
    same = with_mix(two_populations(), measured, measured)
    assert same.endpoints == two_populations().endpoints
    assert same.api_cpu_s == pytest.approx(two_populations().api_cpu_s)


def test_another_mix_reweights_the_populations():
    measured = {"tfb_clients": 0.5, "item_readers": 0, "item_writers": 0, "slow_callers": 0.5}
    wanted = {"tfb_clients": 1.0, "item_readers": 0, "item_writers": 0, "slow_callers": 0}
    only_tfb = with_mix(two_populations(), measured, wanted)
    assert set(only_tfb.endpoints) == {"GET /json"}
    assert only_tfb.endpoints["GET /json"].share == pytest.approx(1.0)


def test_a_pool_that_fills_because_the_cpu_stretches_holds_names_the_cpu():
    # 5 ms holds, half of it CPU time: the pool fills just before the CPU does, but on its own
    # it would last far longer: the CPU is the bottleneck, the pool's saturation the capacity.
    db = costs({"GET /db": endpoint(app_ms=2, held_ms=5)}, cpu_ms=2)
    plan = planner.plan(db, planner.Target(300, 250), HERE)
    assert plan.saturation_rates["pool"] < plan.saturation_rates["cpu"]
    assert plan.alone_rates["pool"] > 2 * plan.alone_rates["cpu"]
    assert plan.binding == "cpu"
    assert plan.capacity_rps == min(plan.saturation_rates.values()) < plan.alone_rates["cpu"]


def test_the_connection_reserve_is_what_migrate_checks():
    from api import cli

    assert planner.TOOL_CONNECTIONS == cli.RESERVED_CONNECTIONS


def test_the_nginx_numbers_the_plan_uses_are_read_from_its_configuration():
    from loadtest.plan import costs as costs_module
    from loadtest.plan import output

    assert costs_module.nginx_upstream_keepalive() > 0
    assert output.nginx_worker_connections() > 0
