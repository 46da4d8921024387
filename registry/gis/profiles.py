"""Saved import profiles: a name for a field mapping and the reading options that go with it
(encoding, CRS, datum, park, CAD layers), so next year's file from the same bureau loads the same way."""
from __future__ import annotations


from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core import validation as v
from ..core.authz import require_admin
from ..core.models import ImportProfile, User
from .importer import Options
from ..core import clock
from ..core.validation import Problem, ValidationError

# Per-run choices, not part of how a kind of file is read.
_NOT_SAVED = ("skip_rejected",)


def save(session: Session, user: User | None, name: str, options: Options) -> ImportProfile:
    """Creates or replaces the profile ``name`` (administrators, or the command line as None)."""
    if user is not None:
        require_admin(user)
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise v.ValidationError(v.Problem("profile", f"{name!r} is not a usable name", "1–64 characters"))
    data = {k: val for k, val in options.as_dict().items() if k not in _NOT_SAVED}
    profile = session.scalar(select(ImportProfile).where(ImportProfile.name == name)) or ImportProfile(name=name)
    profile.target = options.target
    profile.options = data
    profile.updated_by = user.username if user is not None else session.info.get("actor", "system")
    profile.updated_at = clock.now()
    session.add(profile)
    session.flush()
    return profile


def load(session: Session, name: str, **overrides) -> Options:
    """The options saved as ``name``, with ``overrides`` (those not None) applied on top."""
    profile = session.scalar(select(ImportProfile).where(ImportProfile.name == name))
    if profile is None:
        known = ", ".join(session.scalars(select(ImportProfile.name).order_by(ImportProfile.name))) or "none yet"
        raise ValidationError(Problem("profile", f"no import profile {name!r}; saved profiles: {known}",
                                      "the name of a saved profile"))
    data = dict(profile.options)
    data.update({k: val for k, val in overrides.items() if val not in (None, {}, [])})
    return Options.from_dict(data)


def names(session: Session) -> list[tuple[str, str]]:
    """(name, target) of every saved profile, by name."""
    return [(n, t) for n, t in session.execute(select(ImportProfile.name, ImportProfile.target)
                                               .order_by(ImportProfile.name))]
