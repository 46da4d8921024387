"""Excel bulk update pages: download the template, upload, preview, commit."""
from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from registry.core import authz
from registry.occupancy import workbook as excel_bulk
from registry.core.models import Park

from . import forms
from .auth import login_required
from .db import get_session
from registry.core import clock

bp = Blueprint("bulk_excel", __name__, url_prefix="/parks/<int:park_id>/excel")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WORKBOOK = 20 * 1024 * 1024


def _upload_dir():
    path = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


@bp.get("")
@login_required
def page(park_id):
    park = get_session().get(Park, park_id)
    if park is None:
        raise LookupError(f"no park #{park_id}")
    return render_template("excel.html", park=park, can_write=authz.can_write_park(g.user, park_id), today=clock.today())


@bp.get("/template")
@login_required
def template(park_id):
    day = forms.as_of()
    data = excel_bulk.template(get_session(), park_id, day)
    name = f"房源租约模板-{park_id}-{day}.xlsx"
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=template.xlsx; filename*=UTF-8''{quote(name)}"})


@bp.post("/preview")
@login_required
def preview(park_id):
    authz.require_write_park(g.user, park_id)
    if (request.content_length or 0) > MAX_WORKBOOK:
        # The workbook is parsed in memory; a template for 10,000 units is about 1 MB.
        refused = RequestEntityTooLarge()
        refused.limit_mb = MAX_WORKBOOK // (1024 * 1024)
        raise refused
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("error.html", code=400, message="请选择要上传的 .xlsx 文件"), 400
    data = upload.read()
    token = hashlib.sha256(data).hexdigest()
    with open(f"{_upload_dir()}/{token}.xlsx", "wb") as f:
        f.write(data)
    p = excel_bulk.plan(get_session(), park_id, data)
    get_session().rollback()
    return render_template("excel_preview.html", p=p, token=token, filename=upload.filename), (400 if p.errors else 200)


@bp.post("/commit")
@login_required
def commit(park_id):
    authz.require_write_park(g.user, park_id)
    token = request.form.get("token", "")
    if not re.fullmatch(r"[0-9a-f]{64}", token):
        return render_template("error.html", code=400, message="上传凭据无效，请重新上传文件"), 400
    try:
        with open(f"{_upload_dir()}/{token}.xlsx", "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return render_template("error.html", code=400, message="上传的文件已失效，请重新上传"), 400
    db = get_session()
    p = excel_bulk.plan(db, park_id, data)
    if p.errors:
        db.rollback()
        return render_template("excel_preview.html", p=p, token=token, filename=""), 400
    n = excel_bulk.apply(db, g.user, p)
    db.commit()
    flash(f"已写入 {n} 项变更（新签 {p.count('new')}，续租 {p.count('renew')}，退租 {p.count('end')}，"
          f"面积更正 {p.count('area')}，新企业 {len(p.new_enterprises)}）" if n else "文件与登记内容一致，无变更")
    return redirect(url_for("manage.park", park_id=park_id))
