"""The WSGI entry point for production servers: ``gunicorn 'web.wsgi:app'``.

The database comes from ``REGISTRY_DATABASE_URL`` (docs/operations.md); each worker process builds
its own engine and connection pool on first use.
"""
from web import create_app

app = create_app()
