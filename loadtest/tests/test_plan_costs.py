"""From measurements to the costs of a request, on synthetic stress steps with known totals."""

import pytest

from loadtest.plan import costs, measure
from loadtest.plan.measure import Deployment, EndpointWindow, Measurements, Window


def window(phase, rate, *, met=True, seconds=10.0, busy=0.5, k6=0.1, cpu_ms=2.0, sleep_share=0.5):
    """`rate` req/s for `seconds`: half /db (1 ms in the app, 2 ms holding a connection), half
    /db/sleep (50 ms pg_sleep); 2 ms of worker CPU per request; the node `busy` cores, of
    which the api and db containers use 0.2 and k6 `k6`."""
    requests = rate * seconds
    fast, slow = requests * (1 - sleep_share), requests * sleep_share
    return Window(
        phase=phase,
        start=0.0,
        end=seconds,
        target_rate=rate,
        achieved_rate=rate,
        met_slo=met,
        client_requests=int(requests),
        client_p99_excess_ms=10.0,
        client_error_rate=0.0,
        endpoints={
            "GET /db": EndpointWindow(fast, fast * 0.001, fast * 0.002),
            "GET /db/sleep": EndpointWindow(slow, slow * 0.0505, slow * 0.051),
        },
        api_cpu_s=requests * cpu_ms / 1000,
        api_busiest_worker_cores=requests * cpu_ms / 1000 / seconds,
        db_active_s=fast * 0.0005 + slow * 0.0505,
        checkouts=requests,
        checkout_wait_s=0.0,
        pool_wait_p99_s=0.001,
        inflight=1.0,
        open_connections=10.0,
        node_cores_busy=busy,
        parts={"api-1": 0.15, "db-1": 0.05, "k6": k6},
    )


def measured(*windows) -> Measurements:
    return Measurements(
        run="synthetic",
        deployment=Deployment(1, 1, 1000, 20, 1.0),
        windows=list(windows),
        node_cores=2,
        idle_node_cores_busy=0.3,
        requests_per_iteration=1.2,
        latency_ms={"GET /db": [3.0] * 10, "GET /db/sleep": [4.0] * 10},
        designed_ms={"GET /db": 0.0, "GET /db/sleep": 50.0},
        mix={"tfb_clients": 0.5, "item_readers": 0, "item_writers": 0, "slow_callers": 0.5},
    )


def test_costs_per_request_come_from_the_steps_up_to_the_knee():
    broken = window("step_03", 300, met=False, cpu_ms=9.0)
    c = costs.derive(measured(window("step_01", 100), window("step_02", 200), broken))
    assert c.api_cpu_s == pytest.approx(0.002)  # the broken step's 9 ms does not count
    assert c.checkouts_per_request == pytest.approx(1.0)
    assert c.requests_per_iteration == 1.2


def test_a_pg_sleep_holds_a_connection_but_is_no_database_work():
    c = costs.derive(measured(window("step_01", 100)))
    slow = c.endpoints["GET /db/sleep"]
    assert slow.designed_in_db and slow.designed_s == pytest.approx(0.05)
    assert not c.endpoints["GET /db"].designed_in_db
    # Active 0.5 ms per /db and 50.5 ms per /db/sleep, minus the 50 ms sleeps: 0.5 ms.
    assert c.db_active_s == pytest.approx(0.0005)


def test_the_node_splits_into_the_stack_the_load_generator_and_everyone_else():
    c = costs.derive(measured(window("step_01", 100, busy=0.8, k6=0.1)))
    assert c.stack_cpu_s == pytest.approx(0.2 / 100)  # api + db containers, per request
    assert c.node_cpu_s == pytest.approx(0.3 / 100)  # and k6
    assert c.node_background_cores == pytest.approx(0.5)  # the rest of the 0.8 busy cores


def test_a_step_that_served_far_less_than_asked_is_refused():
    starved = window("step_01", 100, met=False)
    starved.achieved_rate = 30
    with pytest.raises(costs.Unmeasurable, match="served .* it measured an overloaded stack"):
        costs.derive(measured(starved))


def test_measurements_survive_their_json(tmp_path):
    original = measured(window("step_01", 100))
    original.save(tmp_path)
    assert measure.load(tmp_path) == original
