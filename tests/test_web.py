"""The home page lists the parks with their summary figures."""
from .conftest import TODAY


def test_home_page_lists_parks_with_figures(demo_app):
    page = demo_app.test_client().get(f"/?as_of={TODAY}").get_data(as_text=True)
    for name in ("安康高新技术产业开发区", "汉阴县月河工业集中区", "冷水滩区创业园"):
        assert name in page
    assert "67 栋 64.24 万㎡" in page and "59 栋 52.01 万㎡" in page and "合计" in page
    assert "国家级" in page and "汉滨区" in page
    assert '<html lang="zh-CN">' in page


def test_chinese_is_the_default_whatever_the_browser_locale(demo_app):
    page = demo_app.test_client().get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "园区概览" in page


def test_english_is_available(demo_app):
    client = demo_app.test_client()
    page = client.get(f"/?as_of={TODAY}&lang=en").get_data(as_text=True)
    assert "Parks overview" in page and '<html lang="en">' in page
    assert "Parks overview" in client.get(f"/?as_of={TODAY}").get_data(as_text=True)  # remembered in a cookie


def test_an_empty_registry_says_how_to_load_the_demo(client):
    assert "registry demo" in client.get("/").get_data(as_text=True)


def test_a_bad_date_is_a_clear_400(client):
    resp = client.get("/?as_of=tomorrow")
    assert resp.status_code == 400 and "YYYY-MM-DD" in resp.get_data(as_text=True)


def test_every_ui_string_has_an_english_translation():
    import re
    from pathlib import Path

    from web.i18n import MESSAGES_EN
    templates = Path(__file__).resolve().parent.parent / "web" / "templates"
    strings = {m for t in templates.glob("*.html") for m in re.findall(r'_\("([^"]*)"\)', t.read_text(encoding="utf-8"))}
    assert sorted(strings - set(MESSAGES_EN)) == []
