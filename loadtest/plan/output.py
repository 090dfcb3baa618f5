"""A plan as people and Compose read it: plan.env, plan.md and utilisation.png."""

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from . import observe  # noqa: E402
from .costs import REPO, Costs  # noqa: E402
from .measure import Measurements  # noqa: E402
from .model import Config, Model  # noqa: E402
from .planner import Plan  # noqa: E402

ENV_FILE, REPORT_FILE, PLOT_FILE = "plan.env", "plan.md", "utilisation.png"
NGINX_MAIN = REPO / "deploy" / "nginx" / "nginx.conf"
LABELS = {
    "cpu": "CPU per worker",
    "pool": "DB pool per worker",
    "connections": "worker connections",
    "database": "PostgreSQL CPUs",
    "node": "node CPUs",
}
FURTHER = {
    "cpu": "more replicas or workers (each gevent worker is one core: `API_SCALE`, `API_CPUS`), "
    "as long as the node has cores for them; or less CPU per request",
    "node": "more cores or more nodes (a Swarm): every process on the node shares its cores, "
    "so more replicas on the same node add nothing",
    "database": "a database with more CPUs, or less database time per request (queries, "
    "indexes); PgBouncer saves connections, not database CPU",
    "pool": "larger pools (`DB_POOL_SIZE`), if PostgreSQL has connections and CPU to spare; "
    "or shorter transactions",
    "connections": "more `GUNICORN_WORKER_CONNECTIONS`, or fewer idle keep-alive connections",
}


PGBOUNCER_OVERLAY = "docker-compose.yml:deploy/pgbouncer/compose.pgbouncer.yml"


def env_values(plan: Plan) -> dict[str, int | float | str]:
    """The .env settings of the plan (docker-compose.yml's names; PgBouncer's overlay's
    (docs/pgbouncer.md) when the database cannot hold every pool)."""
    c = plan.config
    pgbouncer = {}
    if plan.pgbouncer_pool:
        pgbouncer = {
            "COMPOSE_FILE": PGBOUNCER_OVERLAY,
            "PGBOUNCER_DEFAULT_POOL_SIZE": plan.pgbouncer_pool,
            "PGBOUNCER_MAX_CLIENT_CONN": plan.connection_budget,
        }
    return {
        "API_SCALE": c.replicas,
        "API_REPLICAS": c.replicas,
        "API_CPUS": c.cpus_per_replica,
        "WEB_CONCURRENCY": c.workers_per_replica,
        "GUNICORN_WORKER_CONNECTIONS": c.worker_connections,
        "DB_POOL_SIZE": c.pool_size,
        "DB_MAX_OVERFLOW": c.max_overflow,
        "DB_CONNECTION_BUDGET": plan.connection_budget,
        "POSTGRES_MAX_CONNECTIONS": plan.postgres_max_connections,
        **pgbouncer,
    }


def env_text(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def nginx_worker_connections(path: Path = NGINX_MAIN) -> int | None:
    match = re.search(r"^\s*worker_connections\s+(\d+);", path.read_text(), flags=re.MULTILINE)
    return int(match.group(1)) if match else None


def nginx_connections_needed(plan: Plan) -> str:
    """Per nginx worker: each request in flight holds a client and an upstream connection,
    plus the idle upstream keep-alive connections it keeps."""
    env = plan.environment
    inflight = plan.pushed.inflight_per_worker * plan.config.workers
    if not math.isfinite(inflight):
        return "– (the pushed rate saturates the stack: no finite number)"
    return str(math.ceil(2 * inflight / env.nginx_workers + env.nginx_keepalive))


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "∞"
    return f"{value:,.0f}" if value >= 10 else f"{value:.2f}"


def _percent(value: float) -> str:
    return "∞" if not math.isfinite(value) else f"{value:.0%}"


def headline(plan: Plan) -> str:
    t, c = plan.target, plan.config
    verdict = "PLAN" if plan.feasible else "NO PLAN"
    shape = (
        f"{c.replicas} replica(s) × {c.workers_per_replica} worker(s), "
        f"{c.worker_connections} slots, pool {c.pool_size}"
    )
    headroom = plan.capacity_rps / t.rps - 1
    text = (
        f"{verdict}: {t.rps:g} req/s at p99 ≤ {t.p99_ms:g} ms: {shape}; predicted p99 "
        f"{_number(plan.at_target.p99_excess_ms)} ms; {plan.binding} binds first, saturation "
        f"at {_number(plan.capacity_rps)} req/s (headroom {_percent(headroom)})"
    )
    return text + ("" if plan.feasible else "; " + "; ".join(plan.problems))


def write_env(plan: Plan, path: Path, source: str, costs: Costs) -> None:
    lines = [
        f"# Capacity plan ({path.parent.name}): {headline(plan)}",
        f"# Measured in {source}; plan.md beside this file explains every number.",
        "# Copy these lines into .env (docker-compose.yml reads them).",
    ]
    lines += [f"{name}={env_text(value)}" for name, value in env_values(plan).items()]
    needed, configured = nginx_connections_needed(plan), nginx_worker_connections()
    lines.append(
        f"# nginx (deploy/nginx/nginx.conf, not a variable): worker_connections >= {needed} "
        f"(it has {configured})"
    )
    if plan.pgbouncer_pool:
        lines.append("# COMPOSE_FILE puts PgBouncer (transaction pooling) in front of PostgreSQL")
    path.write_text("\n".join(lines) + "\n")


def _resource_table(plan: Plan) -> list[str]:
    rows = [
        "| resource | at the target | at +headroom | saturates at | on its own | headroom |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, rate in plan.saturation_rates.items():
        rows.append(
            f"| {LABELS[name]}{' **(binds first)**' if name == plan.binding else ''} "
            f"| {_percent(plan.at_target.utilisation[name])} "
            f"| {_percent(plan.pushed.utilisation[name])} | {_number(rate)} req/s "
            f"| {_number(plan.alone_rates[name])} req/s | {_percent(rate / plan.target.rps - 1)} |"
        )
    return rows + [
        "",
        "*Saturates at*: with every resource's contention (a filling CPU stretches connection "
        "holds, so the pool fills just before it); *on its own*: as if the others had room. "
        "The bottleneck is the one that saturates first on its own.",
        "",
    ]


def _costs_table(costs: Costs) -> list[str]:
    rows = [
        "| endpoint | share | app ms | pool ms | designed ms | low-load p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, e in sorted(costs.endpoints.items(), key=lambda item: -item[1].share):
        latencies = sorted(e.client_latency_ms)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0
        rows.append(
            f"| `{name}` | {e.share:.1%} | {e.app_s * 1000:.2f} | {e.held_s * 1000:.2f} "
            f"| {e.designed_s * 1000:g} | {p99:.1f} |"
        )
    return rows + [""]


def _steps_table(model: Model, measurements: Measurements, costs: Costs) -> list[str]:
    rows = [
        "| step | req/s served | met SLO | p99 predicted / measured ms | "
        + " | ".join(f"{name} predicted / measured" for name in model.resources())
        + " |",
        "|---|---:|---|---:|" + "---:|" * len(model.resources()),
    ]
    for w in measurements.windows:
        predicted = model.predict(w.server_rate)
        seen = observe.utilisation(w, measurements.deployment, model.env, costs)
        cells = [
            f"{_percent(predicted.utilisation.get(name, math.nan))} / "
            f"{_percent(seen[name]) if name in seen else '–'}"
            for name in model.resources()
        ]
        measured = w.client_p99_excess_ms
        rows.append(
            f"| {w.phase} | {w.server_rate:,.0f} | {'yes' if w.met_slo else 'no'} "
            f"| {_number(predicted.p99_excess_ms)} / {_number(measured or math.nan)} | "
            + " | ".join(cells)
            + " |"
        )
    return rows + [""]


def measured_model(costs: Costs, measurements: Measurements, plan: Plan) -> Model:
    """The model of the stack the stress run measured (to compare with its steps)."""
    d = measurements.deployment
    config = Config(
        replicas=max(1, d.replicas),
        workers_per_replica=max(1, d.workers // max(1, d.replicas)),
        cpus_per_replica=d.cpus_available or 1.0,
        worker_connections=max(1, d.worker_connections),
        pool_size=max(1, d.pool_size),
    )
    return Model(costs, config, plan.environment)


def write_report(plan: Plan, path: Path, measurements: Measurements, costs: Costs) -> None:
    t, c, env = plan.target, plan.config, plan.environment
    p = plan.at_target
    node = (
        f"{costs.node_cpu_s * 1000:.2f} ms of CPU per request (the stack's containers "
        f"{costs.stack_cpu_s * 1000:.2f} ms, the load generator the rest); everyone else kept "
        f"{costs.node_background_cores:.2f} cores busy meanwhile; the plan counts "
        + (
            f"{env.node_cpu_per_request * 1000:.2f} ms per request and "
            f"{env.background_cores:.2f} busy cores on {env.cores_per_node}-core nodes"
            if env.node_cpu_per_request is not None
            else "no node"
        )
        if costs.node_cpu_s is not None and costs.stack_cpu_s is not None
        else "not measured (the node is not modelled)"
    )
    lines = [
        "# Capacity plan",
        "",
        f"**{headline(plan)}**",
        "",
        f"From `{measurements.run}` (k6 stress, the mix's endpoints weighted as below). "
        f"Target {t.rps:g} requests/s = k6 `RATE={t.rps / costs.requests_per_iteration:.1f}` "
        f"iterations/s ({costs.requests_per_iteration:.2f} requests per iteration); p99 budget "
        f"{t.p99_ms:g} ms beyond each endpoint's designed delay; every resource must saturate "
        f"at ≥ {t.pushed:g} req/s (+{t.headroom:.0%}).",
        "",
        f"![utilisation]({PLOT_FILE})",
        "",
        "## The settings (plan.env)",
        "",
        "```sh",
        *[f"{name}={env_text(value)}" for name, value in env_values(plan).items()],
        "```",
        "",
        f"- nginx: `worker_connections` ≥ {nginx_connections_needed(plan)} per worker "
        f"(deploy/nginx/nginx.conf has {nginx_worker_connections()}).",
        f"- PostgreSQL: `max_connections` = {plan.postgres_max_connections} (the pools' "
        f"{plan.connection_budget} + superuser and tool reserves)"
        + (
            f"; through PgBouncer (transaction pooling, `default_pool_size` = "
            f"{plan.pgbouncer_pool}): the database's limit is below what the pools open."
            if plan.pgbouncer_pool
            else "."
        ),
        "",
        "## Predicted at the target",
        "",
        *_resource_table(plan),
        f"- p99 beyond the designed delays: **{_number(p.p99_excess_ms)} ms** "
        f"(budget {t.p99_ms:g} ms); CPU contention stretches work ×{p.stretch:.2f}.",
        f"- Pool wait: mean {p.pool_wait_mean_s * 1000:.2f} ms, p99 "
        f"{p.pool_wait_p99_s * 1000:.1f} ms; requests in flight per worker "
        f"{p.inflight_per_worker:.1f} (slots {c.worker_connections}).",
        f"- To go further than {_number(plan.capacity_rps)} req/s: {FURTHER[plan.binding]}.",
        "",
        "## What a request costs (measured)",
        "",
        f"- Worker CPU {costs.api_cpu_s * 1000:.2f} ms per request; PostgreSQL "
        + (
            f"{costs.db_active_s * 1000:.2f} ms active per request"
            if costs.db_active_s is not None
            else "active time not measured"
        )
        + f"; {costs.checkouts_per_request:.2f} pool checkouts per request.",
        f"- Node: {node}.",
        f"- Measured under a CPU stretch of ×{costs.measured_stretch:.2f} (divided out below).",
        "",
        *_costs_table(costs),
        "## The model against the stress steps it was made from",
        "",
        "The measured stack (its own shape, not the plan's) at each step's rate: what the model "
        "predicts and what the run measured. The gap is the model's error on this machine.",
        "",
        *_steps_table(measured_model(costs, measurements, plan), measurements, costs),
    ]
    path.write_text("\n".join(lines) + "\n")


def write_plot(plan: Plan, path: Path, measurements: Measurements, costs: Costs) -> None:
    """Left: the plan's utilisation per resource against the rate. Right: the measured stack,
    the model's lines and the steps' measurements."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    top = max(plan.target.pushed * 1.4, min(plan.capacity_rps * 1.1, plan.target.rps * 3))
    _utilisation_lines(left, Model(costs, plan.config, plan.environment), top)
    for rate, label in ((plan.target.rps, "target"), (plan.target.pushed, "+headroom")):
        left.axvline(rate, color="#444444", linestyle=":", linewidth=1)
        left.text(rate, 1.02, label, rotation=90, va="bottom", ha="right", fontsize=7)
    c = plan.config
    left.set_title(
        f"Plan for {plan.target.rps:g} req/s: {c.replicas} replica(s), pool {c.pool_size}",
        fontsize=10,
    )
    measured = measured_model(costs, measurements, plan)
    highest = max((w.server_rate for w in measurements.windows), default=1)
    colours = _utilisation_lines(right, measured, highest * 1.3)
    for w in measurements.windows:
        seen = observe.utilisation(w, measurements.deployment, plan.environment, costs)
        for name, value in seen.items():
            if name in colours:
                right.plot(w.server_rate, value, "o", color=colours[name], markersize=5)
    right.set_title(f"Measured stack ({measurements.run}): model, steps as dots", fontsize=10)
    for ax in (left, right):
        ax.axhline(1.0, color="#aa0000", linewidth=1)
        ax.set_xlabel("requests/s")
        ax.set_ylabel("utilisation")
        ax.set_ylim(0, 1.3)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _utilisation_lines(ax, model: Model, top: float) -> dict[str, str]:
    """One line per resource from 0 to `top` req/s; returns each resource's colour."""
    rates = [top * i / 200 for i in range(1, 201)]
    colours = {}
    for name in model.resources():
        values = [min(model.utilisation(rate)[0][name], 1.3) for rate in rates]
        (line,) = ax.plot(rates, values, label=LABELS[name], linewidth=1.4)
        colours[name] = line.get_color()
    return colours
