"""Each resource's utilisation as a run measured it, defined as the model predicts it."""

from .costs import Costs
from .measure import Deployment, Window
from .model import Environment


def utilisation(
    window: Window, deployment: Deployment, environment: Environment, costs: Costs
) -> dict[str, float]:
    """The utilisation of every resource the window has data for."""
    seconds = window.seconds
    workers = max(1, deployment.workers)
    core_share = min(1.0, deployment.cpus_available * deployment.replicas / workers)
    observed = {
        "cpu": window.api_cpu_s / seconds / workers / core_share,
        "pool": sum(e.held_s for e in window.endpoints.values())
        / seconds
        / (workers * max(1, deployment.pool_size)),
        "connections": window.open_connections / (workers * max(1, deployment.worker_connections)),
    }
    if window.db_active_s is not None:
        sleeping = sum(
            e.requests * costs.endpoints[name].designed_s
            for name, e in window.endpoints.items()
            if name in costs.endpoints and costs.endpoints[name].designed_in_db
        )
        busy = max(0.0, window.db_active_s - sleeping) / seconds
        observed["database"] = busy / environment.database_cpus
    if window.node_cores_busy is not None:
        observed["node"] = window.node_cores_busy / environment.cores_per_node
    return observed
