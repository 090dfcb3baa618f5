"""Search the smallest deployment that serves a target rate within a p99, with headroom.

For 1, 2, ... replicas (one gevent worker per CPU, the project's rule): the CPUs, the node and
the database must stay below saturation at (1 + headroom) × target; then the smallest pool that
is half busy there, keeps pool waits rare and lasts until the CPUs are 80 % busy; connection
slots for twice the requests in flight; and the p99 at the target within the budget. The first
replica count that passes is the plan; if none does, the last one tried, with what stops it.
"""

import math
from dataclasses import dataclass, field, replace

from . import queueing
from .costs import Costs
from .model import Config, Environment, Model, Prediction

MAX_POOL = 200
# Pools and slots are sized so they do not bind while the CPUs have room (CPUs are what
# replicas add): twice the connections and slots the pushed rate keeps busy, pool waits at the
# pushed rate within a tenth of the p99 budget, and a pool that lasts until the CPUs are
# POOL_COVERS_CPU busy. (As a CPU fills, holds stretch and any pool fills just before it;
# past 80 % the stretch is over ×5 and the p99 is gone anyway.)
POOL_UTILISATION = SLOT_UTILISATION = 0.5
MIN_POOL = 2
POOL_WAIT_SHARE = 0.1
POOL_COVERS_CPU = 0.8
SLOT_STEP, MIN_SLOTS = 50, 100
# Besides the API's pools (services/api/api/cli.py RESERVED_CONNECTIONS), PostgreSQL's own
# superuser_reserved_connections (3 by default).
TOOL_CONNECTIONS, SUPERUSER_CONNECTIONS = 10, 3


@dataclass(frozen=True)
class Target:
    """What the plan must achieve."""

    rps: float
    p99_ms: float  # beyond each endpoint's designed delay, like the SLO's budgets
    headroom: float = 0.3  # every resource saturates at >= (1 + headroom) × rps
    cpus_per_replica: float = 1.0
    max_replicas: int | None = None  # default: as many as the nodes' cores hold
    db_max_connections: int | None = None  # the database's limit, if fixed

    @property
    def pushed(self) -> float:
        return self.rps * (1 + self.headroom)


@dataclass
class Plan:
    target: Target
    environment: Environment
    config: Config  # the plan, or the last configuration tried when none fits
    at_target: Prediction
    pushed: Prediction  # at the target + headroom
    saturation_rates: dict[str, float]  # each resource, with the others' contention
    alone_rates: dict[str, float]  # each resource on its own
    binding: str  # the bottleneck: the resource that saturates first on its own
    problems: list[str] = field(default_factory=list)  # why it is infeasible, if it is
    pgbouncer_pool: int | None = None  # server connections, when the database cannot hold
    # every pool's connections directly

    @property
    def feasible(self) -> bool:
        return not self.problems

    @property
    def capacity_rps(self) -> float:
        """The rate at which the first resource saturates."""
        return min(self.saturation_rates.values(), default=math.inf)

    @property
    def connection_budget(self) -> int:
        return self.config.workers * self.config.pool

    @property
    def postgres_max_connections(self) -> int:
        direct = self.pgbouncer_pool or self.connection_budget
        return direct + TOOL_CONNECTIONS + SUPERUSER_CONNECTIONS


def workers_per_replica(cpus: float) -> int:
    return max(1, math.ceil(cpus))


def max_replicas(target: Target, environment: Environment) -> int:
    if target.max_replicas:
        return target.max_replicas
    cores = environment.cores_per_node * environment.nodes
    return max(1, math.floor(cores / target.cpus_per_replica))


# Saturation spreads downstream: a full CPU stretches connection holds until the pool fills,
# a full pool makes requests wait until the slots fill. So the bottleneck is the resource that
# saturates first *on its own* (Model.saturation_rate(alone=True)); among resources that do
# so (nearly) together, the first in this order, the upstream one.
ROOT_CAUSE_ORDER = ("node", "cpu", "database", "pool", "connections")
CPU_SIDE = ROOT_CAUSE_ORDER[:3]
TOGETHER = 1.02


def binding_resource(alone_rates: dict[str, float]) -> str:
    """The resource that saturates first on its own (rates from saturation_rates(alone=True))."""
    first = min(alone_rates.values())
    return next(
        name
        for name in ROOT_CAUSE_ORDER
        if name in alone_rates and alone_rates[name] <= first * TOGETHER
    )


def _pool_size(costs, config, environment, target) -> int | None:
    """The smallest pool that is at most POOL_UTILISATION busy at the pushed rate, keeps the
    pool wait p99 there within POOL_WAIT_SHARE of the budget, and saturates no earlier than
    the CPUs reach POOL_COVERS_CPU."""
    max_wait = POOL_WAIT_SHARE * target.p99_ms / 1000
    cpus = Model(costs, config, environment)
    covered = min(
        cpus.saturation_rate(name, at=POOL_COVERS_CPU)
        for name in CPU_SIDE
        if name in cpus.resources()
    )
    for pool in range(MIN_POOL, MAX_POOL + 1):
        model = Model(costs, replace(config, pool_size=pool), environment)
        utilisation, details = model.utilisation(target.pushed)
        if utilisation["pool"] > POOL_UTILISATION or details["wait_p99"] > max_wait:
            continue
        if model.saturation_rate("pool") >= covered:
            return pool
    return None


def _slots(model: Model, rate: float) -> int:
    """Connection slots per worker for the requests in flight at `rate`, and idle keep-alive."""
    inflight = model.utilisation(rate)[1]["inflight"]
    needed = (inflight + model.idle_connections_per_worker()) / SLOT_UTILISATION
    return max(MIN_SLOTS, SLOT_STEP * math.ceil(needed / SLOT_STEP))


def _pgbouncer_pool(model: Model, target: Target) -> int:
    """Server connections a transaction-pooling PgBouncer needs for the whole fleet."""
    details = model.utilisation(target.pushed)[1]
    fleet = details["offered"] * model.config.workers
    max_wait = POOL_WAIT_SHARE * target.p99_ms / 1000
    return queueing.servers_for(
        fleet, details["hold"] or 0.001, max_wait, 0.99, details["hold_cv2"]
    )


def _fits(model: Model, target: Target, resources=CPU_SIDE) -> list[str]:
    """The resources among `resources` that saturate before the pushed rate."""
    utilisation = model.utilisation(target.pushed)[0]
    return [name for name in resources if utilisation.get(name, 0) >= 1]


def plan(costs: Costs, target: Target, environment: Environment) -> Plan:
    """The smallest deployment for `target`, or the best one with what stops it."""
    workers = workers_per_replica(target.cpus_per_replica)
    last = None
    for replicas in range(1, max_replicas(target, environment) + 1):
        config = Config(replicas, workers, target.cpus_per_replica, 1000, MAX_POOL)
        problems = _fits(Model(costs, config, environment), target)
        if problems:
            last = (
                config,
                [f"{name} saturates below {target.pushed:g} req/s" for name in problems],
            )
            continue
        pool = _pool_size(costs, config, environment, target)
        if pool is None:
            last = (config, ["no pool size keeps the pool below saturation"])
            continue
        config = replace(config, pool_size=pool)
        config = replace(
            config, worker_connections=_slots(Model(costs, config, environment), target.pushed)
        )
        model = Model(costs, config, environment)
        at_target = model.predict(target.rps)
        if at_target.p99_excess_ms > target.p99_ms:
            last = (config, [f"p99 {at_target.p99_excess_ms:.0f} ms > {target.p99_ms:g} ms"])
            continue
        return _finish(costs, target, environment, config, [])
    config, problems = last
    if config.pool_size == MAX_POOL:  # never sized: show the default-like pool
        config = replace(config, pool_size=20)
    return _finish(costs, target, environment, config, problems)


def _finish(costs, target, environment, config, problems) -> Plan:
    model = Model(costs, config, environment)
    at_target, pushed = model.predict(target.rps), model.predict(target.pushed)
    result = Plan(
        target=target,
        environment=environment,
        config=config,
        at_target=at_target,
        pushed=pushed,
        saturation_rates=model.saturation_rates(),
        alone_rates=(alone := model.saturation_rates(alone=True)),
        binding=binding_resource(alone),
        problems=problems,
    )
    budget = result.connection_budget + TOOL_CONNECTIONS + SUPERUSER_CONNECTIONS
    if target.db_max_connections and budget > target.db_max_connections:
        result.pgbouncer_pool = _pgbouncer_pool(model, target)
        if result.postgres_max_connections > target.db_max_connections:
            result.problems.append(
                f"even through PgBouncer the database needs {result.postgres_max_connections} "
                f"connections (max_connections {target.db_max_connections})"
            )
    return result
