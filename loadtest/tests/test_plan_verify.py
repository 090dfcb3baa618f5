"""VERIFY's verdict on synthetic runs: a miss is the plan's fault only if the node could have
served the target with the load everyone else put on it."""

from dataclasses import replace

import pytest

from loadtest.plan import planner, verify
from loadtest.plan.model import Environment, Model

from .test_plan_model import costs

# Two cores, 4 ms of node CPU per request; the plan assumed 0.4 cores of other load.
NODE = Environment(cores_per_node=2, background_cores=0.4, node_cpu_per_request=0.004)


def missed(background: float) -> verify.Verification:
    """120 req/s asked, 54 served, with `background` cores busy from everyone else."""
    c = costs(node_ms=4)
    plan = planner.plan(c, planner.Target(120, 500), NODE)
    model = Model(c, plan.config, plan.environment)
    here = Model(c, plan.config, replace(NODE, background_cores=background))
    check = verify.Check(
        phase="step_01",
        target_rps=120,
        served_rps=54,
        predicted=model.predict(54),
        predicted_here=here.predict(54),
        asked_here=here.predict(120),
        background_cores=background,
        observed={"node": 0.99},
        saturates_at={"node": 55.0},
        p99_excess_ms=10_000,
        pool_wait_mean_ms=0.0,
        pool_wait_p99_ms=0.0,
        error_rate=0.5,
    )
    return verify.Verification(plan, "run", "40s", check, None, [])


@pytest.mark.parametrize(
    ("background", "verdict"),
    [
        (0.4, "FAIL"),  # the node the plan assumed: the plan missed
        # 1.6 cores busy elsewhere + 120 × 4 ms = 2.08 cores on 2: no plan could have served it,
        # though at the 54 req/s served the node was not full
        (1.6, "INCONCLUSIVE"),
    ],
)
def test_a_miss_is_inconclusive_only_when_the_node_could_not_serve_the_target(background, verdict):
    result = missed(background)
    assert not result.passed
    assert result.verdict == verdict
