"""What gunicorn.conf.py's server hooks do; each function says in which process it runs."""

from gunicorn.workers.ggevent import GeventWorker

from . import db, gunicorn_worker, idempotency_cleanup, master_monitor, metrics, worker_monitor
from .config import Settings


def when_ready(arbiter, settings: Settings) -> None:
    """Master, once listening: serve /metrics and sample the backlog."""
    if settings.METRICS_ENABLED:
        master_monitor.start(arbiter, settings.METRICS_HOST, settings.METRICS_PORT)


def post_worker_init(worker, settings: Settings) -> None:
    """Worker, after gevent's monkey patch and app load, before the first request."""
    is_gevent = isinstance(worker, GeventWorker)
    if isinstance(worker, gunicorn_worker.GeventWorker):
        worker.io_timeout = settings.API_BODY_TIMEOUT
    db.prepare_worker(worker.wsgi, gevent_worker=is_gevent, preloaded=worker.cfg.preload_app)
    if is_gevent:
        idempotency_cleanup.start(
            worker.wsgi,
            settings.IDEMPOTENCY_KEY_TTL_HOURS,
            settings.IDEMPOTENCY_CLEANUP_INTERVAL_SECONDS,
        )
    if not settings.METRICS_ENABLED:
        return
    metrics.for_this_worker(metrics.WORKER_CONNECTIONS).set(settings.concurrency_per_worker)
    metrics.for_this_worker(metrics.INFLIGHT_REQUESTS).set(0)
    metrics.for_this_worker(metrics.OPEN_CONNECTIONS).set(0)
    db.get_engine(worker.wsgi).pool.publish_state()
    if is_gevent:
        worker_monitor.start(settings.EVENT_LOOP_BLOCKED_THRESHOLD_MS)


def worker_exit(worker) -> None:
    """Worker, as it exits on its own (not after SIGKILL): leave a clean-exit marker."""
    open(master_monitor.clean_exit_marker(worker.pid), "w").close()


def child_exit(arbiter, worker) -> None:
    """Master, after reaping a worker: clean its live gauges and count the restart."""
    master_monitor.record_worker_exit(arbiter, worker)
