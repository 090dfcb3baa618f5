"""Gunicorn configuration of the API: gevent workers sized from the environment.

Run from services/api/:  gunicorn -c gunicorn.conf.py api.wsgi:app

Every value comes from api.config.Settings (one validated source, built here once and
inherited by every worker's app, so derived values such as the pool size agree); on_starting
refuses gunicorn command-line flags or GUNICORN_CMD_ARGS that contradict them. The variables,
with their defaults:

  GUNICORN_BIND                 127.0.0.1:8000   address:port to listen on (0.0.0.0:8000 in Docker)
  WEB_CONCURRENCY               CPUs available   worker processes; one event loop per core
  GUNICORN_WORKER_CLASS         gevent           gevent | gthread | sync (benchmarks only)
  GUNICORN_THREADS              1                threads per gthread worker
  GUNICORN_WORKER_CONNECTIONS   1000             concurrent requests per gevent worker
  GUNICORN_BACKLOG              2048             listen() queue, capped by net.core.somaxconn
  GUNICORN_TIMEOUT              30               s without heartbeat before a worker is killed
  GUNICORN_GRACEFUL_TIMEOUT     30               s to finish in-flight requests on stop
  GUNICORN_KEEPALIVE            75               s an idle keep-alive connection stays open
  GUNICORN_MAX_REQUESTS         0                recycle a worker after N requests (0: never)
  GUNICORN_MAX_REQUESTS_JITTER  0                random extra requests before recycling
  GUNICORN_PRELOAD_APP          false            import the app in the master before forking
  GUNICORN_ACCESS_LOG           false            log every request (nginx already does)
  GUNICORN_CONTROL_SOCKET       (none)           path of gunicornc's control socket
  FORWARDED_ALLOW_IPS           127.0.0.1,::1    proxies whose X-Forwarded-* are trusted
  METRICS_ENABLED / METRICS_HOST / METRICS_PORT  /metrics served by the master (9200)
  PROMETHEUS_MULTIPROC_DIR      a new temp dir   where every process writes its metrics
  LOG_LEVEL                     INFO             JSON logs on stdout
"""

import sys

from api import multiproc
from api.config import ConfigError, get_settings

try:
    settings = get_settings()  # built once: the workers inherit this very object
    settings.check_connection_budget()
except ConfigError as exc:
    sys.exit(f"api: {exc}")  # one line, no traceback, exit status 1

# Before anything imports prometheus_client, which picks its storage at import time.
multiproc.prepare(settings.PROMETHEUS_MULTIPROC_DIR)

from api import gunicorn_hooks, logs  # noqa: E402  (needs the metrics directory set)

# ---------------------------------------------------------------- Server socket
bind = [settings.GUNICORN_BIND]
backlog = settings.GUNICORN_BACKLOG  # connections queued in the kernel once workers are full

# ---------------------------------------------------------------- Worker processes
workers = settings.workers  # gevent: one event loop per core, not 2 x cores + 1
# gevent: gunicorn's gevent worker, serving keep-alive connections in turn and closing idle
# ones on stop (see api/gunicorn_worker.py).
worker_class = {"gevent": "api.gunicorn_worker.GeventWorker"}.get(
    settings.GUNICORN_WORKER_CLASS, settings.GUNICORN_WORKER_CLASS
)
worker_connections = settings.GUNICORN_WORKER_CONNECTIONS  # greenlets per worker
threads = settings.GUNICORN_THREADS  # gthread only; gevent ignores it
max_requests = settings.GUNICORN_MAX_REQUESTS  # requests
max_requests_jitter = settings.GUNICORN_MAX_REQUESTS_JITTER  # requests
preload_app = settings.GUNICORN_PRELOAD_APP

# ---------------------------------------------------------------- Timeouts
timeout = settings.GUNICORN_TIMEOUT  # seconds; a blocked hub misses heartbeats
graceful_timeout = settings.GUNICORN_GRACEFUL_TIMEOUT  # seconds
keepalive = settings.GUNICORN_KEEPALIVE  # seconds; above nginx's upstream keepalive_timeout

# ---------------------------------------------------------------- Proxy and control
forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS
control_socket = settings.GUNICORN_CONTROL_SOCKET or None
control_socket_disable = not settings.GUNICORN_CONTROL_SOCKET

# ---------------------------------------------------------------- Logging
loglevel = settings.LOG_LEVEL.lower()
errorlog = "-"
accesslog = "-" if settings.GUNICORN_ACCESS_LOG else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
logconfig_dict = logs.logging_config(settings.LOG_LEVEL, settings.GUNICORN_ACCESS_LOG)
logger_class = "api.logs.GunicornLogger"  # skips formatting access lines nobody logs
proc_name = "api"


# Which API setting each gunicorn setting above comes from. A command-line flag or a
# GUNICORN_CMD_ARGS entry that changed one would bypass what is derived from it (the pool
# size, the connection budget check, the saturation metrics): on_starting refuses it.
_FROM_SETTINGS = {
    "bind": "GUNICORN_BIND",
    "backlog": "GUNICORN_BACKLOG",
    "workers": "WEB_CONCURRENCY",
    "worker_class": "GUNICORN_WORKER_CLASS",
    "worker_connections": "GUNICORN_WORKER_CONNECTIONS",
    "threads": "GUNICORN_THREADS",
    "max_requests": "GUNICORN_MAX_REQUESTS",
    "max_requests_jitter": "GUNICORN_MAX_REQUESTS_JITTER",
    "preload_app": "GUNICORN_PRELOAD_APP",
    "timeout": "GUNICORN_TIMEOUT",
    "graceful_timeout": "GUNICORN_GRACEFUL_TIMEOUT",
    "keepalive": "GUNICORN_KEEPALIVE",
    "forwarded_allow_ips": "FORWARDED_ALLOW_IPS",
    "control_socket": "GUNICORN_CONTROL_SOCKET",
    "loglevel": "LOG_LEVEL",
    "accesslog": "GUNICORN_ACCESS_LOG",
}


# ---------------------------------------------------------------- Server hooks
def on_starting(server):
    """Master, configuration final: refuse command-line flags that contradict the settings."""
    assigned = globals()  # what this file set, before gunicorn applied its command line
    configured = {name: (assigned[name], source) for name, source in _FROM_SETTINGS.items()}
    gunicorn_hooks.on_starting(server, settings, configured)


def when_ready(server):
    """Master, listening: serve /metrics and sample the listen backlog."""
    gunicorn_hooks.when_ready(server, settings)


def post_worker_init(worker):
    """Worker, app loaded: cooperative psycopg2, metrics, event-loop monitor."""
    gunicorn_hooks.post_worker_init(worker, settings)


def worker_exit(server, worker):
    """Worker, exiting on its own: mark the exit as clean."""
    gunicorn_hooks.worker_exit(worker)


def child_exit(server, worker):
    """Master, worker reaped: clean up its metrics, count the restart."""
    gunicorn_hooks.child_exit(server, worker)


def on_exit(server):
    """Master, last thing before exiting: remove a metrics directory it created."""
    multiproc.cleanup()
