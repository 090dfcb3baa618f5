"""What one request costs each resource, derived from a stress run's measurements.

Per endpoint, from the first (lightest) step: its share of the mix, its time in the app, the
time it holds a pool connection, its designed delay. Per request of the mix, from every step
that met the SLO (ratios of sums, so busier steps weigh more): the workers' CPU seconds,
PostgreSQL's active seconds, pool checkouts and, where the planner sampled the machine, the
node's CPU seconds. The CPU parts are measured under some contention already; `base` values
divide that out, so the model can apply the contention of the load it predicts.
"""

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from loadtest.locust import slo

from .measure import Measurements, Window
from .node import LOAD_GENERATOR
from .queueing import cpu_stretch

REPO = Path(__file__).resolve().parents[2]
NGINX_KEEPALIVE = REPO / "deploy" / "nginx" / "upstream.d" / "keepalive.conf"


def nginx_upstream_keepalive(path: Path = NGINX_KEEPALIVE) -> int:
    """Idle connections nginx keeps open to the API per nginx worker (`keepalive N;`)."""
    match = re.search(r"^\s*keepalive\s+(\d+);", path.read_text(), flags=re.MULTILINE)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class EndpointCost:
    """One endpoint of the mix, at no contention."""

    share: float  # of all requests
    app_s: float  # time in the app beyond the designed delay (CPU, queries, waits)
    held_s: float  # pool connection time beyond a designed delay spent in the database
    designed_s: float  # the designed delay (a sleep, a pg_sleep)
    designed_in_db: bool  # the designed delay holds a pool connection (/db/sleep)
    client_latency_ms: tuple[float, ...]  # client-side latencies beyond the designed delay

    @property
    def uses_db(self) -> bool:
        return self.held_s > 0 or self.designed_in_db


@dataclass(frozen=True)
class Costs:
    """Per request of the mix, and per endpoint; the node's background load."""

    endpoints: dict[str, EndpointCost]
    api_cpu_s: float  # worker CPU seconds per request
    db_active_s: float | None  # PostgreSQL active seconds per request
    node_cpu_s: float | None  # node CPU seconds per request: the stack and the load generator
    stack_cpu_s: float | None  # the stack's containers only (no load generator, no neighbours)
    node_background_cores: float  # busy cores on the node besides the run (other tenants)
    checkouts_per_request: float
    requests_per_iteration: float
    measured_stretch: float  # the contention the endpoint values were measured under

    @property
    def held_per_request_s(self) -> float:
        """Mean pool time per request of the mix, designed parts included (no contention)."""
        return sum(
            e.share * (e.held_s + (e.designed_s if e.designed_in_db else 0))
            for e in self.endpoints.values()
        )

    @property
    def hold_per_checkout_s(self) -> float:
        return self.held_per_request_s / self.checkouts_per_request


def _good(windows: list[Window]) -> list[Window]:
    """The steps up to the knee (every step if none met the SLO: the first one)."""
    good = []
    for window in windows:
        if not window.met_slo:
            break
        good.append(window)
    return good or windows[:1]


def _stack_cores(window: Window) -> float:
    return sum(cores for name, cores in window.parts.items() if name != LOAD_GENERATOR)


def _per_request(windows: list[Window], value) -> float | None:
    values = [value(w) for w in windows]
    if any(v is None for v in values):
        return None
    return sum(values) / sum(w.requests for w in windows)


def observed_stretch(window: Window, workers: int, node_cores: int | None) -> float:
    """The CPU contention a window's requests met: their worker's and the node's."""
    worker = window.api_cpu_s / window.seconds / max(1, workers)
    node = None
    if node_cores and window.node_cores_busy is not None:
        node = window.node_cores_busy / node_cores
    return cpu_stretch(worker, node, node_cores)


class Unmeasurable(Exception):
    """The run does not show what a request costs (one line: why)."""


MIN_SERVED = 0.8  # of the first step's target: below it the step measured a broken stack


def derive(measurements: Measurements) -> Costs:
    """The costs of a request, from a stress run's measurements."""
    if not measurements.windows:
        raise Unmeasurable(f"{measurements.run} has no step with requests")
    good = _good(measurements.windows)
    first = good[0]
    asked = first.target_rate * measurements.requests_per_iteration
    if first.achieved_rate < MIN_SERVED * first.target_rate or first.checkouts == 0:
        idle = measurements.idle_node_cores_busy
        busy = "" if idle is None else f"; before the load {idle:.1f} of the node's "
        busy += "" if idle is None else f"{measurements.node_cores} cores were busy"
        raise Unmeasurable(
            f"the first step of {measurements.run} served {first.server_rate:.1f} of "
            f"~{asked:.0f} req/s (k6 achieved {first.achieved_rate:.1f} of "
            f"{first.target_rate:g} iterations/s): it measured an overloaded stack{busy}; "
            "measure again with a lower START_RATE or a quieter machine"
        )
    total = sum(w.requests for w in good)
    stretch = observed_stretch(first, measurements.deployment.workers, measurements.node_cores)
    endpoints = {}
    for name in sorted({n for w in good for n in w.endpoints}):
        count = sum(w.endpoints[name].requests for w in good if name in w.endpoints)
        low = first.endpoints.get(name)
        if low is None or low.requests < 1:
            continue
        designed = measurements.designed_ms.get(name, 0.0) / 1000
        duration, held = low.duration_s / low.requests, low.held_s / low.requests
        in_db = designed > 0 and held >= 0.8 * designed
        endpoints[name] = EndpointCost(
            share=count / total,
            app_s=max(0.0, duration - designed) / stretch,
            held_s=max(0.0, held - (designed if in_db else 0.0)) / stretch,
            designed_s=designed,
            designed_in_db=in_db,
            client_latency_ms=tuple(measurements.latency_ms.get(name, ())),
        )
    node_cpu = stack_cpu = None
    background = 0.0
    if measurements.node_cores and all(w.node_cores_busy is not None and w.parts for w in good):
        # What the run used, part by part; the rest of the node's busy time is everyone else's
        # (averaged over the steps: neighbours come and go).
        stack_cpu = sum(_stack_cores(w) * w.seconds for w in good) / total
        node_cpu = sum(sum(w.parts.values()) * w.seconds for w in good) / total
        seconds = sum(w.seconds for w in good)
        others = sum((w.node_cores_busy - sum(w.parts.values())) * w.seconds for w in good)
        background = max(0.0, others / seconds)
    db_active = _per_request(good, lambda w: w.db_active_s)
    if db_active is not None:  # a pg_sleep is active time, but no work for the database
        sleeping = sum(e.share * e.designed_s for e in endpoints.values() if e.designed_in_db)
        db_active = max(0.0, db_active - sleeping)
    return Costs(
        endpoints=endpoints,
        api_cpu_s=_per_request(good, lambda w: w.api_cpu_s),
        db_active_s=db_active,
        node_cpu_s=node_cpu,
        stack_cpu_s=stack_cpu,
        node_background_cores=background,
        checkouts_per_request=_per_request(good, lambda w: w.checkouts) or math.nan,
        requests_per_iteration=measurements.requests_per_iteration,
        measured_stretch=stretch,
    )


def with_mix(costs: Costs, measured: dict[str, float], wanted: dict[str, float]) -> Costs:
    """The costs of a request of another mix of populations (iteration weights).

    Each population keeps its endpoints and requests per iteration as measured. Per-request
    costs the server counts only for the whole mix are spread over the endpoints in proportion
    to what each measured alone: worker CPU to time in the app, PostgreSQL time to pool time,
    checkouts to the endpoints that use the database; the node's other costs stay per request.
    """
    population = {e.key: e.population for e in slo.endpoints()}
    request_share = {p: 0.0 for p in wanted}
    for name, e in costs.endpoints.items():
        request_share[population.get(name, "tfb_clients")] += e.share
    per_iteration = {
        p: costs.requests_per_iteration * request_share[p] / measured[p] if measured[p] else 0.0
        for p in wanted
    }
    requests_per_iteration = sum(wanted[p] * per_iteration[p] for p in wanted)
    if requests_per_iteration <= 0:
        raise ValueError("the mix has no requests the stress run measured")

    def new_share(name: str, e: EndpointCost) -> float:
        p = population.get(name, "tfb_clients")
        if not request_share[p]:
            return 0.0
        return wanted[p] * per_iteration[p] * e.share / request_share[p] / requests_per_iteration

    shares = {name: new_share(name, e) for name, e in costs.endpoints.items()}
    endpoints = {
        name: replace(e, share=shares[name]) for name, e in costs.endpoints.items() if shares[name]
    }

    def spread(total: float | None, weight) -> float | None:
        if total is None:
            return None
        old = sum(e.share * weight(e) for e in costs.endpoints.values())
        new = sum(e.share * weight(e) for e in endpoints.values())
        return total * new / old if old else total

    api_cpu = spread(costs.api_cpu_s, lambda e: e.app_s)
    others = None if costs.node_cpu_s is None else costs.node_cpu_s - costs.api_cpu_s
    stack_others = None if costs.stack_cpu_s is None else costs.stack_cpu_s - costs.api_cpu_s
    return replace(
        costs,
        endpoints=endpoints,
        api_cpu_s=api_cpu,
        db_active_s=spread(costs.db_active_s, lambda e: e.held_s),
        node_cpu_s=None if others is None else api_cpu + others,
        stack_cpu_s=None if stack_others is None else api_cpu + stack_others,
        checkouts_per_request=spread(costs.checkouts_per_request, lambda e: float(e.uses_db)),
        requests_per_iteration=requests_per_iteration,
    )
