"""GIS import (administrators: upload, dry run with mapping, commit) and export downloads.

An upload is kept under the instance folder by a random token with the options chosen for it;
every preview re-runs the dry run (registry.gis.importer.plan) on the stored file, and the commit
runs the same plan inside the request's transaction.
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.utils import secure_filename

from geodata.sources import SUFFIXES, SourceError
from registry.gis import exporter, fields, importer, profiles
from registry.assets import parks as park_list
from registry.core.validation import Problem, ValidationError

from . import forms
from .auth import admin_required, login_required
from .db import get_session
from .refusals import form_page
from registry.core import clock

bp = Blueprint("gis", __name__)
_TOKEN = re.compile(r"[0-9a-f]{32}")


def _upload_root() -> Path:
    path = Path(current_app.instance_path) / "uploads" / "gis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored(token: str) -> tuple[Path, importer.Options]:
    if not _TOKEN.fullmatch(token):
        raise LookupError("上传凭据无效，请重新上传文件")
    folder = _upload_root() / token
    meta = folder / "options.json"
    if not meta.exists():
        raise LookupError("上传的文件已失效，请重新上传")
    data = json.loads(meta.read_text("utf-8"))
    return folder / data["file"], importer.Options.from_dict(data["options"])


def _store_options(token: str, path: Path, options: importer.Options) -> None:
    (_upload_root() / token / "options.json").write_text(
        json.dumps({"file": path.name, "options": options.as_dict()}, ensure_ascii=False), "utf-8")


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
    name = secure_filename(upload.filename) or "upload"
    if Path(upload.filename).suffix.lower() not in SUFFIXES:
        raise ValidationError(Problem("file", f"{upload.filename}: unknown format", ", ".join(sorted(SUFFIXES))))
    if not Path(name).suffix:  # secure_filename drops non-ASCII names entirely
        name = "upload" + Path(upload.filename).suffix.lower()
    profile = (request.form.get("profile") or "").strip()
    options = profiles.load(get_session(), profile) if profile else importer.options_from_form(request.form)
    _forget_stale_uploads()
    token = secrets.token_hex(16)
    folder = _upload_root() / token
    folder.mkdir()
    path = folder / name
    upload.save(path)
    _store_options(token, path, options)
    target = url_for("gis.import_preview", token=token)
    return jsonify({"preview": target}) if request.accept_mimetypes.best == "application/json" else redirect(target, code=303)


def _forget_stale_uploads(max_age_s: float = 24 * 3600) -> None:
    """Uploads previewed but never committed are removed after a day."""
    now = time.time()
    for folder in _upload_root().iterdir():
        if folder.is_dir() and now - folder.stat().st_mtime > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)


def _plan(token: str):
    path, options = _stored(token)
    return importer.plan(get_session(), path, options, source_name=path.name), path


def _preview_page(token):
    """The dry run of the stored upload with its options: what a commit would write."""
    plan, _path = _plan(token)
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
    path, old = _stored(token)
    _store_options(token, path, importer.options_from_form(request.form, old.target))
    return redirect(url_for("gis.import_preview", token=token), code=303)


@bp.post("/import/<token>/commit")
@admin_required
@form_page(_preview_page, "gis-commit")
def import_commit(token):
    """Refused (rejected features, a key taken meanwhile): the preview again, nothing written."""
    path, options = _stored(token)
    options.skip_rejected = bool(request.form.get("skip_rejected"))
    db = get_session()
    plan = importer.plan(db, path, options, source_name=path.name)
    counts = importer.commit(db, plan, g.user)
    name = (request.form.get("save_profile") or "").strip()
    if name:
        profiles.save(db, g.user, name, options)
    db.commit()
    shutil.rmtree(_upload_root() / token, ignore_errors=True)
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
        exporter.export(get_session(), layer, fmt, out, day=day, park=park, encoding=encoding)
        data = out.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    name = f"{fields.LAYER_TITLES[layer]}-{day}{exporter.SUFFIX[fmt]}"
    return Response(data, mimetype=exporter.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename={layer}{exporter.SUFFIX[fmt]}; filename*=UTF-8''{quote(name)}"})

