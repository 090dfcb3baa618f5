"""What gunicorn.conf.py's server hooks do; each function says in which process it runs."""

import sys
from collections.abc import Callable, Mapping
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

from . import db, gunicorn_worker, idempotency_cleanup, master_monitor, metrics, worker_monitor
from .config import Settings


def on_starting(arbiter, settings: Settings, configured: Mapping[str, tuple[Any, str]]) -> None:
    """Master, before listening: exit with one line if a flag overrode what the settings set."""
    problem = command_line_override(arbiter.cfg, settings, configured)
    if problem:
        sys.exit(f"api: {problem}")


def command_line_override(
    cfg, settings: Settings, configured: Mapping[str, tuple[Any, str]]
) -> str | None:
    """Name the first gunicorn setting whose final value is not what gunicorn.conf.py gave
    it, and the API setting it should have come from; None if all agree.

    `configured` maps a gunicorn setting to (the value gunicorn.conf.py gave it, the name of
    the API setting that value came from).
    """
    for name, (value, source) in configured.items():
        setting = cfg.settings[name]
        final = setting.get()
        if final != setting.validator(value):
            flags = "/".join(setting.cli or [name])
            shown = ",".join(map(str, final)) if isinstance(final, list) else final
            return (
                f"gunicorn's {flags}={shown} (command line or GUNICORN_CMD_ARGS) disagrees "
                f"with {source}={settings.effective()[source]}: set {source} instead"
            )
    return None


def when_ready(arbiter, settings: Settings) -> None:
    """Master, once listening: serve /metrics and sample the backlog."""
    if settings.METRICS_ENABLED:
        master_monitor.start(arbiter, settings.METRICS_HOST, settings.METRICS_PORT)


def post_worker_init(worker, settings: Settings) -> None:
    """Worker, after gevent's monkey patch and app load, before the first request."""
    is_gevent = isinstance(worker, GeventWorker)
    if isinstance(worker, gunicorn_worker.GeventWorker):
        worker.io_timeout = settings.API_BODY_TIMEOUT
    db.prepare_worker(
        worker.wsgi, settings, gevent_worker=is_gevent, preloaded=worker.cfg.preload_app
    )
    if is_gevent:
        idempotency_cleanup.start(
            worker.wsgi,
            settings.IDEMPOTENCY_KEY_TTL_HOURS,
            settings.IDEMPOTENCY_CLEANUP_INTERVAL_SECONDS,
        )
    if not settings.METRICS_ENABLED:
        return
    metrics.for_this_worker(metrics.WORKER_CONNECTIONS).set(settings.concurrency_per_worker)
    worker_monitor.start(
        _sampler(worker),
        gevent_worker=is_gevent,
        blocked_threshold_ms=settings.EVENT_LOOP_BLOCKED_THRESHOLD_MS,
    )


def _sampler(worker) -> Callable[[], None]:
    """Publish what the worker holds now: requests in flight, connections, pool usage."""
    in_flight = worker.wsgi.extensions["requests_in_flight"]
    pool = db.get_engine(worker.wsgi).pool
    in_flight_gauge = metrics.for_this_worker(metrics.INFLIGHT_REQUESTS)
    connections_gauge = metrics.for_this_worker(metrics.OPEN_CONNECTIONS)
    clients = getattr(worker, "clients", {})  # only this project's gevent worker tracks them

    def sample() -> None:
        in_flight_gauge.set(in_flight.count)
        connections_gauge.set(len(clients))
        pool.publish_state()

    return sample


def worker_exit(worker) -> None:
    """Worker, as it exits on its own (not after SIGKILL): leave a clean-exit marker."""
    open(master_monitor.clean_exit_marker(worker.pid), "w").close()


def child_exit(arbiter, worker) -> None:
    """Master, after reaping a worker: clean its live gauges and count the restart."""
    master_monitor.record_worker_exit(arbiter, worker)
