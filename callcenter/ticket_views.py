"""Plain read models of tickets (what services return and the API renders), and the list filter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from callcenter.domain.access import TicketScope
from callcenter.storage.models import Ticket, TicketHistory

MAX_PAGE_SIZE = 100


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """Stored times are UTC; SQLite hands them back naive."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def epoch_or_none(value: dt.datetime | None) -> float | None:
    stamp = aware(value)
    return stamp.timestamp() if stamp is not None else None


@dataclass(frozen=True)
class TicketView:
    id: int
    status: str
    caller: str
    caller_name: str
    channel: str
    subject: str
    topic: str
    language: str
    queue: str
    assigned_group: str
    operator: str
    operators: list[str]
    disposition: str
    notes: str
    escalated: bool
    escalation_reason: str
    solved_by_article_id: int | None
    first_call_id: str
    last_call_id: str
    contact_count: int
    reopened_count: int
    ivr_path: list[str]
    wait_seconds: float | None
    talk_seconds: float | None
    hold_seconds: float | None
    wrapup_seconds: float | None
    recording_url: str
    survey_score: int | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    last_contact_at: dt.datetime | None
    escalated_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None

    @property
    def scope(self) -> TicketScope:
        return TicketScope(self.operator, tuple(self.operators), self.assigned_group, self.status)


_TIMES = ("created_at", "updated_at", "last_contact_at", "escalated_at", "resolved_at", "closed_at")


def ticket_view(ticket: Ticket) -> TicketView:
    values: dict[str, Any] = {name: getattr(ticket, name) for name in TicketView.__dataclass_fields__}
    values.update({name: aware(values[name]) for name in _TIMES})
    values["operators"] = list(ticket.operators or [])
    values["ivr_path"] = list(ticket.ivr_path or [])
    return TicketView(**values)


def scope_of(ticket: Ticket) -> TicketScope:
    return TicketScope(ticket.operator, tuple(ticket.operators or ()), ticket.assigned_group, ticket.status)


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime | None
    actor: str
    action: str
    from_status: str
    to_status: str
    detail: dict[str, Any]


def history_entry(row: TicketHistory) -> HistoryEntry:
    return HistoryEntry(aware(row.at), row.actor, row.action, row.from_status, row.to_status, dict(row.detail))


@dataclass(frozen=True)
class TicketFilter:
    """List filters; every field is optional. ``page`` counts from 1."""

    status: tuple[str, ...] = ()
    queue: str = ""
    operator: str = ""
    caller: str = ""
    assigned_group: str = ""
    escalated: bool | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class Page:
    items: list[TicketView]
    total: int
    page: int
    per_page: int
    extra: dict[str, Any] = field(default_factory=dict)
