"""Record history (the audit trail as people read it), a park's 操作记录, and its data-quality page."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from registry.assets import parks as park_list
from registry.assets import quality as quality_mod
from registry.core import audit, authz, history

from . import downloads, forms
from .auth import login_required
from .db import get_session

history_bp = Blueprint("history", __name__)
quality_bp = Blueprint("quality", __name__)


@history_bp.get("/history/<entity>/<ident>")
@login_required
def record(entity, ident):
    db = get_session()
    authz.require_private(g.user, audit.record_park(db, entity, ident))
    name, found = history.record_entries(db, entity, ident)
    return render_template("history.html", kind=history.KINDS.get(entity, entity), name=name, entries=found)


@history_bp.get("/activity")
@login_required
def activity_parks():
    """操作记录 from the menu: the one park the user reads in full, or a choice of them."""
    parks = park_list.park_choices(get_session(), authz.audience(g.user))
    if len(parks) == 1:
        return redirect(url_for(".activity", park_id=parks[0][0]))
    return render_template("activity_parks.html", parks=parks)


@history_bp.get("/parks/<int:park_id>/activity")
@login_required
def activity(park_id):
    authz.require_private(g.user, park_id)
    fmt = downloads.page_format()
    db = get_session()
    park = park_list.get_park(db, park_id)
    f = history.parse_filter(request.args)
    found, more = history.park_activity(db, park_id, f)
    if fmt != "html":
        return downloads.table(history.activity_table(park.name, found), fmt)
    return render_template("activity.html", park=park, entries=found, more=more, f=f, limit=history.LIMIT,
                           kinds=[(k, history.KINDS[k]) for k in history.PARK_KINDS],
                           buildings=park_list.building_choices(db, park_id), people=history.people_of(db, park_id))


@quality_bp.get("/parks/<int:park_id>/quality")
@login_required
def park_quality(park_id):
    authz.require_private(g.user, park_id)
    report = quality_mod.park_quality(get_session(), park_id, forms.as_of())
    return render_template("quality.html", r=report, park_id=park_id)
