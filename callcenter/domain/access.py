"""Who may see and change what: operators their own work, leads their team's, admins everything.

``Principal`` is the authenticated person; the rules are plain functions over plain values so that the SQL
filter (``TicketService.list``) and the single-ticket guard agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("operator", "lead", "admin")


class PermissionDeniedError(Exception):
    """The principal is authenticated but this is not theirs to see or change."""


@dataclass(frozen=True)
class Principal:
    """An authenticated operator, lead or admin (``queues``: the queues they serve, e.g. level2)."""

    username: str
    role: str
    team: str = ""
    queues: tuple[str, ...] = ()
    name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


SYSTEM = Principal(username="system", role="admin", team="", queues=())
"""The journal projection and scheduled jobs act as this principal."""


@dataclass(frozen=True)
class TicketScope:
    """What a ticket exposes to the access rules."""

    operator: str
    operators: tuple[str, ...]
    assigned_group: str
    status: str


def can_work_on(who: Principal, ticket: TicketScope, team_members: frozenset[str] = frozenset()) -> bool:
    """Admins: every ticket. Everyone: tickets they handle or handled, and escalated tickets of a queue they
    serve (second level's pool). Leads: also every ticket an operator of their team handles."""
    if who.is_admin:
        return True
    if who.username == ticket.operator or who.username in ticket.operators:
        return True
    if ticket.status == "escalated" and ticket.assigned_group in who.queues:
        return True
    return who.is_lead and (ticket.operator in team_members or bool(team_members & set(ticket.operators)))


def require(allowed: bool, what: str) -> None:
    """Raise PermissionDeniedError naming what was refused."""
    if not allowed:
        raise PermissionDeniedError(what)


def require_role(who: Principal, *roles: str) -> None:
    """Raise PermissionDeniedError unless the principal has one of ``roles``."""
    if who.role not in roles:
        raise PermissionDeniedError(f"{who.role} may not do this (needs {' or '.join(roles)})")
