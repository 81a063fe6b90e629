"""TicketProjection: every call that reaches the hotline creates or updates its ticket, from the journal.

Run by the JournalWriter in the transaction that stores new events. A call's ticket is found through
``calls.ticket_id``; a call without one is linked to its caller's latest ticket that is not closed and had a
contact within ``tickets.repeat_link_days`` of the call's start (a resolved one reopens: the caller came back),
otherwise it gets a new ticket. ``calls.ticket_id`` of a repeat call therefore points at an older ticket, and
the history row ``repeat_call`` marks it: first-contact resolution reads exactly this link.

The sums of a ticket (waits, talk, hold, wrap-up, contacts) are re-derived from all its calls by one grouped
query per batch, never accumulated, so a replayed or out-of-order journal gives the same ticket. A batch costs
a fixed handful of queries whatever its size (the journal drains thousands of events per second).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from callcenter.domain import ticket as rules
from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.ticket import TicketStatus
from callcenter.hotline import Hotline
from callcenter.storage.models import Call, Ticket, TicketHistory
from callcenter.ticket_views import epoch_or_none
from callcenter.tickets import FIRST_LEVEL, second_level_queue

logger = logging.getLogger(__name__)

S = TicketStatus
E = EventType
_HANDLING = (E.OFFERED, E.CONNECTED)
_SUMS = ("wait_seconds", "talk_seconds", "hold_seconds", "wrapup_seconds")
CallRow = Any  # a row of _CALL_COLUMNS (read-only; the ticket link is written by one bulk UPDATE)
Link = tuple[CallRow, Ticket, str]  # the call, its ticket, "created" | "repeat" | "reopen"
_CALL_COLUMNS = (
    Call.id,
    Call.ticket_id,
    Call.caller,
    Call.caller_name,
    Call.channel,
    Call.topic,
    Call.language,
    Call.queue,
    Call.final_queue,
    Call.ivr_path,
    Call.started_at,
    Call.recording_url,
    Call.survey_score,
)


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def _started(call: CallRow) -> float:
    return epoch_or_none(call.started_at) or 0.0


class History(list[dict[str, Any]]):
    """History rows of one batch, inserted at its end in one statement."""

    def add(self, ticket: Ticket, actor: str, action: str, at: dt.datetime, **detail: Any) -> None:
        """Like tickets.record: ``from_status`` in detail when the action changed the status."""
        before = detail.pop("from_status", ticket.status)
        self.append(
            {
                "ticket_id": ticket.id,
                "at": at,
                "actor": actor,
                "action": action,
                "from_status": before,
                "to_status": ticket.status,
                "detail": detail,
            }
        )


def _last_seen(ticket: Ticket) -> float:
    return epoch_or_none(ticket.last_contact_at or ticket.created_at) or 0.0


class TicketProjection:
    """Creates/updates the tickets of the calls touched by a journal batch."""

    def __init__(self, hotline: Hotline, clock: Callable[[], float]):
        self._link_days = hotline.tickets.repeat_link_days
        self._second_level = second_level_queue(hotline)
        self._clock = clock

    def apply(self, events: Sequence[CallEvent], session: Session) -> None:
        """Project the batch's never-seen events onto their calls' tickets."""
        by_call: dict[str, list[CallEvent]] = defaultdict(list)
        for event in events:
            if event.call_id:
                by_call[event.call_id].append(event)
        if not by_call:
            return
        calls = sorted(_calls(session, list(by_call)), key=lambda c: (_started(c), c.id))
        history = History()
        ticket_of = self._tickets(session, calls, history)
        for call in calls:
            ticket = ticket_of[call.id]
            self._apply_events(history, ticket, call, sorted(by_call[call.id], key=lambda e: (e.ts, e.id)))
        _derive(session, calls, ticket_of, _utc(self._clock()))
        if history:
            session.execute(insert(TicketHistory), history)

    # -- linking ---------------------------------------------------------------------------------------------
    def _tickets(self, session: Session, calls: list[CallRow], history: History) -> dict[str, Ticket]:
        """The ticket of every call: its own, a repeat caller's recent one, or a new one."""
        known_ids = {c.ticket_id for c in calls if c.ticket_id is not None}
        known = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(known_ids)))} if known_ids else {}
        ticket_of = {c.id: known[c.ticket_id] for c in calls if c.ticket_id in known}
        links = self._link(session, [c for c in calls if c.id not in ticket_of])
        session.flush()
        if links:
            session.execute(update(Call), [{"id": call.id, "ticket_id": ticket.id} for call, ticket, _ in links])
        for call, ticket, kind in links:
            ticket_of[call.id] = ticket
            self._record_link(history, call, ticket, kind)
        return ticket_of

    def _link(self, session: Session, unlinked: list[CallRow]) -> list[Link]:
        latest = self._recent_tickets(session, unlinked)
        links: list[Link] = []
        for call in unlinked:
            started = _started(call)
            ticket = latest.get(call.caller) if call.caller else None
            if ticket is not None and _last_seen(ticket) >= rules.repeat_link_cutoff(started, self._link_days):
                kind = "reopen" if ticket.status == S.RESOLVED else "repeat"
            else:
                ticket, kind = _new_ticket(call, started), "created"
                session.add(ticket)
            if started >= _last_seen(ticket):
                ticket.last_contact_at = _utc(started)
            if call.caller:
                latest[call.caller] = ticket
            links.append((call, ticket, kind))
        return links

    def _recent_tickets(self, session: Session, calls: list[CallRow]) -> dict[str, Ticket]:
        """Per caller, the latest linkable ticket seen within the window of the batch's earliest call."""
        callers = sorted({c.caller for c in calls if c.caller})
        if not callers or self._link_days <= 0:
            return {}
        cutoff = _utc(rules.repeat_link_cutoff(min(_started(c) for c in calls), self._link_days))
        last_seen = func.coalesce(Ticket.last_contact_at, Ticket.created_at)
        rows = session.scalars(
            select(Ticket)
            .where(Ticket.caller.in_(callers), Ticket.status.in_(list(rules.LINKABLE)), last_seen >= cutoff)
            .order_by(last_seen.asc(), Ticket.id.asc())
        )
        return {ticket.caller: ticket for ticket in rows}  # ascending: the latest wins

    def _record_link(self, history: History, call: CallRow, ticket: Ticket, kind: str) -> None:
        when = _utc(_started(call))
        if kind == "created":
            history.add(ticket, "system", "created", when, call_id=call.id)
            logger.info("ticket %s created for call %s", ticket.id, call.id)
            return
        history.add(ticket, "system", "repeat_call", when, call_id=call.id)
        logger.info("call %s of a repeat caller linked to ticket %s", call.id, ticket.id)
        if kind == "reopen" and ticket.status == S.RESOLVED:
            ticket.status, ticket.resolved_at = S.OPEN.value, None
            ticket.reopened_count += 1
            history.add(
                ticket,
                "system",
                "reopen",
                when,
                from_status=S.RESOLVED.value,
                reason="repeat_call",
                call_id=call.id,
            )

    # -- what the events say -----------------------------------------------------------------------------------
    def _apply_events(self, history: History, ticket: Ticket, call: CallRow, events: list[CallEvent]) -> None:
        for event in events:
            if event.type in _HANDLING and event.operator:
                _assign(ticket, event.operator)
            if event.type is E.CONNECTED and ticket.status == S.NEW:
                ticket.status = S.OPEN.value
                history.add(
                    ticket,
                    event.operator or "system",
                    "open",
                    _utc(event.ts),
                    from_status=S.NEW.value,
                    call_id=call.id,
                )
            if event.type is E.ESCALATED and ticket.status in (S.NEW, S.OPEN):
                self._escalated_by_call(history, ticket, event)

    def _escalated_by_call(self, history: History, ticket: Ticket, event: CallEvent) -> None:
        """The call itself went to second level (IVR choice or an ACD transfer with escalation)."""
        before = ticket.status
        ticket.status, ticket.escalated = S.ESCALATED.value, True
        ticket.assigned_group = event.queue or self._second_level
        ticket.escalated_at = _utc(event.ts)
        ticket.escalation_reason = ticket.escalation_reason or str(event.data.get("reason", "call escalated"))
        history.add(
            ticket,
            event.operator or "system",
            "escalate",
            _utc(event.ts),
            from_status=before,
            call_id=event.call_id,
            reason=ticket.escalation_reason,
        )


def _calls(session: Session, call_ids: list[str]) -> list[CallRow]:
    return list(session.execute(select(*_CALL_COLUMNS).where(Call.id.in_(call_ids))))


def _new_ticket(call: CallRow, started: float) -> Ticket:
    when = _utc(started)
    return Ticket(
        caller=call.caller,
        caller_name=call.caller_name,
        channel=call.channel,
        subject=_subject(call.topic, call.caller),
        topic=call.topic,
        language=call.language,
        status=S.NEW.value,
        queue=call.final_queue or call.queue,
        assigned_group=FIRST_LEVEL,
        operator="",
        disposition="",
        notes="",
        escalated=False,
        escalation_reason="",
        first_call_id=call.id,
        last_call_id=call.id,
        created_at=when,
        updated_at=when,
        last_contact_at=when,
        operators=[],
        ivr_path=list(call.ivr_path or []),
        contact_count=0,
        reopened_count=0,
        recording_url="",
    )


def _subject(topic: str, caller: str) -> str:
    return f"{topic or 'call'} — {caller or 'unknown caller'}"[:300]


def _assign(ticket: Ticket, operator: str) -> None:
    ticket.operator = operator
    if operator not in (ticket.operators or []):
        ticket.operators = [*(ticket.operators or []), operator]


def _derive(session: Session, calls: list[CallRow], ticket_of: dict[str, Ticket], now: dt.datetime) -> None:
    """Sums over each touched ticket's calls (one grouped query) and the latest call's details."""
    tickets = {t.id: t for t in ticket_of.values()}
    sums = (
        select(Call.ticket_id, func.count(), *(func.sum(getattr(Call, n)) for n in _SUMS), func.max(Call.started_at))
        .where(Call.ticket_id.in_(list(tickets)))
        .group_by(Call.ticket_id)
    )
    latest_start: dict[int, float] = {}
    for ticket_id, count, *values, last_start in session.execute(sums):
        ticket = tickets[ticket_id]
        ticket.contact_count = int(count)
        for name, value in zip(_SUMS, values, strict=True):
            setattr(ticket, name, float(value) if value is not None else None)
        latest_start[ticket_id] = epoch_or_none(last_start) or 0.0
    for call in calls:
        ticket = ticket_of[call.id]
        _take_call_details(ticket, call, latest=_started(call) >= latest_start.get(ticket.id, 0.0))
        ticket.updated_at = now


def _take_call_details(ticket: Ticket, call: CallRow, latest: bool) -> None:
    if call.recording_url:
        ticket.recording_url = call.recording_url
    if call.survey_score is not None:
        ticket.survey_score = call.survey_score
    if not latest:
        return
    auto_subject = ticket.subject == _subject(ticket.topic, ticket.caller)
    ticket.last_call_id = call.id
    for name in ("caller", "caller_name", "channel", "topic", "language"):
        setattr(ticket, name, getattr(call, name) or getattr(ticket, name))
    ticket.queue = call.final_queue or call.queue or ticket.queue
    ticket.ivr_path = list(call.ivr_path or ticket.ivr_path or [])
    if auto_subject:
        ticket.subject = _subject(ticket.topic, ticket.caller)
