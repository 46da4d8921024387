"""One registry session per request, closed at teardown. A request that may write (any method but
GET and HEAD) gets a session marked for writing before it reads (``registry.storage.db.for_writing``)."""
from __future__ import annotations

from flask import Flask, current_app, g, request

from registry.storage.db import for_writing, sessionmaker_for


def get_session():
    if "db_session" not in g:
        g.db_session = sessionmaker_for(current_app.config["DATABASE_URL"])()
        if request and request.method not in ("GET", "HEAD", "OPTIONS"):
            for_writing(g.db_session)
    return g.db_session


def _close(_exc=None):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
