"""A Flask API built to hold high concurrency on gunicorn's gevent workers.

The package itself imports nothing: gunicorn.conf.py imports `api.config` and `api.multiproc`
before it chooses the metrics directory, which must happen before anything imports
prometheus_client (tests/test_factory.py pins this). The factory is `api.app.create_app`.
"""

__version__ = "0.1.0"
