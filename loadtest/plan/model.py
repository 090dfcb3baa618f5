"""Predict what a deployment does at a request rate: each resource's utilisation, the waits,
the p99, and the rate at which each resource saturates (docs/capacity.md, "The model").

Resources, each with a utilisation that reaches 1.0 at saturation:
  cpu          a worker's core: requests/s per worker × CPU s per request ÷ its share of a core
  pool         a worker's pool: Erlangs offered (Little's law) ÷ connections
  connections  a worker's connection slots: requests in flight + idle keep-alive ÷ slots
  database     PostgreSQL: active seconds per second ÷ its CPUs
  node         the machine: its background + CPU s per request × rate ÷ cores
CPU contention (the worker's, then the node's) stretches every request's CPU work and the time
it holds its connection; the pool queues as an M/M/c (Erlang C); p99 scales the latencies
measured at low load by the predicted stretch and adds a sampled pool wait.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import queueing
from .costs import Costs

RESOURCES = ("cpu", "pool", "connections", "database", "node")
P99 = 0.99
SAMPLES = 100_000  # Monte Carlo draws for the mix's p99
MAX_RATE = 1e7


@dataclass(frozen=True)
class Config:
    """What the plan sets: replicas and, per replica, workers, slots, pool."""

    replicas: int
    workers_per_replica: int
    cpus_per_replica: float
    worker_connections: int
    pool_size: int
    max_overflow: int = 0

    @property
    def workers(self) -> int:
        return self.replicas * self.workers_per_replica

    @property
    def pool(self) -> int:
        """Connections a worker's pool may open."""
        return self.pool_size + self.max_overflow

    @property
    def core_share(self) -> float:
        """The part of a core each worker may use (a worker is one event loop: at most one)."""
        return min(1.0, self.cpus_per_replica / self.workers_per_replica)


@dataclass(frozen=True)
class Environment:
    """Where the deployment runs: the nodes, what else loads them, and the database."""

    cores_per_node: int
    nodes: int = 1
    background_cores: float = 0.0  # busy cores per node with no load (neighbours)
    node_cpu_per_request: float | None = None  # None: the node is not modelled
    database_cpus: float = 2.0
    nginx_workers: int = 2  # nginx's worker_processes (auto: one per core)
    nginx_keepalive: int = 32  # idle upstream connections per nginx worker


@dataclass
class Prediction:
    """The model's answer for one rate."""

    rate: float
    utilisation: dict[str, float]
    stretch: float
    pool_wait_mean_s: float
    pool_wait_p99_s: float
    inflight_per_worker: float
    p99_excess_ms: float
    background_cores: float  # the node load from everyone else the prediction assumed
    endpoint_p99_excess_ms: dict[str, float] = field(default_factory=dict)

    @property
    def saturated(self) -> bool:
        return any(u >= 1 for u in self.utilisation.values())


class Model:
    """The costs of a request applied to one configuration in one environment."""

    def __init__(self, costs: Costs, config: Config, environment: Environment):
        self.costs, self.config, self.env = costs, config, environment

    # ------------------------------------------------------------ the pieces
    def worker_cpu(self, rate: float) -> float:
        return rate / self.config.workers * self.costs.api_cpu_s / self.config.core_share

    def node_cpu(self, rate: float) -> float | None:
        if self.env.node_cpu_per_request is None:
            return None
        per_node = rate / self.env.nodes * self.env.node_cpu_per_request
        return (self.env.background_cores + per_node) / self.env.cores_per_node

    def database(self, rate: float) -> float:
        if not self.costs.db_active_s:
            return 0.0
        return rate * self.costs.db_active_s / self.env.database_cpus

    def stretch(self, rate: float) -> float:
        return queueing.cpu_stretch(
            self.worker_cpu(rate), self.node_cpu(rate), self.env.cores_per_node
        )

    def offered_pool_load(self, rate: float, stretch: float) -> float:
        """Erlangs a worker's pool is offered: requests/s × connection time (Little's law)."""
        per_worker = rate / self.config.workers
        return per_worker * sum(
            e.share * (e.held_s * stretch + (e.designed_s if e.designed_in_db else 0.0))
            for e in self.costs.endpoints.values()
        )

    def hold_cv2(self, stretch: float) -> float:
        """Squared coefficient of variation of a connection's hold time: the mix of endpoints'
        holds (each exponential about its mean): slow queries among fast ones make it large."""
        weights, holds = [], []
        for e in self.costs.endpoints.values():
            if e.uses_db:
                weights.append(e.share)
                holds.append(e.held_s * stretch + (e.designed_s if e.designed_in_db else 0.0))
        total = sum(weights)
        mean = sum(w * h for w, h in zip(weights, holds, strict=True)) / total if total else 0
        if mean <= 0 or not math.isfinite(mean):
            return 1.0
        second = sum(w * 2 * h * h for w, h in zip(weights, holds, strict=True)) / total
        return second / (mean * mean) - 1

    def idle_connections_per_worker(self) -> float:
        """Idle keep-alive connections nginx parks on each worker (each holds a slot)."""
        return self.env.nginx_workers * self.env.nginx_keepalive / self.config.workers

    # ------------------------------------------------------------ the prediction
    def utilisation(self, rate: float, alone: bool = False) -> tuple[dict[str, float], dict]:
        """Every resource's utilisation at `rate`, and the intermediate values. `alone`: each
        resource as if the others had room (no CPU stretch, no pool wait): what it would
        saturate at by itself."""
        stretch = 1.0 if alone else self.stretch(rate)
        offered = self.offered_pool_load(rate, stretch) if math.isfinite(stretch) else math.inf
        pool = self.config.pool
        checkouts = rate / self.config.workers * self.costs.checkouts_per_request
        hold = offered / checkouts if checkouts > 0 else 0.0
        cv2 = self.hold_cv2(stretch)
        if alone:
            wait_mean = wait_p99 = 0.0
        elif offered < pool:
            wait_mean = queueing.mean_wait(pool, offered, hold, cv2)
            wait_p99 = queueing.wait_quantile(pool, offered, hold, P99, cv2)
        else:
            wait_mean = wait_p99 = math.inf
        waiting = self.costs.checkouts_per_request * wait_mean if wait_mean else 0.0
        response = waiting + sum(
            e.share * (e.designed_s + e.app_s * stretch) for e in self.costs.endpoints.values()
        )
        inflight = rate / self.config.workers * response
        utilisation = {
            "cpu": self.worker_cpu(rate),
            "pool": offered / pool,
            "connections": (inflight + self.idle_connections_per_worker())
            / self.config.worker_connections,
            "database": self.database(rate),
        }
        node = self.node_cpu(rate)
        if node is not None:
            utilisation["node"] = node
        details = {
            "stretch": stretch,
            "offered": offered,
            "hold": hold,
            "hold_cv2": cv2,
            "wait_mean": wait_mean,
            "wait_p99": wait_p99,
            "inflight": inflight,
        }
        return utilisation, details

    def predict(self, rate: float) -> Prediction:
        utilisation, d = self.utilisation(rate)
        saturated = any(u >= 1 for u in utilisation.values())
        p99, per_endpoint = (math.inf, {}) if saturated else self._p99(rate, d)
        return Prediction(
            rate=rate,
            utilisation=utilisation,
            stretch=d["stretch"],
            pool_wait_mean_s=d["wait_mean"],
            pool_wait_p99_s=d["wait_p99"],
            inflight_per_worker=d["inflight"],
            p99_excess_ms=p99,
            background_cores=self.env.background_cores,
            endpoint_p99_excess_ms=per_endpoint,
        )

    def _p99(self, rate: float, d: dict) -> tuple[float, dict[str, float]]:
        """The mix's p99 beyond the designed delays: the low-load latencies, stretched by the
        predicted contention, plus a pool wait drawn from Erlang C's distribution."""
        rng = np.random.default_rng(0)
        scale = d["stretch"] / self.costs.measured_stretch
        pool, offered, hold = self.config.pool, d["offered"], d["hold"]
        waits_with = queueing.erlang_c(pool, offered) if offered > 0 else 0.0
        theta = queueing.wait_scale(pool, offered, hold, d["hold_cv2"]) if hold > 0 else 0.0
        draws, per_endpoint = [], {}
        for name, e in self.costs.endpoints.items():
            if not e.client_latency_ms:
                continue
            n = max(1, round(SAMPLES * e.share))
            latency = rng.choice(np.asarray(e.client_latency_ms), n) * scale
            if e.uses_db and waits_with > 0:
                waiting = rng.random(n) < waits_with
                latency = latency + waiting * rng.exponential(1000 * theta, n)
            per_endpoint[name] = float(np.percentile(latency, 99))
            draws.append(latency)
        if not draws:
            return math.nan, {}
        return float(np.percentile(np.concatenate(draws), 99)), per_endpoint

    def saturation_rate(
        self, resource: str, at: float = 1.0, scale: float = 1.0, alone: bool = False
    ) -> float:
        """The rate (requests/s) at which `resource` reaches utilisation `at` (1: saturation),
        its predicted utilisation multiplied by `scale` (a measured correction); `alone`: as
        if the other resources had room (see utilisation). Bisection: every utilisation grows
        with the rate."""

        def reached(rate: float) -> bool:
            value = self.utilisation(rate, alone)[0].get(resource)
            return value is not None and value * scale >= at

        low, high = 0.0, 1.0
        while not reached(high):
            low, high = high, high * 2
            if high > MAX_RATE:
                return math.inf
        for _ in range(50):
            middle = (low + high) / 2
            low, high = (low, middle) if reached(middle) else (middle, high)
        return high

    def resources(self) -> list[str]:
        """The resources this model knows (the node only where its CPU was measured)."""
        return [r for r in RESOURCES if r != "node" or self.env.node_cpu_per_request is not None]

    def saturation_rates(self, alone: bool = False) -> dict[str, float]:
        return {name: self.saturation_rate(name, alone=alone) for name in self.resources()}
