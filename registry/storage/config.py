"""Where the registry keeps its data, from the environment with sane defaults.

One variable switches the backend: ``REGISTRY_DATABASE_URL``. Unset, the registry uses a SpatiaLite
file in the instance folder, which needs no server.
"""
from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "REGISTRY_DATABASE_URL"
INSTANCE_ENV = "REGISTRY_INSTANCE_PATH"
BUSY_TIMEOUT_ENV = "REGISTRY_SQLITE_BUSY_MS"

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def instance_path() -> Path:
    """The folder for the embedded database and uploads (created on demand)."""
    return Path(os.environ.get(INSTANCE_ENV) or PROJECT_ROOT / "instance")


def database_url() -> str:
    """The database URL: ``REGISTRY_DATABASE_URL`` or the SpatiaLite file in the instance folder."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    folder = instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'registry.sqlite'}"


def sqlite_busy_timeout_ms() -> int:
    """How long a SpatiaLite write waits for another writer's lock (``REGISTRY_SQLITE_BUSY_MS``,
    default 10 s) before giving up with a retryable "busy" answer."""
    return int(os.environ.get(BUSY_TIMEOUT_ENV) or 10_000)
