"""The administrators' user page: list users, create one, deactivate or reactivate."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from registry.core import users
from registry.core.enums import Role
from registry.assets import parks

from .auth import admin_required
from .db import get_session
from .refusals import form_page

bp = Blueprint("users_admin", __name__, url_prefix="/admin/users")


def _page(**_view_args):
    db = get_session()
    return render_template("users.html", users=users.list_users(db), parks=parks.park_choices(db), roles=list(Role))


@bp.get("")
@admin_required
def list_users():
    return _page()


@bp.post("")
@admin_required
@form_page(_page, "new-user", **{"User.parks": "park"})
def create_user():
    db = get_session()
    u = users.create_user(db, request.form.get("username", ""), request.form.get("password", ""),
                          request.form.get("role", ""), request.form.getlist("park"),
                          request.form.get("display_name") or None)
    db.commit()
    flash(f"已创建用户 {u.username}")
    return redirect(url_for(".list_users"))


@bp.post("/<int:user_id>/password")
@admin_required
@form_page(_page, "password-{user_id}")
def set_password(user_id):
    db = get_session()
    u = users.set_password(db, g.user, user_id, request.form.get("password", ""))
    db.commit()
    flash(f"已重设 {u.username} 的密码；其登录已全部退出")
    return redirect(url_for(".list_users"))


@bp.post("/<int:user_id>/active")
@admin_required
def set_active(user_id):
    db = get_session()
    users.set_active(db, g.user, user_id, request.form.get("active") == "1")
    db.commit()
    return redirect(url_for(".list_users"))
