"""TicketProjection: every call that reaches the hotline creates or updates its ticket, from the journal.

Run by the JournalWriter in the transaction that stores new events. A call's ticket is found through
``calls.ticket_id``; a call without one is linked to its caller's latest ticket that is not closed and had a
contact within ``tickets.repeat_link_days`` of the call's start (a resolved one reopens: the caller came back),
otherwise it gets a new ticket. ``calls.ticket_id`` of a repeat call therefore points at an older ticket, and
the history row ``repeat_call`` marks it: first-contact resolution reads exactly this link.

The figures of the ticket (waits, talk, hold, wrap-up, contacts) are re-derived from all its calls each time,
never accumulated, so a replayed or out-of-order journal gives the same ticket.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.domain import ticket as rules
from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.ticket import TicketStatus
from callcenter.hotline import Hotline
from callcenter.storage.models import Call, Ticket
from callcenter.tickets import FIRST_LEVEL, record, second_level_queue

logger = logging.getLogger(__name__)

S = TicketStatus
E = EventType
_HANDLING = (E.OFFERED, E.CONNECTED)


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


class TicketProjection:
    """Creates/updates the ticket of each call touched by a journal batch."""

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
        for call_id in sorted(by_call):
            self._project(session, call_id, sorted(by_call[call_id], key=lambda e: (e.ts, e.id)))

    def _project(self, session: Session, call_id: str, events: list[CallEvent]) -> None:
        call = session.scalars(select(Call).where(Call.id == call_id).execution_options(populate_existing=True)).first()
        if call is None:
            return
        ticket = session.get(Ticket, call.ticket_id) if call.ticket_id is not None else None
        if ticket is None:
            ticket = self._link_or_create(session, call)
        self._apply_events(session, ticket, call, events)
        _derive(session, ticket, call)
        ticket.updated_at = _utc(self._clock())

    def _link_or_create(self, session: Session, call: Call) -> Ticket:
        started = _started(call)
        ticket = self._repeat_target(session, call.caller, started)
        if ticket is None:
            ticket = _new_ticket(call, started)
            session.add(ticket)
            session.flush()
            record(session, ticket, "system", "created", _utc(started), call_id=call.id)
            logger.info("ticket %s created for call %s", ticket.id, call.id)
        else:
            record(session, ticket, "system", "repeat_call", _utc(started), call_id=call.id)
            if ticket.status == S.RESOLVED:
                self._reopen_for_repeat(session, ticket, call, started)
            logger.info("call %s of a repeat caller linked to ticket %s", call.id, ticket.id)
        call.ticket_id = ticket.id
        return ticket

    def _repeat_target(self, session: Session, caller: str, started: float) -> Ticket | None:
        if not caller:
            return None
        cutoff = _utc(rules.repeat_link_cutoff(started, self._link_days)) if self._link_days > 0 else None
        if cutoff is None:
            return None
        last_seen = func.coalesce(Ticket.last_contact_at, Ticket.created_at)
        return session.scalars(
            select(Ticket)
            .where(Ticket.caller == caller, Ticket.status.in_(list(rules.LINKABLE)), last_seen >= cutoff)
            .order_by(last_seen.desc(), Ticket.id.desc())
            .limit(1)
        ).first()

    def _reopen_for_repeat(self, session: Session, ticket: Ticket, call: Call, started: float) -> None:
        ticket.status, ticket.resolved_at = S.OPEN.value, None
        ticket.reopened_count += 1
        record(
            session,
            ticket,
            "system",
            "reopen",
            _utc(started),
            from_status=S.RESOLVED.value,
            reason="repeat_call",
            call_id=call.id,
        )

    def _apply_events(self, session: Session, ticket: Ticket, call: Call, events: list[CallEvent]) -> None:
        for event in events:
            if event.type in _HANDLING and event.operator:
                _assign(ticket, event.operator)
            if event.type is E.CONNECTED and ticket.status == S.NEW:
                ticket.status = S.OPEN.value
                record(
                    session,
                    ticket,
                    event.operator or "system",
                    "open",
                    _utc(event.ts),
                    from_status=S.NEW.value,
                    call_id=call.id,
                )
            if event.type is E.ESCALATED and ticket.status in (S.NEW, S.OPEN):
                self._escalated_by_call(session, ticket, event)

    def _escalated_by_call(self, session: Session, ticket: Ticket, event: CallEvent) -> None:
        """The call itself went to second level (IVR choice or an ACD transfer with escalation)."""
        before = ticket.status
        ticket.status, ticket.escalated = S.ESCALATED.value, True
        ticket.assigned_group = event.queue or self._second_level
        ticket.escalated_at = _utc(event.ts)
        ticket.escalation_reason = ticket.escalation_reason or str(event.data.get("reason", "call escalated"))
        record(
            session,
            ticket,
            event.operator or "system",
            "escalate",
            _utc(event.ts),
            from_status=before,
            call_id=event.call_id,
            reason=ticket.escalation_reason,
        )


def _started(call: Call) -> float:
    stamp = call.started_at
    if stamp is None:
        return 0.0
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).timestamp()


def _new_ticket(call: Call, started: float) -> Ticket:
    when = _utc(started)
    subject = f"{call.topic or 'call'} — {call.caller or 'unknown caller'}"
    return Ticket(
        caller=call.caller,
        caller_name=call.caller_name,
        channel=call.channel,
        subject=subject[:300],
        topic=call.topic,
        language=call.language,
        status=S.NEW.value,
        queue=call.queue,
        assigned_group=FIRST_LEVEL,
        operator="",
        disposition="",
        notes="",
        escalated=False,
        escalation_reason="",
        first_call_id=call.id,
        created_at=when,
        updated_at=when,
        operators=[],
        ivr_path=[],
        contact_count=0,
        reopened_count=0,
        recording_url="",
    )


def _assign(ticket: Ticket, operator: str) -> None:
    ticket.operator = operator
    if operator not in (ticket.operators or []):
        ticket.operators = [*(ticket.operators or []), operator]


def _derive(session: Session, ticket: Ticket, current: Call) -> None:
    """Everything that sums or takes the latest over the ticket's calls."""
    session.flush()
    calls = session.scalars(select(Call).where(Call.ticket_id == ticket.id).order_by(Call.started_at)).all()
    ticket.contact_count = len(calls)
    ticket.last_call_id = calls[-1].id if calls else current.id
    ticket.last_contact_at = max((c.started_at for c in calls if c.started_at), default=None)
    for name in ("wait_seconds", "talk_seconds", "hold_seconds", "wrapup_seconds"):
        values = [getattr(c, name) for c in calls if getattr(c, name) is not None]
        setattr(ticket, name, sum(values) if values else None)
    latest = calls[-1] if calls else current
    for name in ("caller", "caller_name", "channel", "topic", "language"):
        setattr(ticket, name, getattr(latest, name) or getattr(ticket, name))
    ticket.queue = latest.final_queue or latest.queue or ticket.queue
    ticket.ivr_path = list(latest.ivr_path or ticket.ivr_path or [])
    ticket.recording_url = next((c.recording_url for c in reversed(calls) if c.recording_url), "")
    ticket.survey_score = next((c.survey_score for c in reversed(calls) if c.survey_score is not None), None)
    if ticket.subject.startswith(" — ") or ticket.subject.startswith("call — "):
        ticket.subject = f"{ticket.topic or 'call'} — {ticket.caller or 'unknown caller'}"[:300]
