"""What an operator sees: request ids, structured (JSON) logs, the health endpoint, and the answers
given when the database is unreachable or busy (503 with Retry-After, never a half-done write) or
the disk is full (507, no partial file)."""
from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import re
import sys
import time
import uuid

from flask import Blueprint, Flask, current_app, g, has_request_context, jsonify, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from registry.storage import health
from registry.storage.db import DatabaseError, DatabaseUnavailable, release, unavailable

from . import errors
from .db import get_session
from .i18n import gettext as _

bp = Blueprint("operations", __name__)
access_log = logging.getLogger("registry.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_configured = False


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id when there is one,
    any structured fields passed with ``extra=``, and the traceback of an error."""

    FIELDS = ("method", "path", "status", "ms", "user", "remote", "bytes")

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        rid = getattr(record, "request_id", None) or (g.get("request_id") if has_request_context() else None)
        if rid:
            entry["request_id"] = rid
        entry.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the registry's and the app's loggers (once per process); gunicorn
    and systemd collect stderr."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("registry", "web"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
    _configured = True


@bp.get("/healthz")
def healthz():
    """200 when the database answers at the schema this code expects, 503 otherwise (load balancers
    and systemd watchdogs poll this)."""
    report = health.check(get_session())
    return jsonify(report), (200 if report["status"] == "ok" else 503)


def _start():
    sent = request.headers.get("X-Request-Id", "")
    # A proxy's id is kept so one request can be followed through nginx and the app.
    g.request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(resp):
    resp.headers["X-Request-Id"] = g.get("request_id", "")
    access_log.info("%s %s %s", request.method, request.path, resp.status_code, extra={
        "request_id": g.get("request_id"), "method": request.method, "path": request.path,
        "status": resp.status_code,
        "ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
        "user": g.get("username"), "remote": request.remote_addr, "bytes": resp.calculate_content_length()})
    return resp


def _database_unavailable(exc):
    problem = unavailable(exc)
    if problem is None:
        raise exc  # not about availability: a real error, logged and answered 500
    if "db_session" in g:
        release(g.db_session)  # the failed transaction is over; nothing of it was written
    current_app.logger.warning("database unavailable: %s", problem)
    if problem.kind == "full":
        current_app.logger.error("disk full: %s", problem)
        return _full_page(_("服务器磁盘空间已满，本次操作未写入任何内容。请联系系统管理员清理磁盘后重试。"))
    message = (_("数据库正忙（另一项写入正在进行），本次操作未写入任何内容，请稍后重试。") if problem.kind == "busy"
               else _("数据库暂时无法连接，本次操作未写入任何内容。请稍后重试；如持续出现，请联系系统管理员。"))
    if request.endpoint == "operations.healthz":  # failed before the check itself (signing in)
        resp = jsonify({"status": f"database {problem.kind}", "detail": problem.detail,
                        "retry_after": problem.retry_after})
        resp.status_code = 503
    elif errors.wants_json():
        resp = jsonify({"code": "database_" + problem.kind, "description": message, "retry_after": problem.retry_after})
        resp.status_code = 503
    else:
        resp = current_app.make_response((render_template("error.html", code=503, message=message), 503))
    resp.headers["Retry-After"] = str(problem.retry_after)
    return resp


def _disk_full(exc: OSError):
    if exc.errno != errno.ENOSPC:
        raise exc
    current_app.logger.error("disk full: %s", exc)
    if "db_session" in g:
        release(g.db_session)
    return _full_page(_("服务器磁盘空间已满，文件未生成（没有留下不完整的文件）。请联系系统管理员清理磁盘后重试。"))


def _full_page(message: str):
    """507 Insufficient Storage, as JSON for API callers and as a page for people."""
    if errors.wants_json():
        resp = jsonify({"code": "disk_full", "description": message})
        resp.status_code = 507
        return resp
    return render_template("error.html", code=507, message=message), 507


def _too_large(exc):
    limit = getattr(exc, "limit_mb", None) or current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _("上传内容过大：超过 {limit} MB 的上限，服务器未读取也未保存。请拆分文件后重试。").format(limit=limit)
    if errors.wants_json():
        return jsonify({"code": "too_large", "description": message}), 413
    return render_template("error.html", code=413, message=message), 413


def init_app(app: Flask) -> None:
    if not app.testing:
        configure_logging()
    # create_app calls this first: the request id exists before any other hook can fail, and
    # after_request hooks run in reverse, so the access log sees the final response.
    app.before_request(_start)
    app.after_request(_finish)
    app.register_error_handler(DatabaseError, _database_unavailable)
    app.register_error_handler(DatabaseUnavailable, _database_unavailable)
    app.register_error_handler(OSError, _disk_full)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_blueprint(bp)
