"""Who may do what and see what. Checked on the server for every read and write, whatever the page
showed.

- admin: everything;
- park manager (园区管理): writes occupancy and assets only in the parks in their scope;
- investment staff (招商人员): use the map and exports, write nothing about occupancy;
- viewer (只读): reads;
- industry bureau (经信部门): runs the 亩均 evaluation and reads everything.

Privacy by park: a park's private data (tenants, their credit codes and contacts, lease rents,
reservations, plot holders and prices, the record history) is read by administrators and the
bureau in every park, and by the other roles only in the parks of their scope (``User.park_scopes``);
every other park they see at the public level, as an anonymous investor does. Evaluation results
(classes and ranks before publication) are for the bureau and administrators, and for investment
staff in the parks of their scope; never for viewers or park managers.
"""
from __future__ import annotations

from dataclasses import dataclass

from .enums import Role
from .words import N_
from .models import User

# Who reads every park's private data and evaluation results.
EVERY_PARK = (Role.ADMIN, Role.BUREAU)


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
        raise Forbidden(N_("只有该园区的园区管理人员和系统管理员可以修改此园区的记录"))


def require_admin(user: User | None) -> None:
    if user is None or not user.active or user.role != Role.ADMIN:
        raise Forbidden(N_("只有系统管理员可以执行此操作"))


@dataclass(frozen=True)
class Audience:  # 可见范围
    """What one reader may see: the parks whose private data they read (None: every park; empty:
    none, the public level) and the parks whose evaluation results they read (likewise)."""

    private_parks: frozenset[int] | None
    evaluation_parks: frozenset[int] | None

    def private(self, park_id: int | None) -> bool:
        """Whether the reader sees the park's private data."""
        return self.private_parks is None or park_id in self.private_parks

    def evaluation(self, park_id: int | None) -> bool:
        """Whether the reader sees evaluation results of the park's enterprises."""
        return self.evaluation_parks is None or park_id in self.evaluation_parks

    @property
    def public(self) -> bool:
        """Sees no park's private data (anonymous, or signed in without any park)."""
        return self.private_parks is not None and not self.private_parks

    @property
    def every_park(self) -> bool:
        return self.private_parks is None


PUBLIC = Audience(frozenset(), frozenset())
EVERYTHING = Audience(None, None)


def audience(user: User | None) -> Audience:
    """What ``user`` may see (see the module's description)."""
    if user is None or not user.active:
        return PUBLIC
    if user.role in EVERY_PARK:
        return EVERYTHING
    parks = frozenset(s.park_id for s in user.park_scopes)
    return Audience(parks, parks if user.role == Role.INVESTMENT else frozenset())


def require_private(user: User | None, park_id: int | None) -> None:
    """Refuses a page that is all private data (a rent roll, the Excel ledger, the data-quality list)
    to a reader who sees the park only at the public level."""
    if not audience(user).private(park_id):
        if park_id is None:
            raise Forbidden(N_("不属于单个园区的记录（企业、用户等）的修改记录仅对管理员和经信部门开放"))
        raise Forbidden(N_("该园区的租户、租金等信息仅对该园区的授权用户开放"))


EVALUATION_READERS = (Role.ADMIN, Role.BUREAU, Role.INVESTMENT)
EVALUATION_RUNNERS = (Role.ADMIN, Role.BUREAU)


def can_read_evaluation(user: User | None) -> bool:
    return user is not None and user.active and user.role in EVALUATION_READERS


def require_read_evaluation(user: User | None) -> None:
    if not can_read_evaluation(user):
        raise Forbidden(N_("亩均评价结果仅对经信部门、招商人员和系统管理员开放"))


def can_run_evaluation(user: User | None) -> bool:
    return user is not None and user.active and user.role in EVALUATION_RUNNERS


def require_run_evaluation(user: User | None) -> None:
    if not can_run_evaluation(user):
        raise Forbidden(N_("只有经信部门和系统管理员可以发起亩均评价"))


# The product's sections, in the order the menu lists them.
SECTIONS = ("overview", "map", "parks", "evaluation", "landcalc", "gis", "activity", "users")


def sections(user: User | None) -> tuple[str, ...]:
    """The sections of the product ``user`` may open: everyone the overview and the vacancy map;
    signed-in users their parks, the land calculator and GIS import/export; evaluation readers the
    亩均 evaluation; readers of a park's private data its 操作记录; administrators the users."""
    if user is None or not user.active:
        return ("overview", "map")
    allowed = {"overview", "map", "parks", "landcalc", "gis"}
    if can_read_evaluation(user):
        allowed.add("evaluation")
    if not audience(user).public:
        allowed.add("activity")
    if user.role == Role.ADMIN:
        allowed.add("users")
    return tuple(s for s in SECTIONS if s in allowed)
