"""A Flask API built to hold high concurrency on gunicorn's gevent workers."""

from collections.abc import Mapping
from typing import Any

__version__ = "0.1.0"


def create_app(test_config: Mapping[str, Any] | None = None):
    """Build the application; `test_config` overrides settings read from the environment."""
    # Imported here, so `import api.config` (gunicorn.conf.py) stays light and pulls in no
    # prometheus_client before the multiprocess directory is chosen.
    from flask import Flask

    from . import db, errors, logs, metrics
    from .config import load_settings
    from .routes import register_blueprints

    settings = load_settings(test_config)
    app = Flask(__name__)
    app.config.update(settings.model_dump())
    app.config["MAX_CONTENT_LENGTH"] = settings.API_MAX_BODY_BYTES
    app.json.sort_keys = False  # keep TFB and problem members in the documented order

    logs.init_app(app)
    db.init_app(app)
    metrics.init_app(app)
    errors.init_app(app)
    register_blueprints(app)
    return app
