"""Users and their passwords (scrypt from the standard library; the registry never imports Flask)."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .enums import Role
from .models import get_by_id, Park, User, UserParkScope
from .validation import Problem, ValidationError

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, base64.b64encode(salt).decode(), base64.b64encode(digest).decode())


def verify_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         dklen=len(base64.b64decode(digest)))
    return hmac.compare_digest(got, base64.b64decode(digest))


MIN_PASSWORD = 12   # OWASP ASVS 4.0.3 V2.1.1: at least 12 characters
MAX_PASSWORD = 128  # V2.1.2: at least 64 allowed; longer only costs the hash's time
COMMON_PASSWORDS = Path(__file__).resolve().parents[1] / "data" / "common_passwords.txt"


@functools.cache
def _common_passwords() -> frozenset[str]:
    """Passwords that guessing tries first (registry/data/README.md names the lists), casefolded."""
    return frozenset(line.strip().casefold() for line in COMMON_PASSWORDS.read_text("utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))


def _is_common(folded: str) -> bool:
    """On the list, or a listed word with only digits and punctuation around it (password1234,
    2026qwerty!): guessing tries those next."""
    core = folded.strip("0123456789!@#$%^&*()_+-=.,;:'\"?/|~` ")
    return folded in _common_passwords() or (len(core) >= 4 and core in _common_passwords())


def password_problems(password: str, username: str = "", display_name: str | None = None) -> list[Problem]:
    """Why ``password`` may not be used, in words a user can act on (empty when it may): the
    length rules of ASVS V2.1.1/V2.1.2, not a common password (V2.1.7), not the user's name
    (GB/T 22239-2019 level 2 asks for 口令复杂度; ASVS asks for no composition rules beyond these)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(Problem("User.password", f"密码只有 {len(password)} 个字符", f"至少 {MIN_PASSWORD} 个字符"))
    elif len(password) > MAX_PASSWORD:
        problems.append(Problem("User.password", f"密码有 {len(password)} 个字符", f"不超过 {MAX_PASSWORD} 个字符"))
    folded = password.casefold()
    if _is_common(folded) or len(set(folded)) <= 2:
        problems.append(Problem("User.password", "是常见或极易猜到的密码", "不在常见密码表中的密码，例如几个不相关的词"))
    names = [n.strip().casefold() for n in (username, display_name or "") if n and len(n.strip()) >= 3]
    if any(n in folded for n in names):
        problems.append(Problem("User.password", "包含用户名或姓名", "不含用户名和姓名的密码"))
    return problems


def create_user(session: Session, username: str, password: str, role: Role | str,
                park_ids: list[int] = (), display_name: str | None = None) -> User:
    """A new active user; park managers must be given at least one park (by id) to write to."""
    problems = []
    username = username.strip()
    if not username or len(username) > 64:
        problems.append(Problem("User.username", f"{username!r} is empty or too long", "1–64 characters"))
    elif session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        # Names differing only in case are one name to people (and to sign-in limits).
        problems.append(Problem("User.username", f"{username!r} is taken", "a new user name"))
    problems += password_problems(password, username, display_name)
    try:
        role = Role.from_any(role) if not isinstance(role, Role) else role
    except ValueError as exc:
        problems.append(Problem("User.role", str(exc)))
        role = None
    parks = []
    for pid in park_ids:
        park = get_by_id(session, Park, pid)
        if park is None:
            problems.append(Problem("User.parks", f"no park #{pid}", "an existing park"))
        else:
            parks.append(park)
    if role == Role.PARK_MANAGER and not park_ids:
        problems.append(Problem("User.parks", "a park manager needs at least one park", "--park NAME"))
    if problems:
        raise ValidationError(problems)
    user = User(username=username, display_name=display_name, password_hash=hash_password(password), role=role,
                park_scopes=[UserParkScope(park_id=p.id) for p in parks])
    session.add(user)
    session.flush()
    return user


DUMMY_HASH = hash_password("timing-equaliser")  # checked for unknown names: the same work as a real check


def active_user(session: Session, user_id, generation=0) -> User | None:
    """The signed-in user of a session cookie: the user with its id, if they exist, are active, and
    the cookie was issued in their current session generation (not before a sign-out)."""
    user = get_by_id(session, User, user_id)
    if user is None or not user.active or generation != user.session_generation:
        return None
    return user


def active_user_named(session: Session, username: str) -> User | None:
    """The active user with this name (as typed, surrounding spaces ignored), or None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    return user if user is not None and user.active else None


def end_sessions(session: Session, user: User) -> None:
    """Ends every session of ``user``: cookies issued until now stop working (a sign-out, a new
    password, a change of access)."""
    user.session_generation = (user.session_generation or 0) + 1
    session.flush()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, actor: User | None, user_id: int, new: str, current: str | None = None) -> User:
    """Sets a user's password and ends every session of theirs: a user changes their own with
    their current password; an administrator (or the server's operator at the command line,
    ``actor`` None) sets anyone's. The new password must pass ``password_problems``."""
    user = get_by_id(session, User, user_id)
    if user is None:
        raise LookupError(f"没有编号为 {user_id} 的用户")
    if actor is not None and actor.id == user.id:
        if current is None or not verify_password(user.password_hash, current):
            raise ValidationError(Problem("User.current_password", "当前密码不正确", "您现在用于登录的密码"))
    elif actor is not None:
        from .authz import require_admin
        require_admin(actor)
    problems = password_problems(new, user.username, user.display_name)
    if problems:
        raise ValidationError(problems)
    user.password_hash = hash_password(new)
    end_sessions(session, user)
    return user


def set_active(session: Session, admin: User, user_id: int, active: bool) -> User:
    """Deactivates (or reactivates) a user; an administrator cannot lock themselves out."""
    from .authz import require_admin
    require_admin(admin)
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user #{user_id}")
    if user.id == admin.id and not active:
        raise ValidationError(Problem("User.active", "you cannot deactivate yourself", "another administrator's account"))
    user.active = active
    end_sessions(session, user)
    if active:
        from .signin import forget_name
        forget_name(session, user.username)
    session.flush()
    return user
