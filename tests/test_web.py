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


def test_the_english_catalog_translates_every_string_the_pages_and_views_use():
    """What Babel extracts as babel.cfg says (the _() of templates and views, the N_() words the
    registry hands to people) all has an English translation in web/translations/en (none
    missing, none fuzzy)."""
    from pathlib import Path

    from babel.messages.extract import extract_from_dir

    from web.i18n import catalog
    root = Path(__file__).resolve().parent.parent
    found = {m for _f, _l, m, _c, _x in extract_from_dir(
        str(root), method_map=[("registry/**.py", "python"), ("web/**.py", "python"),
                               ("web/templates/**.html", "jinja2")],
        keywords={"_": None, "gettext": None, "N_": None}) if isinstance(m, str) and m}
    assert len(found) > 400 and "空置厂房地图" in found  # templates and views are both read
    assert sorted(found - set(catalog("en"))) == []