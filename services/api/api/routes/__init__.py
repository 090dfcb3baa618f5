"""The blueprint index: every route of the API is registered from here."""

from flask import Flask

from . import docs, health, items, simulate, tfb


def register_blueprints(app: Flask) -> None:
    """Register each area's blueprint."""
    for module in (health, tfb, simulate, items, docs):
        app.register_blueprint(module.bp)
