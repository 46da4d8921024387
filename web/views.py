"""Pages. Each view reads the request, calls one registry function, and renders the result."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from registry.assets import parks as park_list
from registry.core import authz
from registry.occupancy import summary

from . import forms
from .db import get_session

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    day = forms.as_of()
    parks, total = summary.overview(get_session(), day)
    return render_template("index.html", parks=parks, total=total, day=day, wan=summary.wan)


@bp.get("/parks")
def parks():
    """园区 from the menu: the user's own park when they have one, else the overview's park list."""
    own = park_list.park_choices(get_session(), authz.audience(g.user)) if g.user is not None else []
    if len(own) == 1 and not authz.audience(g.user).every_park:
        return redirect(url_for("manage.park", park_id=own[0][0]))
    return redirect(url_for(".index") + "#parks")
