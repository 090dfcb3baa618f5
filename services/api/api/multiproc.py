"""The prometheus_client multiprocess directory: every gunicorn process writes its metrics there.

prometheus_client decides at import time whether values live in memory or in this directory,
so `prepare` must run before anything imports prometheus_client (gunicorn.conf.py calls it
first). The directory must be empty when the server starts: files of dead workers would
otherwise add stale series and slow every scrape (prometheus_client docs, "Multiprocess mode"),
and it must be emptied before the master creates its own metric files, or the master would
keep writing into deleted files.
"""

import os
import shutil
import tempfile

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"


_prepared_in_pid: int | None = None
_created: str | None = None  # a temporary directory made by prepare(), removed by cleanup()


def prepare(path: str) -> str:
    """Point prometheus_client at an empty `path` (a new temporary directory if empty).

    Once per process: gunicorn re-reads its config file on SIGHUP, and wiping the directory
    then would pull the files from under the running workers.
    """
    global _prepared_in_pid, _created
    if _prepared_in_pid == os.getpid():
        return os.environ[ENV_VAR]
    path = path or os.environ.get(ENV_VAR)
    if not path:
        path = _created = tempfile.mkdtemp(prefix="api-metrics-")
    os.makedirs(path, exist_ok=True)
    reset(path)
    os.environ[ENV_VAR] = path
    _prepared_in_pid = os.getpid()
    return path


def reset(path: str) -> None:
    """Delete everything in the directory, keeping the directory (it may be a mount point)."""
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def cleanup() -> None:
    """Remove the temporary directory prepare() created, if it did (at server exit)."""
    if _created:
        shutil.rmtree(_created, ignore_errors=True)
