"""Roles, permissions and region scope: who may see and change which case.

A user works in one or more divisions; a division covers all its descendants
(``routing.understanding.places``). Grid workers and mediators see the cases assigned to them and the
unassigned cases of their region; supervisors see every case of their region.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, not_, or_

from routing.persistence.case_tables import Case
from routing.understanding.places import DivisionIndex, load_divisions

ROLE_LABELS: dict[str, str] = {
    "grid_worker": "网格员",
    "mediator": "调解员",
    "director": "调委会主任",
    "reception": "接访办",
    "centre": "社会治理中心",
    "admin": "管理员",
}
# Permissions: view_region (every case of the region, not only own + unassigned), claim,
# work (notes, contacts, mediation, outcome), assign, transfer, escalate, reveal_pii,
# read_audit, reception (manage reception days), takeover, manage_users.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "grid_worker": frozenset({"claim", "work", "transfer", "escalate", "takeover"}),
    "mediator": frozenset({"claim", "work", "transfer", "escalate", "takeover", "reveal_pii"}),
    "director": frozenset(
        {"view_region", "claim", "work", "assign", "transfer", "escalate", "takeover", "reveal_pii",
         "read_audit"}
    ),
    "reception": frozenset({"view_region", "work", "reception", "reveal_pii", "takeover"}),
    # The centre watches and supervises; it does not work cases (issue 12: read-only on cases).
    # Its own actions (alert loop, 挂牌督办) are gated by role on /console/centre, not here.
    "centre": frozenset({"view_region", "reveal_pii", "read_audit"}),
    "admin": frozenset({"view_region", "read_audit", "manage_users"}),
}
TOTP_ROLES: frozenset[str] = frozenset({"director", "centre", "admin"})
PERMISSION_NAMES: frozenset[str] = frozenset().union(*ROLE_PERMISSIONS.values())


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the access rules see them.

    Attributes:
        user_id: database id.
        username: login name.
        display_name: name shown in the console.
        role: one of :data:`ROLE_LABELS`.
        person_id: the id cases carry in ``assigned_person_id``.
        regions: division codes the user works in.
        extra_permissions: permissions granted on top of the role's.
    """

    user_id: int
    username: str
    display_name: str
    role: str
    person_id: str
    regions: tuple[str, ...]
    extra_permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[str]:
        """The role's permissions plus any granted to the user."""
        return ROLE_PERMISSIONS.get(self.role, frozenset()) | self.extra_permissions

    def can(self, permission: str) -> bool:
        """Tell whether the user holds ``permission``."""
        return permission in self.permissions

    @property
    def role_label(self) -> str:
        """The role's Chinese name."""
        return ROLE_LABELS.get(self.role, self.role)


def covered_codes(regions: Iterable[str], index: DivisionIndex | None = None) -> frozenset[str]:
    """Return every division code the regions cover (themselves and all descendants).

    Args:
        regions: division codes a user works in.
        index: the division tree (default: the bundled one).
    """
    index = index or load_divisions()
    out: set[str] = set()
    stack = [code for code in regions if code]
    while stack:
        code = stack.pop()
        if code in out:
            continue
        out.add(code)
        stack.extend(child.code for child in index.children(code))
    return frozenset(out)


def region_clause(principal: Principal, index: DivisionIndex | None = None) -> ColumnElement[bool]:
    """SQL condition: the case lies in the principal's region.

    A case's place is its ``location_code``, or its ``county_code`` when only the county is known.
    A user whose regions include the province root also sees cases with no place at all.
    """
    index = index or load_divisions()
    codes = covered_codes(principal.regions, index)
    if not codes:
        return false()
    ordered = sorted(codes)
    clause = or_(Case.location_code.in_(ordered), and_(Case.location_code.is_(None), Case.county_code.in_(ordered)))
    roots = {d.code for d in index.all() if not d.parent_code}
    if roots & set(principal.regions):
        clause = or_(clause, and_(Case.location_code.is_(None), Case.county_code.is_(None)))
    return clause


def visibility_clause(principal: Principal, index: DivisionIndex | None = None) -> ColumnElement[bool]:
    """SQL condition: the principal may open the case.

    Supervisors (``view_region``) see every case of their region; others see the cases assigned
    to them, and unassigned, non-confidential cases of their region. Nobody sees a case that
    names them in ``hidden_from`` (a complaint about them) — that check runs in Python, see
    :func:`may_view`.
    """
    region = region_clause(principal, index)
    mine = Case.assigned_person_id == principal.person_id
    if principal.can("view_region"):
        return or_(mine, region)
    unassigned = and_(Case.assigned_person_id.is_(None), not_(Case.confidential), region)
    return or_(mine, unassigned)


def may_view(principal: Principal, case: Case, index: DivisionIndex | None = None) -> bool:
    """Tell whether the principal may open this (already loaded) case.

    Mirrors :func:`visibility_clause` and also refuses users the case is hidden from.
    """
    if principal.person_id in (case.hidden_from or []):
        return False
    if case.assigned_person_id == principal.person_id:
        return True
    codes = covered_codes(principal.regions, index)
    place = case.location_code or case.county_code
    in_region = place in codes if place else bool(
        {d.code for d in (index or load_divisions()).all() if not d.parent_code} & set(principal.regions)
    )
    if principal.can("view_region"):
        return in_region
    return case.assigned_person_id is None and not case.confidential and in_region


def may_work(principal: Principal, case: Case) -> bool:
    """Tell whether the principal may change the case (it must also be visible).

    Workers change only the cases assigned to them; supervisors with ``work`` change any case
    of their region.
    """
    if not principal.can("work"):
        return False
    if case.assigned_person_id == principal.person_id:
        return True
    return principal.can("view_region")


def may_reveal(principal: Principal, case: Case) -> bool:
    """Tell whether the principal may see the case's ID and phone numbers unmasked."""
    return principal.can("reveal_pii") and (
        case.assigned_person_id == principal.person_id or principal.can("view_region")
    )
