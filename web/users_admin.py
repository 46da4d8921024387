"""The administrators' user page: list users, create one, deactivate or reactivate."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from registry.core import users
from registry.core.enums import Role
from registry.core.models import Park
from registry.core.validation import ValidationError

from .auth import admin_required
from .db import get_session

bp = Blueprint("users_admin", __name__, url_prefix="/admin/users")


@bp.route("", methods=["GET", "POST"])
@admin_required
def list_users():
    db = get_session()
    problems, status = [], 200
    if request.method == "POST":
        try:
            u = users.create_user(db, request.form.get("username", ""), request.form.get("password", ""),
                                  request.form.get("role", ""), request.form.getlist("park"),
                                  request.form.get("display_name") or None)
            db.commit()
            flash(f"已创建用户 {u.username}")
            return redirect(url_for(".list_users"))
        except ValidationError as exc:
            db.rollback()
            problems, status = exc.problems, 400
    return render_template("users.html", users=users.list_users(db), parks=db.scalars(select(Park).order_by(Park.name)).all(),
                           roles=list(Role), problems=problems), status


@bp.post("/<int:user_id>/active")
@admin_required
def set_active(user_id):
    db = get_session()
    users.set_active(db, g.user, user_id, request.form.get("active") == "1")
    db.commit()
    return redirect(url_for(".list_users"))
