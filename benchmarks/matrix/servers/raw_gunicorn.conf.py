"""gunicorn settings for the framework-free app: the project's own, minus its app hooks.

Loads services/api/gunicorn.conf.py (so workers, worker class, worker_connections, backlog
and keepalive are exactly the project's) and drops the hooks, which expect the Flask app.
"""

import runpy
from pathlib import Path

_project = runpy.run_path(
    str(Path(__file__).resolve().parents[3] / "services/api/gunicorn.conf.py")
)
globals().update(
    {
        name: value
        for name, value in _project.items()
        if not name.startswith("_") and not callable(value)  # hooks are functions
    }
)
