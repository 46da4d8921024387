"""Sign-in, the signed-in user, CSRF protection, and the mapping of registry refusals to HTTP."""
from __future__ import annotations

import functools
import hmac
import secrets

from flask import (Blueprint, Flask, abort, flash, g, redirect, render_template, request, session,
                   url_for)

from registry.core import authz, clock, signin, users
from registry.core.validation import Problem, ValidationError

from . import errors, forms, refusals
from .refusals import form_page
from .db import for_writing, get_session
from .i18n import gettext as _

bp = Blueprint("auth", __name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def csrf_token() -> str:
    token = session.get("_csrf")
    if not token:
        token = session["_csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("_csrf") or ""
    # An empty token never matches: a request with no session and no token (a login posted from
    # another site) is refused like a wrong one.
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description=_("表单已过期或来源无效（CSRF 校验失败），请刷新页面后重试。"))


def _load_user() -> None:
    db = get_session()
    g.user = users.active_user(db, session.get("user_id"), session.get("generation", 0))
    if g.user is None and "user_id" in session:
        session.pop("user_id")  # signed out elsewhere, deactivated, or the password changed
    # Plain strings for the access log and the page header: an error page (the database gone
    # mid-request) must render without loading anything.
    g.username = g.user.username if g.user else None
    g.user_label = f"{g.user.display_name or g.user.username}（{g.user.role.label}）" if g.user else None
    g.sections = authz.sections(g.user)  # the menu's sections, worked out while the database answers
    db.info["actor"] = g.username or "anonymous"  # who the audit trail names


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        authz.require_admin(g.user)
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        db = get_session()
        db.info["actor"] = "login:" + request.form.get("username", "")[:40]
        try:
            user = signin.sign_in(db, request.form.get("username", ""), request.form.get("password", ""),
                                  request.remote_addr or "unknown")
        except signin.LoginRefused as exc:
            error = _(str(exc))
            if exc.retry_at is not None:
                error += _("（{time} 后可再试）").format(time=exc.retry_at.astimezone(clock.zone()).strftime("%H:%M:%S"))
        else:
            session.clear()  # a new session for the signed-in user: no fixation
            session["user_id"] = user.id
            session["generation"] = user.session_generation
            session.permanent = True
            return redirect(forms.local_target(request.args.get("next"), url_for("main.index")))
    return render_template("login.html", error=error), (401 if error else 200)


def _password_page():
    return render_template("password.html")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@form_page(_password_page, "password")
def password():
    """修改密码: the signed-in user's own, with their current one; their other sessions end."""
    if request.method == "GET":
        return _password_page()
    new = request.form.get("password", "")
    if new != request.form.get("confirm", ""):
        raise ValidationError(Problem("User.confirm", "两次输入的新密码不一致", "同一个新密码输入两次"))
    db = get_session()
    current = request.form.get("current_password", "")
    try:  # the current password is checked as a sign-in is: guesses here count against the same limits
        signin.sign_in(db, g.user.username, current, request.remote_addr or "unknown")
    except signin.LoginRefused as exc:
        raise ValidationError(Problem("User.current_password", "当前密码不正确" if str(exc) == signin.WRONG
                                      else _(str(exc)), "您现在用于登录的密码")) from None
    for_writing(db)  # sign_in committed: the change takes its turn as a write
    user = users.set_password(db, g.user, g.user.id, new, current=current)
    db.commit()
    session["generation"] = user.session_generation  # this browser stays signed in; every other copy ends
    flash(_("密码已修改；其他设备上的登录已退出。"))
    return redirect(url_for("main.index"))


@bp.post("/logout")
def logout():
    if g.user is not None:
        users.end_sessions(get_session(), g.user)  # every copy of this cookie stops working
        get_session().commit()
    session.clear()
    return redirect(url_for("main.index"))


def init_app(app: Flask) -> None:
    app.before_request(_check_csrf)
    app.before_request(_load_user)
    app.register_blueprint(bp)
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.errorhandler(authz.Forbidden)
    def _forbidden(exc):
        return errors.page(403, _("无权执行此操作：") + _(str(exc)))

    refusals.init_app(app)  # invalid input, conflicts, lost races: one answer

    @app.errorhandler(LookupError)
    def _missing(exc):
        return errors.page(404)  # the record's internal name and number are not the reader's business
