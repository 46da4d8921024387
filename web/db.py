"""One registry session per request, closed at teardown."""
from __future__ import annotations

from flask import Flask, current_app, g

from registry.storage.db import sessionmaker_for


def get_session():
    if "db_session" not in g:
        g.db_session = sessionmaker_for(current_app.config["DATABASE_URL"])()
    return g.db_session


def _close(_exc=None):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
