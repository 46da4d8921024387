"""Pages. Each view reads the request, calls one registry function, and renders the result."""
from __future__ import annotations

from flask import Blueprint, render_template

from registry.occupancy import summary

from . import forms
from .db import get_session

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    day = forms.as_of()
    parks, total = summary.overview(get_session(), day)
    return render_template("index.html", parks=parks, total=total, day=day, wan=summary.wan)
