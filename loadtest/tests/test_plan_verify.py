"""VERIFY's verdict on synthetic runs: a miss is the plan's fault only if the node could have
served the target with the load everyone else put on it, and the bottleneck is checked against
the one the model names for the node the run met."""

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
        binding_here=planner.binding_resource(here.saturation_rates(alone=True)),
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


# 2 ms of worker CPU (one worker: 500 req/s) and 3.5 ms of node CPU per request on 2 cores:
# with 0.4 cores busy elsewhere the node saturates first (457 req/s), on a quiet node the
# worker's CPU does (the node would last to 571 req/s).
@pytest.mark.parametrize(("background", "named_here"), [(0.4, "node"), (0.0, "cpu")])
def test_the_bottleneck_is_the_one_named_for_the_node_the_run_met(background, named_here):
    c = costs(node_ms=3.5)
    environment = replace(NODE, node_cpu_per_request=0.0035)
    plan = planner.plan(c, planner.Target(120, 500), environment)
    assert plan.binding == "node"
    here = Model(c, plan.config, replace(environment, background_cores=background))
    seen = here.predict(156)
    pushed = verify.Check(
        phase="step_02",
        target_rps=156,
        served_rps=156,
        predicted=Model(c, plan.config, plan.environment).predict(156),
        predicted_here=seen,
        asked_here=seen,
        background_cores=background,
        observed={"cpu": 0.31, "node": 0.4},
        saturates_at={"cpu": 500.0, "node": 571.0},  # what a quiet node showed
        p99_excess_ms=20,
        pool_wait_mean_ms=0.0,
        pool_wait_p99_ms=0.0,
        error_rate=0.0,
        binding_here=planner.binding_resource(here.saturation_rates(alone=True)),
    )
    assert pushed.binding_here == named_here
    result = verify.Verification(plan, "run", "40s", pushed, pushed, [])
    # The metrics show the worker's CPU first: right for a quiet node, not for the one planned.
    assert result.bottleneck_ok == (named_here == "cpu")
