"""Signing in: hashed passwords, slowed-down guessing, CSRF on every form, no open redirects."""
import datetime as dt


from registry.core import signin
from registry.core.models import LoginThrottle

from .webhelpers import PASSWORD, login_as, post


def _login(client, username, password, next_=""):
    client.get("/login")  # a session with a CSRF token, as a browser gets it
    with client.session_transaction() as s:
        token = s.get("_csrf")
    return client.post("/login" + (f"?next={next_}" if next_ else ""),
                       data={"username": username, "password": password, "csrf_token": token})


def test_sign_in_and_out(client, world):
    resp = _login(client, "mgr_a", PASSWORD, next_="/parks/1")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/parks/1")
    page = client.get("/").get_data(as_text=True)
    assert "mgr_a" in page and "园区管理" in page
    with client.session_transaction() as s:
        token = s["_csrf"]
    client.post("/logout", data={"csrf_token": token})
    assert "mgr_a" not in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, world):
    for name in ("mgr_a", "nobody"):
        resp = _login(client, name, "wrong")
        assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)


def test_repeated_failures_slow_down_further_attempts_from_that_address(client, world, session):
    for _ in range(5):
        _login(client, "mgr_a", "wrong")
    resp = _login(client, "mgr_a", PASSWORD)  # even the right password waits now
    assert resp.status_code == 401 and "尝试次数过多" in resp.get_data(as_text=True)
    session.expire_all()
    row = session.get(LoginThrottle, "name:mgr_a@127.0.0.1")
    assert row.failures == 5 and row.locked_until is not None
    # The owner of the account, from their own desk, is not kept out.
    other = client.application.test_client()
    other.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.8"})
    with other.session_transaction() as s:
        token = s["_csrf"]
    resp = other.post("/login", data={"username": "mgr_a", "password": PASSWORD, "csrf_token": token},
                      environ_base={"REMOTE_ADDR": "10.0.0.8"})
    assert resp.status_code == 302


def test_the_wait_grows_and_has_a_ceiling():
    assert signin.delay_after(4, signin.PER_NAME) == dt.timedelta(0)
    assert signin.delay_after(5, signin.PER_NAME) == dt.timedelta(seconds=30)
    assert signin.delay_after(7, signin.PER_NAME) == dt.timedelta(minutes=2)
    assert signin.delay_after(20, signin.PER_NAME) == dt.timedelta(minutes=15)
    assert signin.delay_after(10**6, signin.PER_ADDRESS) == dt.timedelta(minutes=15)


def test_a_form_without_the_csrf_token_is_refused(client, world):
    login_as(client, world.admin)
    resp = client.post(f"/buildings/{world.building_a.id}/verify", data={})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    resp = client.post(f"/buildings/{world.building_a.id}/verify", data={"csrf_token": "forged"})
    assert resp.status_code == 400
    assert post(client, f"/buildings/{world.building_a.id}/verify").status_code == 302


def test_no_open_redirect_after_sign_in(client, world):
    resp = _login(client, "admin", PASSWORD, next_="//evil.example/")
    assert resp.headers["Location"] == "/"


def test_management_pages_need_a_signed_in_user(client, world):
    resp = client.get(f"/parks/{world.park_a.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_session_cookie_is_http_only(client, world):
    cookie = _login(client, "admin", PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_behind_https(db_url, world, monkeypatch):
    from web import create_app
    monkeypatch.setenv("REGISTRY_SECURE_COOKIES", "1")
    client = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k"}).test_client()
    assert "Secure" in _login(client, "admin", PASSWORD).headers["Set-Cookie"]
