"""Users and their passwords (scrypt from the standard library; the registry never imports Flask)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .enums import Role
from .models import get_by_id, Park, User, UserParkScope
from .validation import Problem, ValidationError
from . import clock

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


def create_user(session: Session, username: str, password: str, role: Role | str,
                park_ids: list[int] = (), display_name: str | None = None) -> User:
    """A new active user; park managers must be given at least one park (by id) to write to."""
    problems = []
    username = username.strip()
    if not username or len(username) > 64:
        problems.append(Problem("User.username", f"{username!r} is empty or too long", "1–64 characters"))
    elif session.scalar(select(User.id).where(User.username == username)):
        problems.append(Problem("User.username", f"{username!r} is taken", "a new user name"))
    if len(password) < 8:
        problems.append(Problem("User.password", "is shorter than 8 characters", "at least 8 characters"))
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


class LoginRefused(Exception):
    """Wrong name or password, or too many recent failures. ``retry_at`` is set when locked."""

    def __init__(self, message: str, retry_at: dt.datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


FREE_ATTEMPTS = 5  # failures before each further attempt has to wait
MAX_LOCK = dt.timedelta(minutes=15)
_DUMMY_HASH = hash_password("timing-equaliser")


def lock_delay(failures: int) -> dt.timedelta:
    """How long to wait after ``failures`` consecutive failures: 30 s doubling, at most 15 minutes."""
    if failures < FREE_ATTEMPTS:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=30 * 2 ** (failures - FREE_ATTEMPTS)), MAX_LOCK)


def authenticate(session: Session, username: str, password: str, now: dt.datetime | None = None) -> User:
    """The active user with this name and password; raises LoginRefused otherwise.

    Failed attempts are counted per user and slow further attempts down (see ``lock_delay``). The
    session must be committed by the caller so that the count persists even on failure.
    """
    now = now or clock.now()
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)  # same time as a real check: names cannot be probed
        raise LoginRefused("用户名或密码错误")
    locked = user.locked_until
    if locked is not None and locked.tzinfo is None:
        locked = locked.replace(tzinfo=dt.timezone.utc)  # SQLite returns naive datetimes
    if locked is not None and locked > now:
        raise LoginRefused("尝试次数过多，请稍后再试", retry_at=locked)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        delay = lock_delay(user.failed_logins)
        user.locked_until = now + delay if delay else None
        raise LoginRefused("用户名或密码错误", retry_at=user.locked_until)
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
    return user


def active_user(session: Session, user_id) -> User | None:
    """The signed-in user of a session cookie's id: the user, if they exist and are active."""
    user = get_by_id(session, User, user_id)
    return user if user is not None and user.active else None


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


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
    if active:
        user.failed_logins, user.locked_until = 0, None
    session.flush()
    return user
