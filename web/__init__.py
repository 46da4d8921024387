"""The web layer: thin Flask views over registry functions, templates and static assets."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g

from registry import config as registry_config


def create_app(test_config: dict | None = None) -> Flask:
    """The application factory (Flask tutorial style). ``test_config`` overrides the environment."""
    app = Flask(__name__, instance_path=str(registry_config.instance_path()), instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev-only-change-me",
        DATABASE_URL=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_AS_ASCII=False,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or registry_config.database_url()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import db, i18n, views
    db.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(views.bp)

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        return resp

    return app


def current_session():
    return g.db_session
