"""Pages as a person sees them, in headless Chromium."""
import pytest

from .conftest import TODAY

pytestmark = pytest.mark.browser


def test_home_page_shows_the_parks_offline(page):
    page.goto(f"{page.base_url}/?as_of={TODAY}", wait_until="networkidle")
    rows = page.locator("tr.park")
    assert rows.count() == 3
    ankang = page.locator("tr.park", has_text="安康高新技术产业开发区")
    assert "67 栋 64.24 万㎡" in ankang.inner_text()
    assert page.locator("tr.total").count() == 1
    assert page.external_requests == []


def test_the_date_picker_recomputes_the_figures(page):
    page.goto(f"{page.base_url}/?as_of={TODAY}")
    today_rate = page.locator("tr.total td.rate").inner_text()
    page.fill("input[name=as_of]", "2019-01-01")
    page.click("button[type=submit]")
    page.wait_for_url("**as_of=2019-01-01**")
    assert page.locator("tr.total td.rate").inner_text() != today_rate
