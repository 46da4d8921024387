"""One staging area for uploaded files that wait between a preview and a commit (GIS files, Excel
workbooks): a folder per upload, named by a random token, holding the file under its own name and a
note of what it is for (its kind and options). Nothing else reads the folders.

An upload is found again only by its token and its kind (a workbook's token cannot be committed as a
GIS file), and committed once (``claim``). It expires a day after it was staged or last touched:
every new staging removes expired ones, and a commit removes its own.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.conflicts import Conflict

EXPIRY_S = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")
_NOTE = "upload.json"
_PARTIAL = ".partial"  # a folder still being written


@dataclass
class Staged:
    token: str
    kind: str  # "gis", "workbook", …
    path: Path  # the file
    name: str  # the file's name as the user's computer called it
    meta: dict  # what the upload is for (options, park, …)

    @property
    def folder(self) -> Path:
        return self.path.parent


def stage(root: Path, kind: str, name: str, save, meta: dict | None = None) -> Staged:
    """Stages a new upload of ``kind`` under ``root``: ``save(path)`` writes the file; ``name`` is
    what the user called it (kept for the preview and the audit trail, whatever its characters).
    Removes expired uploads first. The upload is written into a folder of its own under a
    temporary name, moved under its token only once the file and its note are complete: a full
    disk or a failed write leaves nothing behind (the error is raised)."""
    expire(root)
    token = secrets.token_hex(16)
    partial = root / f"{token}{_PARTIAL}"
    partial.mkdir(parents=True)
    suffix = Path(name).suffix.lower()
    file_name = "upload" + suffix if re.fullmatch(r"\.[0-9a-z]{1,8}", suffix) else "upload"
    try:
        save(partial / file_name)
        _write_note(Staged(token, kind, partial / file_name, name, dict(meta or {})))
        partial.rename(root / token)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Staged(token, kind, root / token / file_name, name, dict(meta or {}))


def find(root: Path, token: str, kind: str) -> Staged:
    """The staged upload of ``kind`` with ``token`` (LookupError, said for people, if there is none
    or it has expired); finding it counts as using it."""
    folder = root / token if _TOKEN.fullmatch(token or "") else None
    note = folder / _NOTE if folder is not None else None
    if note is None or not note.exists():
        raise LookupError("上传的文件已失效或不存在，请重新上传")
    data = json.loads(note.read_text("utf-8"))
    if data.get("kind") != kind:
        raise LookupError("上传的文件已失效或不存在，请重新上传")
    folder.touch()
    return Staged(token, kind, folder / data["file"], data.get("name", data["file"]), data.get("meta", {}))


def claim(staged: Staged) -> Staged:
    """Takes the upload for its commit, once: a second commit of the same upload (a double click,
    two managers) finds it taken (a Conflict). The claimed upload is ``discard``ed after the commit,
    or ``release``d if the commit is refused."""
    claimed = staged.folder.with_name(staged.folder.name + ".committing")
    try:
        staged.folder.rename(claimed)  # atomic: exactly one of two concurrent commits succeeds
    except FileNotFoundError:
        raise Conflict(entity="upload", field="token",
                       message="该文件已经提交过或正在由他人提交，本次未写入任何内容；请勿重复提交") from None
    return Staged(staged.token, staged.kind, claimed / staged.path.name, staged.name, staged.meta)


def release(staged: Staged) -> None:
    """Gives a claimed upload back (its commit was refused), so it can be corrected and committed."""
    folder = staged.folder
    if folder.name.endswith(".committing"):
        folder.rename(folder.with_name(folder.name[: -len(".committing")]))


@contextlib.contextmanager
def committing(staged: Staged) -> Iterator[Staged]:
    """The upload claimed for the duration of its commit: discarded when the block ends normally,
    given back if it raises (the commit was refused or failed)."""
    claimed = claim(staged)
    try:
        yield claimed
    except BaseException:
        release(claimed)
        raise
    discard(claimed)


def update(staged: Staged, meta: dict) -> None:
    """Replaces what the upload is for (new options chosen in the preview)."""
    staged.meta = dict(meta)
    _write_note(staged)


def discard(staged: Staged) -> None:
    """Removes a committed (or abandoned) upload."""
    shutil.rmtree(staged.folder, ignore_errors=True)


def expire(root: Path, max_age_s: float = EXPIRY_S) -> None:
    """Removes uploads neither staged nor used for ``max_age_s``."""
    if not root.exists():
        return
    now = time.time()
    for folder in root.iterdir():
        name = folder.name.removesuffix(".committing").removesuffix(_PARTIAL)
        if folder.is_dir() and _TOKEN.fullmatch(name) and now - folder.stat().st_mtime > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)


def _write_note(staged: Staged) -> None:
    """Writes the upload's note beside it, replacing the old one only once the new one is whole."""
    tmp = staged.folder / (_NOTE + ".tmp")
    try:
        tmp.write_text(json.dumps({"kind": staged.kind, "file": staged.path.name, "name": staged.name,
                                   "meta": staged.meta}, ensure_ascii=False), "utf-8")
        os.replace(tmp, staged.folder / _NOTE)
    finally:
        tmp.unlink(missing_ok=True)
