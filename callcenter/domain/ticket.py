"""Ticket lifecycle: statuses, the transition table, reopen and auto-close rules, and the named errors.

``new`` (a call created it) -> ``open`` (someone works on it) -> ``escalated`` (second level) -> ``resolved``
-> ``closed``. Second level sends a ticket back to ``open``; a resolved ticket reopens when the caller comes
back or someone reopens it; a closed ticket reopens only within ``REOPEN_WINDOW_DAYS`` of closing (after that
the caller's new call makes a new ticket). ``escalated`` stays true on a ticket once set, which is what the
"resolved without escalation" KPI reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

DAY = 86_400.0
REOPEN_WINDOW_DAYS = 30


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


S = TicketStatus

TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.OPEN, S.ESCALATED, S.RESOLVED}),
    S.OPEN: frozenset({S.ESCALATED, S.RESOLVED}),
    S.ESCALATED: frozenset({S.OPEN, S.RESOLVED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
}
"""Allowed ``from -> to`` moves; everything else raises :class:`IllegalTicketTransitionError`."""

ACTIVE: frozenset[TicketStatus] = frozenset({S.NEW, S.OPEN, S.ESCALATED})
"""Statuses in which a ticket is still being worked on."""

LINKABLE: frozenset[TicketStatus] = frozenset({S.NEW, S.OPEN, S.ESCALATED, S.RESOLVED})
"""Statuses of a ticket a repeat call is linked to (a resolved one reopens; a closed one is done)."""


class TicketError(Exception):
    """Base of every refusal of the ticket rules."""


class IllegalTicketTransitionError(TicketError):
    """The ticket's status does not allow the requested action."""


class DispositionRequiredError(TicketError):
    """Resolving a ticket or finishing wrap-up needs a disposition code."""


class UnknownDispositionError(TicketError):
    """The disposition code is not one of the hotline file's."""


class MissingTextError(TicketError):
    """A note, an escalation or a reopen needs some words."""


class ReopenWindowClosedError(TicketError):
    """A closed ticket can only be reopened within REOPEN_WINDOW_DAYS of closing."""


def check_transition(ticket_id: int, current: TicketStatus, target: TicketStatus, action: str) -> None:
    """Raise IllegalTicketTransitionError (naming the action and both statuses) unless the table allows it."""
    if target not in TRANSITIONS[current]:
        raise IllegalTicketTransitionError(
            f"ticket {ticket_id}: cannot {action} a ticket that is {current.value} (-> {target.value} not allowed)"
        )


def check_reopen(ticket_id: int, current: TicketStatus, closed_at: float | None, now: float) -> None:
    """Only resolved or closed tickets reopen; closed ones only within the reopen window."""
    check_transition(ticket_id, current, S.OPEN, "reopen")
    if current is S.ESCALATED:
        raise IllegalTicketTransitionError(f"ticket {ticket_id}: an escalated ticket is sent back, not reopened")
    if current is S.CLOSED and closed_at is not None and now - closed_at > REOPEN_WINDOW_DAYS * DAY:
        raise ReopenWindowClosedError(
            f"ticket {ticket_id}: closed more than {REOPEN_WINDOW_DAYS} days ago; open a new ticket instead"
        )


def check_disposition(code: str, known: Mapping[str, bool]) -> bool:
    """Validate a disposition code against the hotline's (code -> resolves); returns whether it resolves."""
    if not code:
        raise DispositionRequiredError("a disposition code is required")
    if code not in known:
        raise UnknownDispositionError(f"unknown disposition {code!r}; known: {', '.join(sorted(known))}")
    return known[code]


def check_resolvable(ticket_id: int, current: TicketStatus, disposition: str) -> None:
    """Resolving needs an allowed transition and a disposition already recorded."""
    check_transition(ticket_id, current, S.RESOLVED, "resolve")
    if not disposition:
        raise DispositionRequiredError(f"ticket {ticket_id}: set a disposition before resolving")


def due_for_auto_close(current: TicketStatus, resolved_at: float | None, now: float, after_days: int) -> bool:
    """A resolved ticket closes by itself ``after_days`` after resolution (0 days: never)."""
    if current is not S.RESOLVED or resolved_at is None or after_days <= 0:
        return False
    return now - resolved_at >= after_days * DAY


def repeat_link_cutoff(call_started: float, repeat_link_days: int) -> float:
    """Earliest last contact of a ticket a new call of the same caller is linked to (0 days: never link)."""
    if repeat_link_days <= 0:
        return float("inf")
    return call_started - repeat_link_days * DAY
