"""GIS import (administrators: upload, dry run with mapping, commit) and export downloads.

An upload is staged (registry.storage.uploads) with the options chosen for it; every preview re-runs
the dry run (registry.gis.importer.plan) on the staged file, and the commit runs the same plan inside
the request's transaction, then discards the upload.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from geodata.sources import SUFFIXES, SourceError
from registry.assets import parks as park_list
from registry.core import authz, clock
from registry.core.validation import Problem, ValidationError
from registry.gis import exporter, fields, importer, profiles
from registry.storage import uploads

from . import downloads, forms
from .auth import admin_required, login_required
from .db import get_session
from .refusals import form_page

bp = Blueprint("gis", __name__)


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


def _stored(token: str) -> tuple[uploads.Staged, importer.Options]:
    staged = uploads.find(_uploads(), token, "gis")
    return staged, importer.Options.from_dict(staged.meta["options"])


def _form_context(**extra) -> dict:
    db = get_session()
    return dict(parks=park_list.park_choices(db), targets=fields.IMPORT_TARGETS,
                titles=fields.LAYER_TITLES, profiles=profiles.names(db), suffixes=sorted(SUFFIXES), **extra)


def _import_page():
    return render_template("gis_import.html", **_form_context())


@bp.get("/import")
@admin_required
def import_form():
    return _import_page()


@bp.post("/import")
@admin_required
@form_page(_import_page, "gis-import")
def import_upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(Problem("file", "未选择文件", "GIS 文件或打包为 .zip 的 Shapefile"))
    if Path(upload.filename).suffix.lower() not in SUFFIXES:
        raise ValidationError(Problem("file", f"{upload.filename}：无法识别的格式", "、".join(sorted(SUFFIXES))))
    profile = (request.form.get("profile") or "").strip()
    options = profiles.load(get_session(), profile) if profile else importer.options_from_form(request.form)
    token = uploads.stage(_uploads(), "gis", upload.filename, upload.save, {"options": options.as_dict()}).token
    target = url_for("gis.import_preview", token=token)
    return jsonify({"preview": target}) if request.accept_mimetypes.best == "application/json" else redirect(target, code=303)


def _plan(token: str):
    staged, options = _stored(token)
    return importer.plan(get_session(), staged.path, options, source_name=staged.name), staged


def _preview_page(token):
    """The dry run of the stored upload with its options: what a commit would write."""
    plan, _staged = _plan(token)
    get_session().rollback()
    return render_template("gis_import_preview.html", plan=plan, token=token,
                           importable=fields.importable(plan.options.target), **_form_context())


@bp.get("/import/<token>")
@admin_required
def import_preview(token):
    try:
        return _preview_page(token)
    except SourceError as exc:
        get_session().rollback()
        return render_template("gis_import.html", error=str(exc), **_form_context()), 400


@bp.post("/import/<token>/options")
@admin_required
@form_page(_preview_page, "gis-options")
def import_options(token):
    staged, old = _stored(token)
    uploads.update(staged, {"options": importer.options_from_form(request.form, old.target).as_dict()})
    return redirect(url_for("gis.import_preview", token=token), code=303)


@bp.post("/import/<token>/commit")
@admin_required
@form_page(_preview_page, "gis-commit")
def import_commit(token):
    """Refused (rejected features, a key taken meanwhile): the preview again, nothing written."""
    staged, options = _stored(token)
    options.skip_rejected = bool(request.form.get("skip_rejected"))
    db = get_session()
    with uploads.committing(staged) as claimed:  # one commit per upload, however many clicks
        plan = importer.plan(db, claimed.path, options, source_name=staged.name)
        counts = importer.commit(db, plan, g.user)
        name = (request.form.get("save_profile") or "").strip()
        if name:
            profiles.save(db, g.user, name, options)
        db.commit()
    flash("导入完成：新增 {new}，更新 {updated}，未变 {unchanged}，跳过 {skipped}".format(**counts))
    return redirect(url_for("gis.import_form"), code=303)


@bp.get("/export")
@login_required
def export_page():
    return render_template("gis_export.html", layers=fields.LAYER_TITLES, formats=exporter.FORMATS,
                           today=clock.today(), **_form_context())


@bp.get("/export/<layer>.<fmt>")
@login_required
def export_file(layer, fmt):
    if layer not in fields.LAYERS or fmt not in exporter.FORMATS:
        raise LookupError(f"no export {layer}.{fmt}")
    day = forms.date("as_of", default=clock.today())
    park = request.args.get("park", type=int)
    encoding = "GBK" if request.args.get("encoding", "").upper() == "GBK" else "UTF-8"
    tmp = Path(tempfile.mkdtemp(prefix="registry-export-"))
    try:
        out = tmp / f"{layer}{exporter.SUFFIX[fmt]}"
        exporter.export(get_session(), layer, fmt, out, day=day, park=park, encoding=encoding,
                        audience=authz.audience(g.user))
        data = out.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return downloads.download(data, f"{fields.LAYER_TITLES[layer]}-{day}{exporter.SUFFIX[fmt]}",
                              media_type=downloads.MEDIA_TYPES[fmt])

