"""The ``registry`` command as a user types it."""
import json

import pytest

from .conftest import TODAY


@pytest.mark.parametrize("args", [[], ["db"], ["db", "upgrade"], ["demo"], ["summary"], ["user", "create"], ["serve"]])
def test_every_command_has_help(runner, args):
    result = runner(*args, "--help")
    assert result.exit_code == 0 and "Usage: registry" in result.output


def test_upgrade_demo_and_summary(runner):
    assert runner("db", "upgrade").exit_code == 0
    result = runner("demo", "--today", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    assert "loaded 7 jurisdictions, 3 parks" in result.output
    text = runner("summary", "--as-of", TODAY.isoformat(), "--park", "安康高新技术产业开发区")
    assert "已建成厂房及配套用房 67 栋 64.24 万㎡" in text.output
    data = json.loads(runner("summary", "--as-of", TODAY.isoformat(), "--format", "json").output)
    assert [d["park"] for d in data][-1] is None and len(data) == 4
    assert data[-1]["built"]["count"] == sum(d["built"]["count"] for d in data[:-1])


def test_demo_refuses_a_database_that_holds_data_unless_asked_to_skip(runner):
    runner("demo", "--today", TODAY.isoformat())
    again = runner("demo")
    assert again.exit_code != 0 and "already holds parks" in again.output
    skip = runner("demo", "--if-empty")
    assert skip.exit_code == 0 and "not loaded" in skip.output


def test_unknown_park_and_bad_date_are_explained(runner):
    assert "没有名为 '无此园区' 的园区" in runner("summary", "--park", "无此园区").output
    bad = runner("summary", "--as-of", "2026-13-01")
    assert bad.exit_code == 2 and "日期 YYYY-MM-DD" in bad.output


def test_user_create(runner, session):
    from registry.core.models import User
    from registry.core.users import verify_password
    runner("demo", "--today", TODAY.isoformat())
    ok = runner("user", "create", "--username", "wang", "--role", "park_manager", "--park", "冷水滩区创业园",
                "--password-stdin", input="s3cret-pass-word\n")
    assert ok.exit_code == 0 and "created user wang (园区管理)" in ok.output
    u = session.query(User).filter_by(username="wang").one()
    assert verify_password(u.password_hash, "s3cret-pass-word") and not verify_password(u.password_hash, "wrong")
    assert "s3cret" not in u.password_hash and len(u.park_scopes) == 1
    dup = runner("user", "create", "--username", "wang", "--role", "viewer", "--password-stdin", input="another-pass-word\n")
    assert dup.exit_code == 1 and "'wang' is taken" in dup.output
    noscope = runner("user", "create", "--username", "li", "--role", "park_manager", "--password-stdin", input="long-enough-pass\n")
    assert "a park manager needs at least one park" in noscope.output
