"""gunicorn settings for a mode on another worker class: the project's own, with worker_class
taken from BENCH_WORKER_CLASS.

gunicorn's `-k` cannot do this: gunicorn.conf.py refuses command-line flags that contradict
the settings. The project's file runs in this module's namespace, so its hooks (the check in
on_starting included) see the worker class set here.
"""

import os
from pathlib import Path

_PROJECT_CONF = Path(__file__).resolve().parents[3] / "services/api/gunicorn.conf.py"
exec(compile(_PROJECT_CONF.read_text(), str(_PROJECT_CONF), "exec"))
worker_class = os.environ["BENCH_WORKER_CLASS"]
