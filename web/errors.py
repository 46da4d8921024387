"""Pages for what went wrong, in the reader's language and the site's own style: 400, 403, 404,
405, 413 and 500 (503 and 507 are web/operations.py's, refused writes web/refusals.py's). API
callers get the same as JSON. Werkzeug's own English pages are never shown."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from registry.core.words import N_

from .i18n import gettext as _

# What each status says to a person, when the refusal brings no words of its own.
WORDS = {
    400: N_("请求有误，服务器无法处理。请检查地址或表单后重试。"),
    401: N_("请先登录。"),
    403: N_("无权访问此页面或执行此操作。"),
    404: N_("没有这个页面或记录。请检查地址，或从菜单重新进入。"),
    405: N_("此地址不接受这种请求方式。"),
    409: N_("记录已被他人修改，请刷新后再操作。"),
    413: N_("上传内容过大，服务器未读取也未保存。"),
    429: N_("请求过于频繁，请稍后再试。"),
    500: N_("服务器出错了，本次操作未完成，也未写入任何内容。错误已记录；请稍后重试，或联系系统管理员。"),
}
TITLES = {400: N_("请求有误"), 401: N_("需要登录"), 403: N_("无权访问"), 404: N_("找不到页面"), 405: N_("请求方式不对"),
          409: N_("保存冲突"), 413: N_("上传过大"), 429: N_("请求过多"), 500: N_("服务器错误")}


def wants_json() -> bool:
    """Whether this request is answered in JSON rather than a page (every refusal and error page
    asks here): the API, the OGC API and the health check, or a caller that prefers JSON to HTML
    (one that takes anything, */*, gets the page)."""
    return (request.path.startswith(("/api/", "/ogc", "/healthz"))
            or request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json")


def page(code: int, message: str | None = None):
    """The response for status ``code`` with ``message`` (default: the status's own words)."""
    message = message or _(WORDS.get(code, WORDS[500]))
    if wants_json():
        resp = jsonify({"code": code, "description": message})
        resp.status_code = code
        return resp
    return render_template("error.html", code=code, title=_(TITLES.get(code, "出错了")), message=message), code


def _http(exc: HTTPException):
    # A description given on purpose (abort(400, description=…)) is said; Werkzeug's default
    # English sentence never is.
    own = exc.description if exc.description and exc.description != type(exc).description else None
    return page(exc.code or 500, own)


def _internal(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http(exc)
    current_app.logger.exception("unexpected error: %s", exc)
    return page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(InternalServerError, _internal)
