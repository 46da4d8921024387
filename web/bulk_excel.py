"""Excel bulk update pages: download the template, upload, preview, commit."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from registry.assets import parks as park_list
from registry.core import authz, clock
from registry.core.validation import Problem, ValidationError
from registry.occupancy import workbook
from registry.storage import uploads

from . import downloads, forms
from .auth import login_required
from .db import get_session
from .refusals import form_page

bp = Blueprint("bulk_excel", __name__, url_prefix="/parks/<int:park_id>/excel")
MAX_WORKBOOK = 20 * 1024 * 1024


def _page(park_id):
    authz.require_private(g.user, park_id)  # the ledger's tenants, codes and rents
    park = park_list.get_park(get_session(), park_id)
    return render_template("excel.html", park=park, can_write=authz.can_write_park(g.user, park_id), today=clock.today())


@bp.get("")
@login_required
def page(park_id):
    return _page(park_id)


@bp.get("/template")
@login_required
def template(park_id):
    authz.require_private(g.user, park_id)
    day = forms.as_of()
    return downloads.download(workbook.template(get_session(), park_id, day), f"房源租约模板-{park_id}-{day}.xlsx")


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


@bp.post("/preview")
@login_required
@form_page(lambda park_id: _page(park_id), "workbook")
def preview(park_id):
    """The plan of an uploaded workbook: every change it would make and every error, by row. The
    workbook is staged for the commit."""
    authz.require_write_park(g.user, park_id)
    if (request.content_length or 0) > MAX_WORKBOOK:
        # The workbook is parsed in memory; a template for 10,000 units is about 1 MB.
        refused = RequestEntityTooLarge()
        refused.limit_mb = MAX_WORKBOOK // (1024 * 1024)
        raise refused
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(Problem("file", "未选择文件", "下载的模板填写后的 .xlsx 文件"))
    data = upload.read()
    staged = uploads.stage(_uploads(), "workbook", upload.filename, lambda path: path.write_bytes(data),
                           {"park": park_id})
    p = workbook.plan(get_session(), park_id, data)
    get_session().rollback()
    return render_template("excel_preview.html", p=p, token=staged.token, filename=upload.filename), (
        400 if p.errors else 200)


@bp.post("/commit")
@login_required
def commit(park_id):
    authz.require_write_park(g.user, park_id)
    try:
        staged = uploads.find(_uploads(), request.form.get("token", ""), "workbook")
    except LookupError as exc:
        raise ValidationError(Problem("token", str(exc), "重新上传文件")) from None
    if staged.meta.get("park") != park_id:
        raise ValidationError(Problem("token", "上传的文件不属于本园区", "重新上传文件"))
    db = get_session()
    claimed = uploads.claim(staged)  # one commit per upload, however many clicks or managers
    try:
        p = workbook.plan(db, park_id, claimed.path.read_bytes())
        if p.errors:
            db.rollback()
            uploads.release(claimed)
            return render_template("excel_preview.html", p=p, token=staged.token, filename=staged.name), 400
        n = workbook.apply(db, g.user, p)
        db.commit()
    except BaseException:
        uploads.release(claimed)
        raise
    uploads.discard(claimed)
    flash(f"已写入 {n} 项变更（新签 {p.count('new')}，续租 {p.count('renew')}，退租 {p.count('end')}，"
          f"面积更正 {p.count('area')}，新企业 {len(p.new_enterprises)}）" if n else "文件与登记内容一致，无变更")
    return redirect(url_for("manage.park", park_id=park_id))
