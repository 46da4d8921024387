"""Is the registry able to serve? The database answers, at the schema this code expects."""
from __future__ import annotations

import time

from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from . import migrate
from .db import dialect, unavailable


def check(session: Session) -> dict:
    """{"status": "ok" | "database unreachable" | "database busy" | "schema not current", ...}
    with the backend, the schema revision found and expected, and the database's answer time.

    An unavailable database is reported, not raised: the caller (a load balancer, a watchdog) is
    asking exactly that. Any other error is raised.
    """
    report = {"status": "ok", "database": dialect(session), "expected_schema": migrate.head()}
    t = time.perf_counter()
    try:
        report["schema"] = MigrationContext.configure(session.connection()).get_current_revision()
    except Exception as exc:  # noqa: BLE001 - classified here; anything else is raised again
        problem = unavailable(exc)
        if problem is None:
            raise
        report.update(status=f"database {problem.kind}", detail=problem.detail, retry_after=problem.retry_after)
    else:
        if report["schema"] != report["expected_schema"]:
            report.update(status="schema not current", detail="run: registry db upgrade")
    finally:
        session.rollback()
        report["database_ms"] = round((time.perf_counter() - t) * 1000, 1)
    return report
