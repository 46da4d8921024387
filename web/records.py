"""Record history (the audit trail) and a park's data-quality page."""
from __future__ import annotations

from flask import Blueprint, g, render_template

from registry.core import audit, authz
from registry.assets import quality as quality_mod

from . import forms
from .auth import login_required
from .db import get_session

history_bp = Blueprint("history", __name__)
quality_bp = Blueprint("quality", __name__)


@history_bp.get("/history/<entity>/<ident>")
@login_required
def record(entity, ident):
    db = get_session()
    authz.require_private(g.user, audit.record_park(db, entity, ident))
    records = audit.record_history(db, entity, ident)
    return render_template("history.html", entity=entity, ident=ident, records=records)


@quality_bp.get("/parks/<int:park_id>/quality")
@login_required
def park_quality(park_id):
    authz.require_private(g.user, park_id)
    report = quality_mod.park_quality(get_session(), park_id, forms.as_of())
    return render_template("quality.html", r=report, park_id=park_id)
