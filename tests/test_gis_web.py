"""The upload page for administrators: upload, preview with samples and counts, adjust the mapping,
commit all or nothing."""
from __future__ import annotations

import re
import zipfile

import pytest
from sqlalchemy import func, select

from registry.core.models import Building, ImportProfile

from .test_gis_import import NAMES, bowtie, footprints, frame
from .webhelpers import login_as, post


def gbk_zip(tmp_path, geoms=None):
    shp = tmp_path / "楼栋.shp"
    frame(geoms or footprints()).to_file(shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    out = tmp_path / "楼栋.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for part in tmp_path.glob("楼栋.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    return out


def upload(client, path, **form):
    data = {"target": "buildings", **form}
    with open(path, "rb") as fh:
        return post(client, "/import", {**data, "file": (fh, path.name)}, content_type="multipart/form-data")


def test_only_administrators_import(client, world):
    assert client.get("/import").status_code == 302  # to the login page
    for user in (world.viewer, world.manager_a, world.investment):
        login_as(client, user)
        assert client.get("/import").status_code == 403
    login_as(client, world.admin)
    page = client.get("/import").get_data(as_text=True)
    assert "GIS 数据导入" in page and world.park_a.name in page


def test_upload_preview_adjust_and_commit(client, world, session, tmp_path):
    login_as(client, world.admin)
    resp = upload(client, gbk_zip(tmp_path), park=world.park_a.name)
    assert resp.status_code == 303
    preview_url = resp.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "GBK" in page and " | ".join(NAMES[:3]) in page  # decoded names shown before committing
    assert re.search(r"新增 <b>4</b>", page) and session.scalar(select(func.count(Building.id))) == 2
    token = preview_url.rsplit("/", 1)[1]
    # Map the name to a constant instead, then commit and save the profile.
    resp = post(client, f"/import/{token}/options", {"target": "buildings", "park": world.park_a.name,
                                                      "map.code": "JZBH", "map.gfa_m2": "JZMJ",
                                                      "const.type": "factory", "const.status": "completed",
                                                      "close_tolerance_m": "0.5"})
    assert resp.status_code == 303
    assert "新增 <b>4</b>" in client.get(preview_url).get_data(as_text=True)
    done = post(client, f"/import/{token}/commit", {"save_profile": "规划局楼栋"})
    assert done.status_code == 303
    session.expire_all()  # look again: what the app committed since
    types = set(session.scalars(select(Building.type).where(Building.code.like("A-%"))))
    assert {t.value for t in types} == {"factory"}
    assert session.scalar(select(ImportProfile.target).where(ImportProfile.name == "规划局楼栋")) == "buildings"
    assert "导入完成：新增 4" in client.get("/import").get_data(as_text=True)


def test_a_rejected_feature_blocks_the_commit_unless_skipped(client, world, session, tmp_path):
    login_as(client, world.admin)
    url = upload(client, gbk_zip(tmp_path, footprints(2) + [bowtie()]), park=world.park_a.name).headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "自相交，位于" in page and "拒绝 <b>1</b>" in page
    token = url.rsplit("/", 1)[1]
    refused = post(client, f"/import/{token}/commit", {})
    assert refused.status_code == 400 and "1 个要素被拒绝" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count(Building.id))) == 2
    assert post(client, f"/import/{token}/commit", {"skip_rejected": "1"}).status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count(Building.id))) == 4


def test_uploads_from_the_page_script_get_json(client, world, tmp_path):
    login_as(client, world.admin)
    path = gbk_zip(tmp_path)
    with open(path, "rb") as fh:
        resp = post(client, "/import", {"target": "buildings", "park": world.park_a.name, "file": (fh, path.name)},
                    content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert resp.status_code == 200 and resp.get_json()["preview"].startswith("/import/")
    (tmp_path / "notes.txt").write_text("hello")
    with open(tmp_path / "notes.txt", "rb") as fh:
        bad = post(client, "/import", {"target": "buildings", "file": (fh, "notes.txt")},
                   content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "无法识别的格式" in bad.get_json()["errors"][0]["message"]
    assert client.get("/import/not-a-token").status_code == 404


@pytest.mark.browser
def test_the_upload_shows_progress_and_opens_the_preview(app_page, session, tmp_path):
    from .test_browser import sign_in
    from .webhelpers import build_world
    w = build_world(session)
    page = sign_in(app_page, "admin")
    page.goto(f"{page.base_url}/import")
    posts = []
    page.on("request", lambda r: posts.append(r.headers.get("accept")) if r.method == "POST" else None)
    page.set_input_files("input[name=file]", str(gbk_zip(tmp_path)))
    page.select_option("select[name=park]", w.park_a.name)
    page.click("#gis-upload button[type=submit]")
    page.wait_for_url(re.compile(r"/import/[0-9a-f]{32}$"))
    assert posts == ["application/json"]  # sent by the page's script, which shows the progress bar
    assert page.locator("#counts").inner_text().startswith("新增 4")
    assert NAMES[0] in page.locator("#samples").inner_text()


def test_previews_never_committed_are_forgotten_after_a_day(client, world, app, tmp_path):
    import os
    import time
    from pathlib import Path
    login_as(client, world.admin)
    root = Path(app.instance_path) / "uploads"  # the one staging area of every kind of upload
    before = set(root.iterdir()) if root.exists() else set()
    first = upload(client, gbk_zip(tmp_path), park=world.park_a.name).headers["Location"].rsplit("/", 1)[1]
    assert {p.name for p in set(root.iterdir()) - before} == {first}
    day_ago = time.time() - 25 * 3600
    os.utime(root / first, (day_ago, day_ago))
    second = upload(client, gbk_zip(tmp_path), park=world.park_a.name).headers["Location"].rsplit("/", 1)[1]
    names = {p.name for p in root.iterdir()}
    assert first not in names and second in names
