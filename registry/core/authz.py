"""Who may do what. Checked on the server for every write, whatever the page showed.

- admin: everything;
- park manager (园区管理): writes occupancy and assets only in the parks in their scope;
- investment staff (招商人员): reads everything, uses the map and exports, writes nothing about occupancy;
- viewer (只读): reads;
- industry bureau (经信部门): runs the 亩均 evaluation and reads everything.

Evaluation results (scores before publication) are for the bureau, investment staff and admins.
"""
from __future__ import annotations

from .enums import Role
from .models import User


class Forbidden(PermissionError):
    """The user may not do this. The message says what was refused."""


def can_write_park(user: User | None, park_id: int) -> bool:
    if user is None or not user.active:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.PARK_MANAGER:
        return any(s.park_id == park_id for s in user.park_scopes)
    return False


def require_write_park(user: User | None, park_id: int) -> None:
    if not can_write_park(user, park_id):
        who = user.username if user else "anonymous"
        raise Forbidden(f"{who} may not change park #{park_id}")


def require_admin(user: User | None) -> None:
    if user is None or not user.active or user.role != Role.ADMIN:
        raise Forbidden("only an administrator may do this")


def can_read_private(user: User | None) -> bool:
    """Tenant names, rents and contacts: any signed-in, active user."""
    return user is not None and user.active


EVALUATION_READERS = (Role.ADMIN, Role.BUREAU, Role.INVESTMENT)
EVALUATION_RUNNERS = (Role.ADMIN, Role.BUREAU)


def can_read_evaluation(user: User | None) -> bool:
    return user is not None and user.active and user.role in EVALUATION_READERS


def require_read_evaluation(user: User | None) -> None:
    if not can_read_evaluation(user):
        raise Forbidden("only the industry bureau, investment staff and administrators see evaluation results")


def can_run_evaluation(user: User | None) -> bool:
    return user is not None and user.active and user.role in EVALUATION_RUNNERS


def require_run_evaluation(user: User | None) -> None:
    if not can_run_evaluation(user):
        raise Forbidden("only the industry bureau and administrators run evaluations")
