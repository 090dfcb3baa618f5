"""The application factory: the settings, each concern's init_app, then the routes."""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import db, errors, logs, metrics
from .config import get_settings, load_settings
from .json_provider import OrjsonProvider
from .routes import register_blueprints


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application from the process's settings; `test_config` overrides some."""
    settings = get_settings() if test_config is None else load_settings(test_config)
    app = Flask(__package__)
    app.extensions["settings"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.API_MAX_BODY_BYTES
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False  # keep TFB and problem members in the documented order

    logs.init_app(app, settings)
    db.init_app(app, settings)
    metrics.init_app(app, settings)
    errors.init_app(app)
    register_blueprints(app)
    return app
